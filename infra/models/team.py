"""A team file: who the team is. Later sections say what it asks for per environment."""

from __future__ import annotations

from pydantic import Field

from infra.models.base import DnsLabel, Email, Model, Name


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
    """People and directory groups who work in the team's namespace."""

    users: list[Email] = Field(default_factory=list[str])
    groups: list[Name] = Field(default_factory=list[str])


class Team(Model):
    """One team, one file; the name becomes its Kubeflow profile and namespace."""

    name: DnsLabel
    display_name: Name | None = None
    owners: list[Email] = Field(min_length=1)
    members: Members = Field(default_factory=Members)
    environments: dict[DnsLabel, TeamEnvironment] = Field(default_factory=dict[str, TeamEnvironment])
