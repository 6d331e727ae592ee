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
