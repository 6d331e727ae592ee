"""The Kubeflow dependency graph as the plan records it: which components wait for which."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.kubeflow.dependencies import longest_chain

_PREFIX = "kubeflow-vsphere:kubeflow:"
_PLATFORM = f"{_PREFIX}KubeflowPlatform"


@dataclass(frozen=True)
class Chain:
    """One Kubeflow installation: its components and its longest run of prerequisites."""

    platform: str
    components: list[str]
    longest: list[str]


def kubeflow_chains(resources: list[dict[str, Any]]) -> list[Chain]:
    """Edges come from recorded dependencies: a component waits for another when any of its
    resources depends on a resource of the other."""
    by_urn = {r["urn"]: r for r in resources}
    owner = {urn: _component_of(urn, by_urn) for urn in by_urn}
    chains = []
    for platform in (r for r in resources if r["type"] == _PLATFORM):
        members = [r for r in resources if r["parent"] == platform["urn"] and r["type"].startswith(_PREFIX)]
        edges: dict[str, set[str]] = {m["name"]: set() for m in members}
        for urn, comp in owner.items():
            if comp is None or comp not in edges:
                continue
            for dep in by_urn[urn]["dependencies"]:
                target = owner.get(dep)
                if target is not None and target != comp and target in edges:
                    edges[comp].add(target)
        chains.append(Chain(platform["name"], sorted(edges), longest_chain(edges)))
    return chains


def _component_of(urn: str, by_urn: dict[str, dict[str, Any]]) -> str | None:
    """The name of the Kubeflow component a resource belongs to (itself or an ancestor)."""
    current: str | None = urn
    while current is not None and current in by_urn:
        resource = by_urn[current]
        if resource["type"].startswith(_PREFIX) and resource["type"] != _PLATFORM:
            return str(resource["name"])
        current = resource["parent"]
    return None


def describe(chain: Chain) -> str:
    """One line for the plan: the chain and how it compares with a serial install."""
    steps = " -> ".join(name.removeprefix(f"{chain.platform}-") for name in chain.longest)
    return (
        f"{chain.platform}: {len(chain.components)} components; longest dependency chain "
        f"{len(chain.longest)} ({steps}); upstream's serial install: {len(chain.components)} steps"
    )
