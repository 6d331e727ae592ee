"""Passthrough device allocation: never a device twice, never past a host's devices, spread first."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.vsphere.allocation import HostDevices, allocate, capacity

_hosts = st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=5).map(
    lambda counts: [
        HostDevices(host=f"esx-{i}", devices=tuple(f"0000:{d:02x}:00.0" for d in range(n)))
        for i, n in enumerate(counts)
    ]
)


@given(hosts=_hosts, replicas=st.integers(min_value=1, max_value=12), per_vm=st.integers(min_value=1, max_value=4))
def test_allocation_never_reuses_or_oversubscribes(hosts: list[HostDevices], replicas: int, per_vm: int) -> None:
    if capacity(hosts, per_vm) < replicas:
        with pytest.raises(ValueError, match=f"asks for {replicas} VMs x {per_vm} GPUs"):
            allocate(hosts, replicas, per_vm)
        return
    placements = allocate(hosts, replicas, per_vm)
    assert len(placements) == replicas
    given_out = [(p.host, d) for p in placements for d in p.devices]
    assert len(given_out) == len(set(given_out)) == replicas * per_vm
    owned = {(h.host, d) for h in hosts for d in h.devices}
    assert set(given_out) <= owned


def test_spreads_across_hosts_before_filling_one() -> None:
    hosts = [
        HostDevices(host="a", devices=("0000:01:00.0", "0000:02:00.0")),
        HostDevices(host="b", devices=("0000:01:00.0", "0000:02:00.0")),
    ]
    assert [p.host for p in allocate(hosts, 2, 1)] == ["a", "b"]
    assert [p.host for p in allocate(hosts, 3, 1)] == ["a", "b", "a"]


def test_shortfall_message_names_hosts_and_numbers() -> None:
    hosts = [HostDevices(host="esx-1", devices=("0000:01:00.0", "0000:02:00.0", "0000:03:00.0"))]
    with pytest.raises(ValueError, match=r"3 VMs x 2 GPUs = 6 GPUs, but its hosts esx-1 \(3 GPUs\) carry room for 1"):
        allocate(hosts, 3, 2)
