"""What each team holds, summed from planned resources: the one implementation the policy packs and
`kfvs plan`'s totals share.

VMs count their vCPU, memory, passthrough GPUs and disks; VM Service VMs and node pools count
replicas x their VM class; Kubeflow profiles count their quota (a grant in the shared cluster).

Each amount is also kept by source, because the sources live in different files: the profile quota,
the team's own GPU node pool and its GPU VMs come from its team file (stacks/teams/<team>.yaml), pools
and VMs the stack assigns to the team from the stack file (stacks/Pulumi.<stack>.yaml). GPUs no team owns
(a shared node pool, a platform VM) are kept apart, also from the stack file: they count against the
environment's GPUs, not against any team.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from policies.conventions import TEAM_EXTRA_CONFIG, TEAM_LABEL

VM = "vsphere:index/virtualMachine:VirtualMachine"
VM_CLASS = "vsphere:index/virtualMachineClass:VirtualMachineClass"
VM_SERVICE_VM = "kubernetes:vmoperator.vmware.com/v1alpha3:VirtualMachine"
CAPI_CLUSTER = "kubernetes:cluster.x-k8s.io/v1beta1:Cluster"
TKC = "kubernetes:run.tanzu.vmware.com/v1alpha3:TanzuKubernetesCluster"
PROFILE = "kubernetes:kubeflow.org/v1:Profile"

METERED_TYPES = frozenset({VM, VM_CLASS, VM_SERVICE_VM, CAPI_CLUSTER, TKC, PROFILE})
"""Every type `plan_usage` reads."""
METERED_OUTPUT = "meteredResources"
"""The infra layer's export of its metered resources' inputs, read by the platform layer (infra/metering.py)."""
STACK_REFERENCE = "pulumi:pulumi:StackReference"

PROFILE_QUOTA = "profile"
NODE_POOL = "nodePool"
GPU_VMS = "gpuVms"
STACK_POOLS = "stackPools"
SOURCES = (PROFILE_QUOTA, NODE_POOL, GPU_VMS, STACK_POOLS)
"""Where a team's usage comes from, in the order people read them."""
SOURCE_NAMES = {
    PROFILE_QUOTA: "profile quota",
    NODE_POOL: "GPU node pool",
    GPU_VMS: "GPU VMs",
    STACK_POOLS: "stack-level pools",
}
TEAM_FILE_SOURCES = frozenset({PROFILE_QUOTA, NODE_POOL, GPU_VMS})
"""Sources a team file declares; the rest are declared in the stack file."""

TEAM_POOL_PREFIX = "team-"
"""The program names the node pool a team file asks for `team-<team>` (infra/team_specs.py; a test keeps them equal)."""
TEAM_GPU_VMS_SUFFIX = "-gpu-vms"
"""The program names a team file's GPU VMs `<stack>-<team>-gpu-vms-<i>` (infra/platform.py; a test keeps them equal)."""


@dataclass(frozen=True)
class Resource:
    """A planned resource as policies see it."""

    type: str
    urn: str
    props: Mapping[str, Any]


@dataclass
class Usage:
    """Capacity held, and the VM classes and vGPU profiles it is held on."""

    vcpu: float = 0
    memory_gib: float = 0
    gpus: int = 0
    storage_gib: float = 0
    vm_classes: set[str] = field(default_factory=set[str])
    vgpu_profiles: set[str] = field(default_factory=set[str])
    sources: dict[str, Usage] = field(default_factory=dict[str, "Usage"])
    """The same, per source (SOURCES); empty on a per-source Usage itself."""

    def add(
        self, vcpu: float = 0, memory_gib: float = 0, gpus: int = 0, storage_gib: float = 0, source: str = ""
    ) -> None:
        for held in self._and_source(source):
            held.vcpu += vcpu
            held.memory_gib += memory_gib
            held.gpus += gpus
            held.storage_gib += storage_gib

    def use(self, vm_class: str, profiles: Iterable[str], source: str = "") -> None:
        """Record that capacity is held on `vm_class` (and its vGPU profiles)."""
        profiles = list(profiles)
        for held in self._and_source(source):
            held.vm_classes.add(vm_class)
            held.vgpu_profiles.update(profiles)

    def _and_source(self, source: str) -> list[Usage]:
        if not source:
            return [self]
        return [self, self.sources.setdefault(source, Usage())]

    def sources_of(self, measure: Callable[[Usage], Any]) -> dict[str, Any]:
        """The sources (in SOURCES order) where `measure` is non-zero or non-empty, with its value there."""
        found = {s: measure(self.sources[s]) for s in SOURCES if s in self.sources}
        return {s: v for s, v in found.items() if v}


