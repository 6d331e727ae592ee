"""What the teams ask for in this environment, turned into the pieces the components take."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

from components.labels import ENVIRONMENT_LABEL, TEAM_LABEL
from components.tenancy import GpuPoolAccess, Quota, TenancyArgs
from infra.models.cluster import ClusterSettings, NodePool, Taint
from infra.models.team import Team


def team_pool_name(team: str) -> str:
    """The node pool a team owns in the Kubeflow cluster."""
    return f"team-{team}"


def team_node_pools(teams: tuple[Team, ...], stack: str) -> list[NodePool]:
    """One tainted GPU pool per team that asks for one here; only that team's notebooks tolerate it."""
    pools = []
    for team in teams:
        request = team.environments.get(stack)
        if request is None or request.gpu_node_pool is None:
            continue
        pools.append(
            NodePool(
                name=team_pool_name(team.name),
                replicas=request.gpu_node_pool.replicas,
                vm_class=request.gpu_node_pool.vm_class,
                gpu=True,
                team=team.name,
                taints=[Taint(key=TEAM_LABEL, value=team.name, effect="NoSchedule")],
            )
        )
    return pools


def tenancy_args(
    team: Team,
    stack: str,
    cluster: ClusterSettings,
    provider: pulumi.ProviderResource,
    depends_on: Sequence[pulumi.Resource],
) -> TenancyArgs | None:
    """The team's profile here, or None when it asks for none."""
    request = team.environments.get(stack)
    if request is None or request.profile is None:
        return None
    quota, defaults = request.profile.quota, request.profile.notebook_defaults
    shared = [GpuPoolAccess(p.name) for p in cluster.node_pools if p.gpu and p.team is None]
    own = (
        [GpuPoolAccess(team_pool_name(team.name), {"key": TEAM_LABEL, "value": team.name, "effect": "NoSchedule"})]
        if request.gpu_node_pool
        else []
    )
    return TenancyArgs(
        team=team.name,
        owner=team.owners[0],
        admins=team.owners[1:],
        editors=team.members.users,
        groups=team.members.groups,
        quota=Quota(quota.cpu, quota.memory_gib, quota.gpus, quota.storage_gib, quota.volumes),
        default_request={"cpu": _cpu(defaults.cpu), "memory": _gib(defaults.memory_gib)},
        default_limit={"cpu": _cpu(defaults.cpu_limit), "memory": _gib(defaults.memory_limit_gib)},
        gpu_pools=[*own, *shared],
        provider=provider,
        labels={ENVIRONMENT_LABEL: stack},
        depends_on=depends_on,
    )


def _cpu(cores: float) -> str:
    return f"{round(cores * 1000)}m"


def _gib(gib: float) -> str:
    return f"{round(gib * 1024)}Mi"
