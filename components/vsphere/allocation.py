"""Which passthrough GPUs each VM of a pool gets: whole devices of one host, never one twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class HostDevices:
    """A GPU host and the PCI addresses of its passthrough GPUs."""

    host: str
    devices: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class GpuAssignment:
    """One VM's host and the passthrough devices of it the VM is given (where the VM runs is its `Placement`)."""

    host: str
    devices: tuple[str, ...]


def capacity(hosts: Sequence[HostDevices], per_vm: int) -> int:
    """How many VMs with `per_vm` GPUs each the hosts can carry (a VM's GPUs share one host)."""
    return sum(len(h.devices) // per_vm for h in hosts)


def allocate(hosts: Sequence[HostDevices], replicas: int, per_vm: int) -> list[GpuAssignment]:
    """Spread VMs across hosts first, then fill; raise ValueError when the hosts are too small."""
    if capacity(hosts, per_vm) < replicas:
        raise ValueError(shortfall(hosts, replicas, per_vm))
    slots = [
        (index, order, GpuAssignment(host=h.host, devices=h.devices[index * per_vm : (index + 1) * per_vm]))
        for order, h in enumerate(hosts)
        for index in range(len(h.devices) // per_vm)
    ]
    slots.sort(key=lambda s: (s[0], s[1]))
    return [assignment for _, _, assignment in slots[:replicas]]


def shortfall(hosts: Sequence[HostDevices], replicas: int, per_vm: int) -> str:
    """What was asked and what the hosts carry, in numbers a reader can check."""
    carried = ", ".join(f"{h.host} ({len(h.devices)} GPUs)" for h in hosts)
    return (
        f"asks for {replicas} VMs x {per_vm} GPUs = {replicas * per_vm} GPUs, but its hosts {carried} "
        f"carry room for {capacity(hosts, per_vm)} such VMs ({sum(len(h.devices) for h in hosts)} GPUs); "
        "lower replicas or gpusPerVm, or list more hosts"
    )