@dataclass
class PlanUsage:
    """What the plan holds: per team, and the GPUs no team owns (shared node pools, platform VMs), which count
    against the environment's GPUs all the same. `unowned` is GPUs by what runs them (`node pool gpu-a100`)."""

    teams: dict[str, Usage] = field(default_factory=lambda: defaultdict(Usage))
    unowned: dict[str, int] = field(default_factory=dict[str, int])

    def unowned_gpus(self, what: str, gpus: float) -> None:
        if gpus:
            self.unowned[what] = self.unowned.get(what, 0) + int(gpus)

    def total_gpus(self) -> int:
        """Every GPU the environment is asked for: the teams' (as their budgets count them) and no team's."""
        return int(sum(u.gpus for u in self.teams.values())) + sum(self.unowned.values())


def plan_usage(resources: Iterable[Resource]) -> PlanUsage:
    """Usage per team and the unowned GPUs, over every kind of resource that holds capacity."""
    resources = list(resources)
    classes = {str(r.props.get("name")): r.props for r in resources if r.type == VM_CLASS}
    plan = PlanUsage()
    for r in resources:
        _METERS.get(r.type, _nothing)(r, classes, plan)
    plan.teams = dict(plan.teams)
    return plan


def referenced(resources: Iterable[Resource]) -> list[Resource]:
    """The other layer's metered resources, as its StackReference's outputs carry them (infra/metering.py)."""
    found: list[Resource] = []
    for r in resources:
        if r.type != STACK_REFERENCE:
            continue
        outputs = r.props.get("outputs")
        items = outputs.get(METERED_OUTPUT) if isinstance(outputs, Mapping) else None
        # pulumi_policy hands lists over as a Sequence proxy, not a list.
        for item in items if isinstance(items, Sequence) and not isinstance(items, str) else []:
            if isinstance(item, Mapping) and isinstance(item.get("props"), Mapping):
                found.append(Resource(str(item.get("type")), str(item.get("urn")), item["props"]))
    return found


def team_usage(resources: Iterable[Resource]) -> dict[str, Usage]:
    """Usage per team, over every kind of resource that holds capacity."""
    return plan_usage(resources).teams


def _nothing(_r: Resource, _classes: Mapping[str, Mapping[str, Any]], _plan: PlanUsage) -> None:
    return None


def _class_gpus(classes: Mapping[str, Mapping[str, Any]], name: Any, replicas: Any = 1) -> float:
    return len((classes.get(str(name)) or {}).get("vgpuDevices") or []) * int(_num(replicas))


def _vm(r: Resource, _classes: Mapping[str, Mapping[str, Any]], plan: PlanUsage) -> None:
    team = (r.props.get("extraConfig") or {}).get(TEAM_EXTRA_CONFIG)
    gpus = len(r.props.get("pciDeviceIds") or [])
    if team is None:
        plan.unowned_gpus(f"VM {r.props.get('name')}", gpus)
        return
    disks = r.props.get("disks") or []
    plan.teams[str(team)].add(
        vcpu=_num(r.props.get("numCpus")),
        memory_gib=_num(r.props.get("memory")) / 1024,
        gpus=gpus,
        storage_gib=sum(_num(d.get("size")) for d in disks),
        source=STACK_POOLS,
    )


def _on_class(
    usage: Usage,
    classes: Mapping[str, Mapping[str, Any]],
    name: Any,
    replicas: Any,
    *,
    source: str,
    storage: float = 0,
) -> None:
    cls = classes.get(str(name), {})
    count = int(_num(replicas))
    profiles = [str(p) for p in cls.get("vgpuDevices") or []]
    usage.add(
        vcpu=_num(cls.get("cpus")) * count,
        memory_gib=_num(cls.get("memory")) / 1024 * count,
        gpus=len(profiles) * count,
        storage_gib=storage * count,
        source=source,
    )
    usage.use(str(name), profiles, source)


