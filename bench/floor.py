"""The floor: the same number of resources of the same types, registered bare under the same mocks."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pulumi

from infra.kfvs.recorder import record


def main(manifest: Path) -> None:
    """Register one bare resource per (type, custom) entry of a plan's manifest."""
    entries = json.loads(manifest.read_text())

    def program() -> None:
        for i, (type_, custom) in enumerate(entries):
            if custom:
                pulumi.CustomResource(type_, f"r{i}", {})
            else:
                pulumi.ComponentResource(type_, f"r{i}", None, None)

    record(program, "kubeflow-vsphere", "dev", {}, frozenset())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
