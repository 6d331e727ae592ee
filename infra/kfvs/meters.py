"""Per-team totals: what each team holds in vCPU, memory, GPUs and storage.

A resource counts for a team when it carries the team's mark: the team's vSphere tag on a VM,
the team label on a Kubernetes object. Each resource type that holds capacity has a meter here;
a VM Service VM holds what its VM class gives it.
"""

from __future__ import annotations

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


METERS: dict[str, Callable[[Registration, Classes], Usage]] = {
    "vsphere:index/virtualMachine:VirtualMachine": _vsphere_vm,
    "kubernetes:vmoperator.vmware.com/v1alpha3:VirtualMachine": _vm_service_vm,
}
"""What each capacity-holding resource type counts for."""


def team_totals(registrations: Sequence[Registration], teams: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Sum each team's usage; every known team appears, even with nothing yet."""
    owner = owner_index(registrations)
    classes = {str(r.inputs.get("name")): r.inputs for r in registrations if r.type == _VM_CLASS}
    sums: dict[str, Usage] = {team: Usage() for team in teams}
    for r in registrations:
        fn = METERS.get(r.type)
        team = owner(r)
        if fn is None or team is None:
            continue
        sums[team] = _add(sums.get(team, Usage()), fn(r, classes))
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