def _vm_service_vm(r: Resource, classes: Mapping[str, Mapping[str, Any]], plan: PlanUsage) -> None:
    team = _labels(r.props).get(TEAM_LABEL)
    if team is None:
        name = (r.props.get("metadata") or {}).get("name")
        plan.unowned_gpus(f"VM {name}", _class_gpus(classes, (r.props.get("spec") or {}).get("className")))
        return
    pool, _, index = str((r.props.get("metadata") or {}).get("name") or "").rpartition("-")
    own = index.isdigit() and pool.endswith(f"-{team}{TEAM_GPU_VMS_SUFFIX}")
    source = GPU_VMS if own else STACK_POOLS
    _on_class(plan.teams[str(team)], classes, (r.props.get("spec") or {}).get("className"), 1, source=source)


def _pool_source(pool: Any, team: Any) -> str:
    return NODE_POOL if str(pool) == f"{TEAM_POOL_PREFIX}{team}" else STACK_POOLS


def _cluster_api(r: Resource, classes: Mapping[str, Mapping[str, Any]], plan: PlanUsage) -> None:
    topology = (r.props.get("spec") or {}).get("topology") or {}
    for md in (topology.get("workers") or {}).get("machineDeployments") or []:
        overrides = {o.get("name"): o.get("value") for o in (md.get("variables") or {}).get("overrides") or []}
        labels = {lbl.get("key"): lbl.get("value") for lbl in overrides.get("nodePoolLabels") or []}
        team = labels.get(TEAM_LABEL)
        if team is None:
            plan.unowned_gpus(
                f"node pool {md.get('name')}", _class_gpus(classes, overrides.get("vmClass"), md.get("replicas"))
            )
            continue
        disks = sum(gib((v.get("capacity") or {}).get("storage")) for v in overrides.get("nodePoolVolumes") or [])
        source = _pool_source(md.get("name"), team)
        _on_class(
            plan.teams[str(team)], classes, overrides.get("vmClass"), md.get("replicas"), source=source, storage=disks
        )


def _tkc(r: Resource, classes: Mapping[str, Mapping[str, Any]], plan: PlanUsage) -> None:
    for pool in ((r.props.get("spec") or {}).get("topology") or {}).get("nodePools") or []:
        team = (pool.get("labels") or {}).get(TEAM_LABEL)
        if team is None:
            plan.unowned_gpus(
                f"node pool {pool.get('name')}", _class_gpus(classes, pool.get("vmClass"), pool.get("replicas"))
            )
            continue
        disks = sum(gib((v.get("capacity") or {}).get("storage")) for v in pool.get("volumes") or [])
        source = _pool_source(pool.get("name"), team)
        _on_class(
            plan.teams[str(team)], classes, pool.get("vmClass"), pool.get("replicas"), source=source, storage=disks
        )


def _profile(r: Resource, _classes: Mapping[str, Mapping[str, Any]], plan: PlanUsage) -> None:
    team = _labels(r.props).get(TEAM_LABEL) or (r.props.get("metadata") or {}).get("name")
    hard = ((r.props.get("spec") or {}).get("resourceQuotaSpec") or {}).get("hard") or {}
    plan.teams[str(team)].add(
        vcpu=cpu_cores(hard.get("requests.cpu")),
        memory_gib=gib(hard.get("requests.memory")),
        gpus=int(_num(hard.get("requests.nvidia.com/gpu"))),
        storage_gib=gib(hard.get("requests.storage")),
        source=PROFILE_QUOTA,
    )


_METERS = {VM: _vm, VM_SERVICE_VM: _vm_service_vm, CAPI_CLUSTER: _cluster_api, TKC: _tkc, PROFILE: _profile}


def _labels(props: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = props.get("metadata") or {}
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    return labels if isinstance(labels, Mapping) else {}


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|m|k|M|G|T)?$")
_GIB = {
    "Ki": 1 / 1024**2,
    "Mi": 1 / 1024,
    "Gi": 1.0,
    "Ti": 1024.0,
    "k": 1e3 / 1024**3,
    "M": 1e6 / 1024**3,
    "G": 1e9 / 1024**3,
    "T": 1e12 / 1024**3,
    None: 1 / 1024**3,
}


def gib(quantity: Any) -> float:
    """A Kubernetes quantity of bytes (`128Gi`, `1Ti`, `500M`) in GiB; 0 when unreadable."""
    match = _QUANTITY.match(str(quantity if quantity is not None else "0"))
    if match is None or match.group(2) == "m":
        return 0.0
    return float(match.group(1)) * _GIB[match.group(2)]


def cpu_cores(quantity: Any) -> float:
    """A Kubernetes CPU quantity (`32`, `500m`) in cores."""
    text = str(quantity if quantity is not None else "0")
    if text.endswith("m"):
        return _num(text[:-1]) / 1000
    return _num(text)
