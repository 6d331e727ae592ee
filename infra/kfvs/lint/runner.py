"""Run every rule over the rendered platform (and manifests applied after it) and sort what they find."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from infra.kfvs.lint import duplicates, ordering, pod_security, rbac, references, schema
from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import Platform
from infra.kfvs.rendered import Rendering

Rule = Callable[[Platform], Iterator[Finding]]

RULES: dict[str, Rule] = {
    schema.RULE: schema.check,
    pod_security.RULE: pod_security.check,
    references.RULE: references.check,
    ordering.RULE: ordering.check,
    rbac.RULE: rbac.check,
    duplicates.RULE: duplicates.check,
}
"""Rule id -> rule. `unverified` findings come from schema and references, for what lint cannot see."""


def lint(rendering: Rendering, extra: Iterable[Mapping[str, Any]] = ()) -> list[Finding]:
    """Every finding, sorted and without duplicates."""
    platform = Platform(rendering, extra)
    found: set[Finding] = set()
    for rule in RULES.values():
        found.update(rule(platform))
    return sorted(found)
