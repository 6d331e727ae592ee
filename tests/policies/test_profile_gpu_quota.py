"""`profile-gpu-quota`: every Kubeflow profile states its GPUs in its quota."""

from __future__ import annotations

import pytest

from tests.policies.cases import Case, changed, messages, profile
from tests.policies.conftest import Judge

POLICY = "profile-gpu-quota"

CASES = [
    Case(
        "a profile without the GPU key",
        changed(profile("recsys", gpus=None, protect=True)),
        [
            "profile 'recsys' has no quota key requests.nvidia.com/gpu: every profile states its GPUs (0 is fine)",
        ],
    ),
    Case("zero GPUs is a statement", changed(profile("recsys", gpus="0", protect=True))),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages
