"""A team file: who the team is. Later sections say what it asks for per environment."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field

from infra.models.base import DnsLabel, Email, Model, Name

PLATFORM_NAMESPACES = frozenset(
    {
        # Kubernetes' own.
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        # What this program creates (components/kubeflow, components/services).
        "auth",
        "cert-manager",
        "emissary",
        "emissary-system",
        "gpu-operator",
        "istio-system",
        "kubeflow",
        "mlrun",
        "monitoring",
        "monitoring-node-exporter",
        "nuclio",
        "oauth2-proxy",
        "pachyderm",
        "seldon-mesh",
        # What the kubeflow/manifests 26.03 overlays it applies create.
        "jobset-system",
        "knative-eventing",
        "knative-serving",
        "kserve",
        "kubeflow-system",
        "kubeflow-user-example-com",
        "lws-system",
        "notebook-controller-system",
        "tensorboard-controller-system",
        # The Supervisor's and TKG's own namespaces in a workload cluster.
        "tkg-system",
        "vmware-system-auth",
        "vmware-system-csi",
        "vmware-system-cloud-provider",
    }
)
"""Namespaces a team's profile must never take: the owner of a Profile becomes admin of its namespace.

tests/test_bad_input_names.py checks this set against every Namespace, chart and kustomize namespace the
program plans for each example stack, so a component that adds a namespace without adding it here fails."""
RESERVED_TEAM_PREFIXES = ("kube-", "vmware-system-", "svc-", "openshift-")
"""Prefixes Kubernetes, the vSphere Supervisor (its services run in `svc-*`) and distributions keep."""
TEAM_FILE_SUFFIX = ".yaml"
TEAM_DERIVED_NAMES = {
    "namespace and Profile": "{team}",
    "team GPU node pool": "team-{team}",
    "PodDefault and selector label": "gpu-team-{team}",
}
"""Names the program derives from a team's name that are DNS labels (63 characters): see infra/team_specs.py
(`team_pool_name`) and components/tenancy.py (PodDefault `gpu-<pool>`)."""
TEAM_NAME_MAX = 63 - max(len(p.format(team="")) for p in TEAM_DERIVED_NAMES.values())
"""The longest team name whose every derived name still fits in a DNS label (54)."""
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def team_name_problem(name: str) -> str | None:
    """Why `name` cannot be a team's name, or None: THE team naming rule (team files, `kfvs team new`).

    A DNS label short enough for every name derived from it, and none of the platform's or Kubernetes'
    own namespaces (a team's owner administers the namespace named after the team).
    """
    if not _DNS_LABEL.fullmatch(name):
        return (
            f"{name!r} is not a team name: use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    if len(name) > TEAM_NAME_MAX:
        longest = max(TEAM_DERIVED_NAMES.items(), key=lambda kv: len(kv[1]))
        return (
            f"'{name}' has {len(name)} characters; team names have at most {TEAM_NAME_MAX} so that its "
            f"{longest[0]} '{longest[1].format(team=name)}' fits in 63: shorten it"
        )
    if name in PLATFORM_NAMESPACES:
        return f"'{name}' is a namespace the platform or Kubernetes uses itself; pick a name of the team's own"
    prefix = next((p for p in RESERVED_TEAM_PREFIXES if name.startswith(p)), None)
    if prefix is not None:
        return f"'{name}' starts with '{prefix}', kept for system namespaces; pick a name of the team's own"
    return None


def team_file_name(team: str) -> str:
    """The file a team lives in, under stacks/teams/ (its name inside must be the same)."""
    return f"{team}{TEAM_FILE_SUFFIX}"


def team_file_problem(file_name: str) -> str | None:
    """Why an entry of stacks/teams/ is not a team file (only `<team>.yaml` files may be there), or None."""
    stem = file_name.removesuffix(TEAM_FILE_SUFFIX)
    if file_name == stem:
        return (
            f"'{file_name}' is not a team file: stacks/teams/ holds only <team>{TEAM_FILE_SUFFIX} files; "
            "move or delete it"
        )
    problem = team_name_problem(stem)
    if problem is not None:
        return f"the file name is no team's: {problem}"
    return None


def _team_name(value: str) -> str:
    problem = team_name_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


TeamName = Annotated[str, AfterValidator(_team_name)]

GROUPS_UNSUPPORTED = (
    "directory groups are not supported: KFAM v1.10.0 (Kubeflow 26.03) grants access to users only and the "
    "Kubeflow web apps' access review sends the user, not the groups, so a group would reach nothing; "
    "list the people under members.users"
)
"""Why `members.groups` is refused: no end-to-end group mechanism exists in the Kubeflow 26.03 this deploys."""


def _no_groups(_value: object) -> None:
    raise ValueError(GROUPS_UNSUPPORTED)


class ProfileQuota(Model):
    """What the team's Kubeflow profile may request in the shared cluster (its ResourceQuota)."""

    cpu: int = Field(ge=0, le=100_000)
    memory_gib: int = Field(ge=0, le=1_000_000)
    gpus: int = Field(default=0, ge=0, le=10_000)
    storage_gib: int = Field(default=0, ge=0, le=10_000_000)
    volumes: int = Field(default=10, ge=0, le=100_000)


class NotebookDefaults(Model):
    """Requests given to containers that declare none (the LimitRange), so pods start under the quota."""

    cpu: float = Field(default=0.5, gt=0, le=256)
    memory_gib: float = Field(default=1, gt=0, le=4096)
    cpu_limit: float = Field(default=2, gt=0, le=256)
    memory_limit_gib: float = Field(default=4, gt=0, le=4096)


class TeamProfile(Model):
    """The team's Kubeflow profile in one environment."""

    quota: ProfileQuota
    notebook_defaults: NotebookDefaults = Field(default_factory=NotebookDefaults)


class TeamGpuNodePool(Model):
    """A GPU node pool of the team's own in the environment's Kubeflow cluster (tainted for the team)."""

    vm_class: DnsLabel
    replicas: int = Field(ge=1, le=1000)


class TeamGpuVms(Model):
    """GPU VMs (VM Service VMs on a vGPU class) for the team, outside Kubernetes."""

    namespace: DnsLabel
    vm_class: DnsLabel
    image: DnsLabel
    storage_class: DnsLabel
    replicas: int = Field(ge=1, le=1000)


class TeamEnvironment(Model):
    """What the team asks for in one environment; the platform's budgets live in the policy packs."""

    profile: TeamProfile | None = None
    gpu_node_pool: TeamGpuNodePool | None = None
    gpu_vms: TeamGpuVms | None = None


class Members(Model):
    """People who work in the team's namespace (edit); directory groups are refused, see `GROUPS_UNSUPPORTED`."""

    users: list[Email] = Field(default_factory=list[str])
    # Named so that a team file with `groups:` gets the reason and the fix, not "unknown key".
    groups: Annotated[None, BeforeValidator(_no_groups)] = Field(default=None, exclude=True)


class Team(Model):
    """One team, one file; the name becomes its Kubeflow profile and namespace."""

    name: TeamName
    display_name: Name | None = None
    owners: list[Email] = Field(min_length=1)
    members: Members = Field(default_factory=Members)
    environments: dict[DnsLabel, TeamEnvironment] = Field(default_factory=dict[str, TeamEnvironment])
