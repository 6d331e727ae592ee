"""Per-team totals: what each team holds in vCPU, memory, GPUs and storage.

A resource counts for a team when it carries the team's mark: the team's vSphere tag on a VM,
the team label on a Kubernetes object. Each resource type that holds capacity has a meter here;
a VM Service VM holds what its VM class gives it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from components.labels import TEAM_LABEL, is_team_tag_category
from infra.kfvs.recorder import Registration

_TAG = "vsphere:index/tag:Tag"
_TAG_CATEGORY = "vsphere:index/tagCategory:TagCategory"
_VM_CLASS = "vsphere:index/virtualMachineClass:VirtualMachineClass"


@dataclass(frozen=True)
class Usage:
    """Capacity one resource holds."""

    vcpu: float = 0
    memory_gib: float = 0
    gpus: int = 0
    storage_gib: float = 0


Owner = Callable[[Registration], str | None]
Classes = dict[str, dict[str, Any]]
"""VM class inputs by class name: what a VM Service VM of that class holds."""


def _vsphere_vm(r: Registration, _classes: Classes) -> Usage:
    inputs = r.inputs
    disks = inputs.get("disks") or []
    return Usage(
        vcpu=float(inputs.get("numCpus", 0)),
        memory_gib=float(inputs.get("memory", 0)) / 1024,
        gpus=len(inputs.get("pciDeviceIds") or []),
        storage_gib=float(sum(d.get("size", 0) for d in disks)),
    )


def _vm_service_vm(r: Registration, classes: Classes) -> Usage:
    spec = r.inputs.get("spec") or {}
    cls = classes.get(str(spec.get("className")), {})
    return Usage(
        vcpu=float(cls.get("cpus", 0)),
        memory_gib=float(cls.get("memory", 0)) / 1024,
        gpus=len(cls.get("vgpuDevices") or []),
    )


def _class_usage(classes: Classes, name: object, replicas: object) -> Usage:
    cls = classes.get(str(name), {})
    count = int(replicas) if isinstance(replicas, (int, float)) else 0
    return Usage(
        vcpu=float(cls.get("cpus", 0)) * count,
        memory_gib=float(cls.get("memory", 0)) / 1024 * count,
        gpus=len(cls.get("vgpuDevices") or []) * count,
    )


def _cluster_api_pools(r: Registration, classes: Classes) -> list[tuple[str | None, Usage]]:
    """Node pools of a ClusterClass cluster: replicas x the size of the pool's VM class, for the pool's team."""
    deployments = (((r.inputs.get("spec") or {}).get("topology") or {}).get("workers") or {}).get("machineDeployments")
    out: list[tuple[str | None, Usage]] = []
    for md in deployments or []:
        overrides = {o.get("name"): o.get("value") for o in (md.get("variables") or {}).get("overrides") or []}
        labels = {lbl.get("key"): lbl.get("value") for lbl in overrides.get("nodePoolLabels") or []}
        volumes = sum(_gib(v.get("capacity", {}).get("storage")) for v in overrides.get("nodePoolVolumes") or [])
        usage = _class_usage(classes, overrides.get("vmClass"), md.get("replicas"))
        usage = Usage(usage.vcpu, usage.memory_gib, usage.gpus, volumes * int(md.get("replicas") or 0))
        out.append((labels.get(TEAM_LABEL), usage))
    return out


def _tkc_pools(r: Registration, classes: Classes) -> list[tuple[str | None, Usage]]:
    pools = ((r.inputs.get("spec") or {}).get("topology") or {}).get("nodePools") or []
    out: list[tuple[str | None, Usage]] = []
    for pool in pools:
        usage = _class_usage(classes, pool.get("vmClass"), pool.get("replicas"))
        volumes = sum(_gib(v.get("capacity", {}).get("storage")) for v in pool.get("volumes") or [])
        usage = Usage(usage.vcpu, usage.memory_gib, usage.gpus, volumes * int(pool.get("replicas") or 0))
        out.append(((pool.get("labels") or {}).get(TEAM_LABEL), usage))
    return out


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)?$")
_GIB_PER_UNIT = {"Ki": 1 / 1024**2, "Mi": 1 / 1024, "Gi": 1.0, "Ti": 1024.0, None: 1 / 1024**3}


def _gib(quantity: object) -> float:
    """A Kubernetes binary quantity (`200Gi`, `1Ti`) in GiB; 0 for what it cannot read."""
    match = _QUANTITY.match(str(quantity or "0"))
    return float(match.group(1)) * _GIB_PER_UNIT[match.group(2)] if match else 0.0


METERS: dict[str, Callable[[Registration, Classes], Usage]] = {
    "vsphere:index/virtualMachine:VirtualMachine": _vsphere_vm,
    "kubernetes:vmoperator.vmware.com/v1alpha3:VirtualMachine": _vm_service_vm,
}
"""What each capacity-holding resource type counts for, owned as the resource is."""

POOL_METERS: dict[str, Callable[[Registration, Classes], list[tuple[str | None, Usage]]]] = {
    "kubernetes:cluster.x-k8s.io/v1beta1:Cluster": _cluster_api_pools,
    "kubernetes:run.tanzu.vmware.com/v1alpha3:TanzuKubernetesCluster": _tkc_pools,
}
"""Resources whose parts belong to different teams: each node pool is owned by its team label."""


def team_totals(registrations: Sequence[Registration], teams: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Sum each team's usage; every known team appears, even with nothing yet."""
    owner = owner_index(registrations)
    classes = {str(r.inputs.get("name")): r.inputs for r in registrations if r.type == _VM_CLASS}
    sums: dict[str, Usage] = {team: Usage() for team in teams}
    for r in registrations:
        parts = POOL_METERS[r.type](r, classes) if r.type in POOL_METERS else []
        if r.type in METERS:
            parts = [(owner(r), METERS[r.type](r, classes))]
        for team, usage in parts:
            if team is not None:
                sums[team] = _add(sums.get(team, Usage()), usage)
    return {team: _as_json(usage) for team, usage in sorted(sums.items())}


def owner_index(registrations: Sequence[Registration]) -> Owner:
    """A function telling which team owns a resource (None for the platform's own)."""
    categories = {r.id: r.inputs.get("name") for r in registrations if r.type == _TAG_CATEGORY}
    team_tags = {
        r.id: str(r.inputs.get("name"))
        for r in registrations
        if r.type == _TAG and is_team_tag_category(str(categories.get(str(r.inputs.get("categoryId")))))
    }

    def owner(r: Registration) -> str | None:
        for tag in r.inputs.get("tags") or []:
            if tag in team_tags:
                return team_tags[tag]
        metadata = r.inputs.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        team = labels.get(TEAM_LABEL) if isinstance(labels, dict) else None
        return str(team) if team is not None else None

    return owner


def _add(a: Usage, b: Usage) -> Usage:
    return Usage(a.vcpu + b.vcpu, a.memory_gib + b.memory_gib, a.gpus + b.gpus, a.storage_gib + b.storage_gib)


def _as_json(u: Usage) -> dict[str, Any]:
    return {"vcpu": _num(u.vcpu), "memoryGiB": _num(u.memory_gib), "gpus": u.gpus, "storageGiB": _num(u.storage_gib)}


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)
