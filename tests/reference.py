"""Upstream data vendored under tests/fixtures/upstream (sources, tags and licences in its README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from infra import paths
from tests import yamlio

REFERENCE = paths.PROJECT_ROOT / "tests" / "fixtures" / "upstream"


def crd_schema(file: str, version: str) -> dict[str, Any]:
    """The openAPIV3Schema of one served version of a vendored CRD."""
    path: Path = REFERENCE / "crds" / file
    document = yamlio.load(path.read_text(encoding="utf-8"))
    for served in document["spec"]["versions"]:
        if served["name"] == version and served.get("served"):
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"{file} does not serve {version}")


def chart_values(chart: str, version: str) -> dict[str, Any]:
    """A pinned chart's own values.yaml, vendored; a missing file is a test failure, not a skip."""
    path = REFERENCE / "helm-values" / f"{chart}-{version}-values.yaml"
    assert path.is_file(), f"no vendored values for {chart} {version}: add {path.relative_to(paths.PROJECT_ROOT)}"
    reference: dict[str, Any] = yamlio.load(path.read_text(encoding="utf-8")) or {}
    return reference


def manifests_paths() -> set[str]:
    """Every file path of kubeflow/manifests at the pinned tag."""
    return set((REFERENCE / "kubeflow-manifests-26.03" / "paths.txt").read_text(encoding="utf-8").split())


FREE_FORM = {"istiod": ("meshConfig",), "gateway": ("labels",)}
"""Free-form maps of a chart: Istio's MeshConfig, and the gateway's labels for all its resources."""


def unknown_values_keys(chart: str, version: str, values: Any) -> list[str]:
    """Key paths of `values` that the chart's reference values.yaml does not have (free-form maps excepted)."""
    if not values:
        return []
    reference = chart_values(chart, version)
    reference = reference.get("_internal_defaults_do_not_set", reference)
    return [
        ".".join(keys)
        for keys in _paths(values)
        if keys and keys[0] not in FREE_FORM.get(chart, ()) and not _exists(reference, keys)
    ]


def _paths(values: Any, prefix: tuple[str, ...] = ()) -> list[list[str]]:
    if not isinstance(values, dict) or not values:
        return [list(prefix)]
    return [p for k, v in values.items() for p in _paths(v, (*prefix, k))]


def _exists(reference: Any, path: list[str]) -> bool:
    node = reference
    for part in path:
        if isinstance(node, dict) and not node:
            return True  # a free-form map in the chart
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
