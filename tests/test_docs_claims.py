"""What the README says about vSphere where no offline check is possible: stated plainly, and the wrong claims of
earlier versions (a host lookup that "validates" GPUs, a TKR library bound per namespace) do not come back."""

from __future__ import annotations

import re

import pytest

from infra import paths

DOCS = ("README.md", "docs/ARCHITECTURE.md", "docs/LAYERS.md", "CONTRIBUTING.md")


def _text(name: str) -> str:
    return re.sub(r"\s+", " ", (paths.PROJECT_ROOT / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "statement",
    [
        # get_host_pci_device returns one device or nothing and reports no passthrough state.
        "whether the listed PCI addresses are NVIDIA GPUs set to passthrough is not checked",
        # A GPU in passthrough mode cannot back vGPU profiles: not checkable from config, so said.
        "a device set to passthrough cannot back vGPU profiles at the same time",
        # The Supervisor reads TKRs from its own library, not from a namespace's.
        "the Supervisor reads TKRs from the one library set on the Supervisor itself",
    ],
)
def test_the_readme_states_what_config_cannot_check(statement: str) -> None:
    assert statement in _text("README.md")


@pytest.mark.parametrize(
    "claim",
    [
        r"asks (it|each host) for an NVIDIA",
        r"wrong host fails the preview because",
        r"get_host_pci_device\S* (validates|checks) ",
        r"\.get\S* (waits|will wait) for (its )?depends_on",
        r"builtin-generic-v3\.[2-9]\S* (also )?(takes|uses|defines) the legacy variables",
    ],
)
def test_no_document_repeats_a_wrong_claim(claim: str) -> None:
    for name in DOCS:
        assert not re.search(claim, _text(name), re.IGNORECASE), f"{name} claims /{claim}/"
