"""Names the program derives from what users write: each fits its limit, and no two inputs derive the same one.

Checked where the user writes the name, before anything is registered: a derived name that is too long
would otherwise fail deep in a component (after other resources were registered), and two inputs that
derive one name would be one resource to the engine (a duplicate URN) or one object to vCenter or the API
server (the second silently replacing the first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.tenancy import kfam_name
from infra.errors import Problem
from infra.models.cluster import ClusterSettings
from infra.models.inventory import VsphereSettings
from infra.models.kubeflow import KubeflowSettings
from infra.models.team import Team
from infra.team_specs import team_pool_name, team_vms_name

VM_NAME_MAX = 63
"""A VM's name is its guest hostname (cloud-init `local-hostname`) and, for VM Service VMs, a DNS label."""
LABEL_NAME_MAX = 63
"""The name part of a Kubernetes label key."""
BINDING_NAME_MAX = 253
"""A RoleBinding's (and its AuthorizationPolicy's) name."""
_VSPHERE = "kubeflow-vsphere:vsphere"
_CLUSTERS = "kubeflow-vsphere:clusters"


@dataclass(frozen=True)
class Origin:
    """Where a derived name comes from, as a message names it."""

    file: str
    key: str
    what: str

    def __str__(self) -> str:
        return f"{self.what} ({self.file}: {self.key})"


class _Claims:
    """Derived names in one name space; the second input deriving a name gets a Problem naming the first."""

    def __init__(
        self, space: str, template: str = "{what} derives the {space} '{name}', as does {first}: {fix}"
    ) -> None:
        self.space = space
        self.template = template
        self.owners: dict[str, Origin] = {}
        self.problems: list[Problem] = []

    def claim(self, name: str, origin: Origin, fix: str = "rename one of them") -> bool:
        """False (and a Problem) when another input derived `name` already."""
        first = self.owners.setdefault(name, origin)
        if first is origin or (first.file, first.key) == (origin.file, origin.key):
            return True
        message = self.template.format(what=origin.what, space=self.space, name=name, first=first, fix=fix)
        self.problems.append(Problem(origin.file, origin.key, message))
        return False


def check_derived_names(
    stack: str,
    *,
    vs: VsphereSettings,
    clusters: Sequence[ClusterSettings],
    kf: KubeflowSettings | None,
    teams: Sequence[Team],
    team_files: Mapping[str, str],
    stack_file: str,
) -> list[Problem]:
    """VM names (plain VMs, the VMs of pools and of teams' GPU VMs) short enough and unique; the pools teams
    ask for (GPU VMs, GPU node pools) named unlike the stack's own."""
    problems: list[Problem] = []
    vms, pools = _Claims("VM name"), _Claims("pool name")
    for i, vm in enumerate(vs.vms):
        origin = Origin(stack_file, f"{_VSPHERE}.vms[{i}].name", f"VM '{vm.name}'")
        vms.claim(vm.name, origin)
        pools.owners.setdefault(vm.name, origin)  # check_vsphere keeps the stack's VM and pool names apart
    for i, pool in enumerate(vs.gpu_pools):
        origin = Origin(stack_file, f"{_VSPHERE}.gpuPools[{i}].name", f"pool '{pool.name}'")
        if pools.owners.setdefault(pool.name, origin) is origin:
            problems += _pool_vms(vms, pool.name, pool.replicas, origin)
        problems += _like_team_vms(stack, pool.name, pool.team, teams, origin)
    for team in teams:
        request = team.environments.get(stack)
        if request is None or request.gpu_vms is None:
            continue
        name = team_vms_name(team.name, stack)
        origin = Origin(team_files[team.name], f"environments.{stack}.gpuVms", f"team '{team.name}''s GPU VMs")
        if pools.claim(name, origin):
            problems += _pool_vms(vms, name, request.gpu_vms.replicas, origin)
    problems += _team_node_pools(
        stack, clusters=clusters, kf=kf, teams=teams, team_files=team_files, stack_file=stack_file
    )
    return problems + pools.problems + vms.problems


def _team_node_pools(
    stack: str,
    *,
    clusters: Sequence[ClusterSettings],
    kf: KubeflowSettings | None,
    teams: Sequence[Team],
    team_files: Mapping[str, str],
    stack_file: str,
) -> list[Problem]:
    """A team's GPU node pool joins the Kubeflow cluster's pools: its name must not be one the stack declares."""
    index = next((i for i, c in enumerate(clusters) if kf is not None and c.name == kf.cluster), None)
    if index is None:
        return []
    claims = _Claims("node pool name")
    problems: list[Problem] = []
    for j, pool in enumerate(clusters[index].node_pools):
        key = f"{_CLUSTERS}[{index}].nodePools[{j}].name"
        claims.owners.setdefault(pool.name, Origin(stack_file, key, f"pool '{pool.name}'"))  # check_clusters'
        problems += _stack_node_pool(pool.name, pool.gpu and pool.team is None, stack_file, key)
    for team in teams:
        request = team.environments.get(stack)
        if request is not None and request.gpu_node_pool is not None:
            key = f"environments.{stack}.gpuNodePool"
            claims.claim(team_pool_name(team.name), Origin(team_files[team.name], key, f"team '{team.name}''s pool"))
    return problems + claims.problems


def _stack_node_pool(name: str, shared_gpu: bool, file: str, key: str) -> list[Problem]:
    """`team-*` names are the pools team files ask for (usage is attributed to a team by that name); a shared
    GPU pool's PodDefault selects on the label `gpu-<pool>` (components/tenancy.py), a 63-character name."""
    if name.startswith(team_pool_name("")):
        return [
            Problem(
                file,
                key,
                f"'{name}' looks like a team's own GPU pool ({team_pool_name('<team>')}, asked for in the team's file) "
                "and would count against that team: pick another name",
            )
        ]
    selector = f"gpu-{name}"
    if shared_gpu and len(selector) > LABEL_NAME_MAX:
        return [
            Problem(
                file,
                key,
                f"a shared GPU pool's PodDefault label '{selector}' has {len(selector)} characters, at most "
                f"{LABEL_NAME_MAX}: shorten the pool's name",
            )
        ]
    return []


def _like_team_vms(stack: str, name: str, owner: str | None, teams: Sequence[Team], origin: Origin) -> list[Problem]:
    """A stack pool named like another team's GPU VMs would be counted as that team's (policies/usage.py)."""
    other = next((t.name for t in teams if name == team_vms_name(t.name, stack) and t.name != owner), None)
    if other is None:
        return []
    return [
        Problem(
            origin.file,
            origin.key,
            f"{origin.what} is named like team '{other}''s GPU VMs ({team_vms_name('<team>', stack)}, asked for in "
            "a team's file) and would count against that team: pick another name",
        )
    ]


def _pool_vms(vms: _Claims, pool: str, replicas: int, origin: Origin) -> list[Problem]:
    """A pool's VMs are `<pool>-0` .. `<pool>-<replicas-1>` (components/vsphere/gpu_pool.py)."""
    longest = f"{pool}-{replicas - 1}"
    if len(longest) > VM_NAME_MAX:
        return [
            Problem(
                origin.file,
                origin.key,
                f"{origin.what} names its VMs up to '{longest}' ({len(longest)} characters); VM names are "
                f"host names of at most {VM_NAME_MAX}: shorten the name",
            )
        ]
    for i in range(replicas):
        vms.claim(f"{pool}-{i}", Origin(origin.file, origin.key, f"VM {i} of {origin.what}"))
    return []


def check_team_identity(team: Team, file: str) -> list[Problem]:
    """Each person once, and no two deriving one KFAM RoleBinding (the second would replace it)."""
    people = _Claims("person", "{what} is listed already, as {first}: {fix}")
    bindings = _Claims("KFAM RoleBinding")
    fix = "the cluster would keep one binding for both; give one of them access another way"
    problems: list[Problem] = []
    entries = [(f"owners[{i}]", e, "admin" if i else None) for i, e in enumerate(team.owners)]
    entries += [(f"members.users[{i}]", e, "edit") for i, e in enumerate(team.members.users)]
    for key, email, role in entries:
        origin = Origin(file, key, f"'{email}'")
        if not people.claim(email.lower(), origin, "list each person once") or role is None:
            continue
        binding = kfam_name(email, role)
        problems += _binding_length(binding, origin)
        bindings.claim(binding, origin, fix)
    return problems + people.problems + bindings.problems


def _binding_length(binding: str, origin: Origin) -> list[Problem]:
    if len(binding) <= BINDING_NAME_MAX:
        return []
    return [
        Problem(
            origin.file,
            origin.key,
            f"{origin.what} derives a RoleBinding name of {len(binding)} characters; at most {BINDING_NAME_MAX}",
        )
    ]
