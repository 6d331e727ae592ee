"""What the teams ask for in this environment, turned into the pieces the components take."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pydantic import ValidationError

from components.kubeflow.spawner import pools_for
from components.labels import ENVIRONMENT_LABEL, TEAM_LABEL
from components.tenancy import Quota, TenancyArgs
from infra.errors import Problem
from infra.models.cluster import ClusterSettings, NodePool, Taint
from infra.models.compute import VgpuPool, VmClassSettings
from infra.models.inventory import VsphereSettings
from infra.models.kubeflow import KubeflowSettings
from infra.models.team import Team
from infra.notebook_specs import gpu_pool_offers


def team_pool_name(team: str) -> str:
    """The node pool a team owns in the Kubeflow cluster."""
    return f"team-{team}"


def team_vms_name(team: str, stack: str) -> str:
    """The GPU VM pool a team owns in a stack (the name its VMs have carried since the first release).

    infra/name_checks.py derives the same name to check its length and uniqueness.
    """
    return f"{stack}-{team}-gpu-vms"


@dataclass(frozen=True)
class Resolved:
    """The stack's clusters and vSphere section with every team's pools added, or why they cannot be."""

    clusters: tuple[ClusterSettings, ...]
    vsphere: VsphereSettings
    problems: list[Problem] = field(default_factory=list[Problem])


def resolve_team_requests(
    teams: Sequence[Team],
    files: Mapping[str, str],
    *,
    stack: str,
    clusters: Sequence[ClusterSettings],
    vsphere: VsphereSettings,
    kubeflow: KubeflowSettings | None,
) -> Resolved:
    """Each team's GPU node pool joins the Kubeflow cluster, each team's GPU VMs join `vsphere.gpuPools`.

    Done once, in settings, so a team's VMs are built whether or not the stack runs Kubeflow.
    """
    problems: list[Problem] = []
    node_pools: list[NodePool] = []
    vm_pools: list[VgpuPool] = []
    for team in teams:
        request = team.environments.get(stack)
        if request is None:
            continue
        key = f"environments.{stack}"
        try:
            if request.gpu_node_pool is not None:
                node_pools.append(_node_pool(team, request.gpu_node_pool.vm_class, request.gpu_node_pool.replicas))
            if request.gpu_vms is not None:
                vms = request.gpu_vms
                vm_pools.append(
                    VgpuPool(
                        mode="vgpu",
                        name=team_vms_name(team.name, stack),
                        team=team.name,
                        replicas=vms.replicas,
                        namespace=vms.namespace,
                        vm_class=vms.vm_class,
                        image=vms.image,
                        storage_class=vms.storage_class,
                    )
                )
        except ValidationError:
            problems.append(
                Problem(files[team.name], key, f"team name '{team.name}' is too long for its pool names: shorten it")
            )
    # Clashes of these names with the stack's own are infra/name_checks.py's to report.
    kf_cluster = kubeflow.cluster if kubeflow is not None else None
    resolved_clusters = [
        c.model_copy(update={"node_pools": [*c.node_pools, *node_pools]}) if c.name == kf_cluster and node_pools else c
        for c in clusters
    ]
    return Resolved(
        tuple(resolved_clusters),
        vsphere.model_copy(update={"gpu_pools": [*vsphere.gpu_pools, *vm_pools]}),
        problems,
    )


def _node_pool(team: Team, vm_class: str, replicas: int) -> NodePool:
    """A tainted GPU pool of the team's own; only that team's notebooks tolerate it."""
    return NodePool(
        name=team_pool_name(team.name),
        replicas=replicas,
        vm_class=vm_class,
        gpu=True,
        team=team.name,
        taints=[Taint(key=TEAM_LABEL, value=team.name, effect="NoSchedule")],
    )


def tenancy_args(
    team: Team,
    stack: str,
    cluster: ClusterSettings,
    provider: pulumi.ProviderResource,
    depends_on: Sequence[pulumi.Resource],
    *,
    vm_classes: Sequence[VmClassSettings] = (),
) -> TenancyArgs | None:
    """The team's profile here, or None when it asks for none; a PodDefault per GPU pool of `cluster` it may use,
    described by the VM classes."""
    request = team.environments.get(stack)
    if request is None or request.profile is None:
        return None
    quota, defaults = request.profile.quota, request.profile.notebook_defaults
    pools = pools_for(gpu_pool_offers(cluster, vm_classes), team.name)
    return TenancyArgs(
        team=team.name,
        owner=team.owners[0],
        admins=team.owners[1:],
        editors=team.members.users,
        quota=Quota(
            cpu=quota.cpu,
            memory_gib=quota.memory_gib,
            gpus=quota.gpus,
            storage_gib=quota.storage_gib,
            volumes=quota.volumes,
        ),
        default_request={"cpu": _cpu(defaults.cpu), "memory": _gib(defaults.memory_gib)},
        default_limit={"cpu": _cpu(defaults.cpu_limit), "memory": _gib(defaults.memory_limit_gib)},
        gpu_pools=pools,
        provider=provider,
        labels={ENVIRONMENT_LABEL: stack},
        depends_on=depends_on,
    )


def _cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def _gib(gib: float) -> str:
    return f"{round(gib * 1024)}Mi"
