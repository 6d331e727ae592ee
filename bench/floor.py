"""The floor: the plan's own resources (types, names, parents, inputs, dependencies, providers), registered
bare under the same mocks, after importing the same provider SDK modules: what the Pulumi SDK alone costs."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import pulumi

from infra.kfvs.recorder import Recording, Registration, record

_PROVIDER = "pulumi:providers:"


class _Typed(pulumi.CustomResource):
    """Shaped like a generated SDK class (its own `__init__` over CustomResource's): the SDK records a
    source stack trace only for such classes, so a bare CustomResource would skip a cost every typed
    resource of the plan pays."""

    def __init__(self, type_: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(type_, name, props, opts)


def manifest(resources: list[Registration], modules: list[str]) -> dict[str, Any]:
    """What the floor replays, in registration order (parents and dependencies come first)."""
    return {
        "modules": modules,
        "resources": [
            {
                "urn": r.urn,
                "type": r.type,
                "name": r.name,
                "custom": r.custom,
                "remote": r.remote,
                "parent": r.parent,
                "inputs": r.inputs,
                "dependencies": list(r.dependencies),
                "provider": r.provider.rpartition("::")[0] if r.provider else None,
            }
            for r in resources
            if r.type != "pulumi:pulumi:Stack"
        ],
    }


def _register(entry: dict[str, Any], made: dict[str, pulumi.Resource]) -> pulumi.Resource:
    provider = made.get(entry["provider"] or "")
    opts = pulumi.ResourceOptions(
        parent=made.get(entry["parent"] or ""),
        depends_on=[made[d] for d in entry["dependencies"] if d in made],
        provider=provider if isinstance(provider, pulumi.ProviderResource) else None,
    )
    type_, name, inputs = entry["type"], entry["name"], entry["inputs"]
    if type_.startswith(_PROVIDER):
        return pulumi.ProviderResource(type_.removeprefix(_PROVIDER), name, inputs, opts)
    if entry["custom"]:
        return _Typed(type_, name, inputs, opts)
    if entry["remote"]:
        return pulumi.ComponentResource(type_, name, inputs, opts, remote=True)
    component = pulumi.ComponentResource(type_, name, None, opts)
    component.register_outputs({})
    return component


def main(path: Path) -> Recording:
    """Import the plan's provider SDK modules, then register its resources bare."""
    replay = json.loads(path.read_text())
    for module in replay["modules"]:
        importlib.import_module(module)

    def program() -> None:
        made: dict[str, pulumi.Resource] = {}
        for entry in replay["resources"]:
            made[entry["urn"]] = _register(entry, made)

    return record(program, "kubeflow-vsphere", "dev", {}, frozenset())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
