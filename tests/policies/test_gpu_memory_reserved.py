"""`gpu-memory-reserved`: passthrough VMs and vGPU VM classes reserve all their memory."""

from __future__ import annotations

import pytest

from tests.policies.cases import Case, changed, gpu_vm, messages, vm_class
from tests.policies.conftest import Judge

POLICY = "gpu-memory-reserved"
CLASS = "gpu-a100-40c-16x128"

CASES = [
    Case(
        "a passthrough VM reserving part of its memory",
        changed(gpu_vm("vision", reserved=1024, name="vm-vision", protect=True)),
        ["GPU passthrough VM reserves 1024 of 65536 MiB; reserve all of it"],
    ),
    Case(
        "a passthrough VM reserving nothing",
        changed(gpu_vm("vision", reserved=0, name="vm-vision", protect=True)),
        ["GPU passthrough VM reserves 0 of 65536 MiB; reserve all of it"],
    ),
    Case(
        "a passthrough VM locked to its maximum",
        changed(gpu_vm("vision", 0, name="vm-vision", protect=True, inputs={"memoryReservationLockedToMax": True})),
    ),
    Case(
        "a VM without a GPU",
        changed(gpu_vm("vision", reserved=0, name="vm-vision", protect=True, inputs={"pciDeviceIds": []})),
    ),
    Case(
        "a vGPU class reserving half",
        changed(vm_class(CLASS, 16, 131072, ["grid_a100-40c"], reservation=50)),
        ["vGPU VM class reserves 50% of memory; vGPU needs 100"],
    ),
    Case("a class without vGPU", changed(vm_class(CLASS, 16, 131072, [], reservation=0))),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages
