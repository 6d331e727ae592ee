"""Rule `duplicates`: one object applied by two sources (issue 14's "two owners per CRD").

The engine registers both; whichever the provider creates second fails with "already exists", or, adopted, the
two fight over its fields on every `pulumi up`, and deleting either source deletes the object under the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import Key, Obj, Platform

RULE = "duplicates"


def _short(urn: str) -> str:
    return urn.rpartition("::")[2] or urn


def check(platform: Platform) -> Iterator[Finding]:
    owners: dict[Key, list[Obj]] = defaultdict(list)
    for obj in platform.objects:
        owners[platform.key(obj)].append(obj)
    for objs in owners.values():
        sources = sorted({_short(o.source) for o in objs})
        if len(sources) > 1:
            first = objs[0]
            yield Finding(
                RULE,
                first.kind,
                first.namespace,
                first.name,
                f"is applied by {len(sources)} sources ({', '.join(sources)}): the second create fails, or they fight "
                "over its fields",
                "keep one owner (turn the other's copy off)",
                first.component,
            )
