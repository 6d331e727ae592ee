"""Which Kubeflow components need which: read from the components' declarations (registry.py), used by settings
checks and by the platform."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from components.kubeflow.registry import COMPONENTS

DEPENDENCIES: Mapping[str, tuple[str, ...]] = {c.key: c.needs for c in COMPONENTS}
"""Component -> the components that must be installed before it."""

UPSTREAM_ORDER: tuple[str, ...] = tuple(c.key for c in COMPONENTS)
"""Upstream's install order (manifests README): a serial chain, one step per component."""

OPTIONAL: Mapping[str, tuple[str, ...]] = {c.key: c.waits_for_if_enabled for c in COMPONENTS if c.waits_for_if_enabled}
"""Component -> components it does not need but waits for when they are enabled: MLRun CE then uses their CRDs
instead of installing its bundled copies (components/kubeflow/addons.py)."""

RAW_SERVING_DROPS: Mapping[str, tuple[str, ...]] = {
    c.key: c.not_needed_with_raw_serving for c in COMPONENTS if c.not_needed_with_raw_serving
}
"""Component -> prerequisites it does without in raw-deployment serving (KServe without Knative)."""


def waits_for(component: str, enabled: Iterable[str], raw_serving: bool = False) -> tuple[str, ...]:
    """What a component waits for in an installation: its prerequisites, and its optional ones that are enabled."""
    on = set(enabled)
    return (*requirements(component, raw_serving), *(c for c in OPTIONAL.get(component, ()) if c in on))


def requirements(component: str, raw_serving: bool = False) -> tuple[str, ...]:
    """A component's prerequisites; KServe in raw-deployment mode does without Knative."""
    needs = DEPENDENCIES[component]
    if raw_serving:
        return tuple(d for d in needs if d not in RAW_SERVING_DROPS.get(component, ()))
    return needs


def missing_prerequisites(enabled: Iterable[str], raw_serving: bool = False) -> dict[str, list[str]]:
    """For each enabled component, the prerequisites that are not enabled."""
    on = set(enabled)
    missing = {c: [d for d in requirements(c, raw_serving) if d not in on] for c in sorted(on)}
    return {c: m for c, m in missing.items() if m}


def install_order(enabled: Iterable[str]) -> list[str]:
    """Enabled components, each after everything it waits for (ties in upstream order)."""
    on = frozenset(enabled)
    return sorted(
        on, key=lambda c: (_depth(c, on), UPSTREAM_ORDER.index(c) if c in UPSTREAM_ORDER else len(UPSTREAM_ORDER))
    )


@cache
def _depth(component: str, enabled: frozenset[str]) -> int:
    return 1 + max((_depth(d, enabled) for d in waits_for(component, enabled)), default=0)


def longest_chain(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """The longest path through a dependency graph (node -> what it depends on), first node first."""
    memo: dict[str, list[str]] = {}

    def chain(node: str) -> list[str]:
        if node not in memo:
            best = max((chain(d) for d in sorted(edges.get(node, ()))), key=len, default=[])
            memo[node] = [*best, node]
        return memo[node]

    return max((chain(n) for n in sorted(edges)), key=len, default=[])
