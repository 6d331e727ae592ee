"""`charts-pinned`: a Helm chart needs an exact version, a remote kustomize directory a tag."""

from __future__ import annotations

from typing import Any

import pytest

from infra.kfvs.recorder import Recording
from tests.policies.cases import CHART, KUSTOMIZE, Case, changed, messages, reg
from tests.policies.conftest import Judge

POLICY = "charts-pinned"
MANIFESTS = "https://github.com/kubeflow/manifests/apps"


def _chart(type_: str = CHART, **inputs: Any) -> Recording:
    return changed(reg(type_, "dex", {"chart": "dex", **inputs}))


def _directory(directory: str) -> Recording:
    return changed(reg(KUSTOMIZE, "pinned", {"directory": directory}))


CASES = [
    Case("a floating tag", _chart(version="latest"), ["chart 'dex' is not pinned to an exact version (got 'latest')"]),
    Case("no version", _chart(), ["chart 'dex' is not pinned to an exact version (got 'none')"]),
    Case("a range", _chart(version="~1.30"), ["chart 'dex' is not pinned to an exact version (got '~1.30')"]),
    Case("two parts", _chart(version="1.30"), ["chart 'dex' is not pinned to an exact version (got '1.30')"]),
    Case(
        "a Helm v3 Release",
        _chart("kubernetes:helm.sh/v3:Release", version="1.x"),
        ["chart 'dex' is not pinned to an exact version (got '1.x')"],
    ),
    Case("a pre-release is exact", _chart(version="v2.41.1-rc.1")),
    Case(
        "a remote directory without a ref",
        _directory(MANIFESTS),
        [f"kustomize directory '{MANIFESTS}' is not pinned to a tag (?ref=<tag>)"],
    ),
    Case(
        "a branch as the ref",
        _directory(f"{MANIFESTS}?ref=master"),
        [f"kustomize directory '{MANIFESTS}?ref=master' is not pinned to a tag (?ref=<tag>)"],
    ),
    Case(
        "HEAD as the ref",
        _directory(f"{MANIFESTS}?ref=HEAD"),
        [f"kustomize directory '{MANIFESTS}?ref=HEAD' is not pinned to a tag (?ref=<tag>)"],
    ),
    Case(
        "an ssh remote without a ref",
        _directory("git@github.com:kubeflow/manifests.git//apps"),
        ["kustomize directory 'git@github.com:kubeflow/manifests.git//apps' is not pinned to a tag (?ref=<tag>)"],
    ),
    Case("a directory in the repository needs no ref", _directory("manifests/overlays/prod")),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages
