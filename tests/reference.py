"""Upstream schemas from ../shared/reference, read in place (never copied into the project)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import paths

REFERENCE = paths.PROJECT_ROOT.parent / "shared" / "reference"


def crd_schema(file: str, version: str) -> dict[str, Any]:
    """The openAPIV3Schema of one served version of a CRD; skips, saying why, when the file is absent."""
    path: Path = REFERENCE / "crds" / file
    if not path.is_file():
        pytest.skip(f"upstream CRD {path} is absent: ../shared/reference must sit beside the checkout")
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    for served in document["spec"]["versions"]:
        if served["name"] == version and served.get("served"):
            schema: dict[str, Any] = served["schema"]["openAPIV3Schema"]
            return schema
    raise AssertionError(f"{file} does not serve {version}")


FREE_FORM = {"istiod": ("meshConfig",), "gateway": ("labels",)}
"""Free-form maps of a chart: Istio's MeshConfig, and the gateway's labels for all its resources."""


def unknown_values_keys(chart: str, version: str, values: Any) -> list[str]:
    """Key paths of `values` that the chart's reference values.yaml does not have (free-form maps excepted)."""
    path = REFERENCE / "helm-values" / f"{chart}-{version}-values.yaml"
    if not path.is_file():
        return [f"(no reference values for {chart} {version})"] if values else []
    reference = yaml.safe_load(path.read_text()) or {}
    reference = reference.get("_internal_defaults_do_not_set", reference)
    return [
        ".".join(keys)
        for keys in _paths(values or {})
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
