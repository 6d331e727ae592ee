"""`stateful-resources-protected`: what holds state is protected where the stack's config enforces it (prod)."""

from __future__ import annotations

import pytest

from infra.kfvs.recorder import Recording
from policies.usage import CAPI_CLUSTER, PROFILE, VM
from tests.policies.cases import CONTENT_LIBRARY, Case, changed, gpu_vm, messages, pool_cluster, profile, reg
from tests.policies.conftest import Judge

POLICY = "stateful-resources-protected"
_LIBRARY = reg(CONTENT_LIBRARY, "lib", {"name": "tkr"})

CASES = [
    Case(
        "a content library",
        changed(_LIBRARY),
        [f"{CONTENT_LIBRARY} 'lib' holds state: protect it in this environment"],
    ),
    Case(
        "a GPU VM",
        changed(gpu_vm("vision", reserved=65536, name="vm-vision")),
        [f"{VM} 'vm-vision' holds state: protect it in this environment"],
    ),
    Case(
        "a workload cluster",
        changed(pool_cluster("nlp", "gpu-a100-40c-16x128", 1)),
        [f"{CAPI_CLUSTER} 'cluster' holds state: protect it in this environment"],
    ),
    Case(
        "a Kubeflow profile",
        changed(profile("recsys")),
        [f"{PROFILE} 'profile-recsys' holds state: protect it in this environment"],
    ),
    Case("not enforced in dev", Recording("kubeflow-vsphere", "dev", changed(_LIBRARY).resources)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages
