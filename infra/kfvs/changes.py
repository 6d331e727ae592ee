"""What changed inside one value: mappings key by key, lists of named things element by element.

A reviewer adding one node pool wants to see that pool, not the whole `machineDeployments` array twice.
So a list whose elements are all mappings with a distinct `name` (node pools, connectors, rules, volumes,
ClusterClass variable overrides) is matched by name, and only the elements added, removed or changed are
reported, each changed one only by its changed keys. Other lists are aligned element by element with
difflib, so one inserted dependency is one change, not the whole list.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Final

NAME_KEY: Final = "name"
"""The key that names an element of a list of named things."""


class _Absent:
    """The value is not there on that side (a key missing, an element not in the list)."""

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()
"""Marks the side of a change where the value does not exist: `old` of an addition, `new` of a removal."""


@dataclass(frozen=True)
class Change:
    """One changed value: its path (`inputs.spec.pools[name=gpu].replicas`), the old value and the new."""

    path: str
    old: Any
    new: Any

    @property
    def kind(self) -> str:
        """`added`, `removed` or `changed`."""
        if self.old is ABSENT:
            return "added"
        if self.new is ABSENT:
            return "removed"
        return "changed"


def changes(old: Any, new: Any, path: str) -> list[Change]:
    """Every difference between `old` and `new` under `path`, as small as it can be stated."""
    if old is new or (old == new and _canonical(old) == _canonical(new)):  # == alone takes True for 1
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        return [c for k in sorted(old.keys() | new.keys()) for c in _key_changes(old, new, k, path)]
    if isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _by_name(old), _by_name(new)
        if old_named is not None and new_named is not None:
            return _named_changes(old_named, new_named, path)
        return _sequence_changes(old, new, path)
    return [Change(path, old, new)]


def _key_changes(old: dict[str, Any], new: dict[str, Any], key: str, path: str) -> list[Change]:
    return changes(old.get(key, ABSENT), new.get(key, ABSENT), f"{path}.{key}" if path else key)


def _by_name(items: list[Any]) -> dict[str, Any] | None:
    """The elements by name when every one is a mapping with a distinct scalar `name`; otherwise None."""
    named: dict[str, Any] = {}
    for item in items:
        name = item.get(NAME_KEY) if isinstance(item, dict) else None
        if not isinstance(name, str | int) or isinstance(name, bool) or str(name) in named:
            return None
        named[str(name)] = item
    return named


def _named_changes(old: dict[str, Any], new: dict[str, Any], path: str) -> list[Change]:
    """Removed and changed elements in the old order, then added ones in the new order, then any reordering."""
    found: list[Change] = []
    for name, item in old.items():
        found += changes(item, new.get(name, ABSENT), f"{path}[{NAME_KEY}={name}]")
    found += [Change(f"{path}[{NAME_KEY}={name}]", ABSENT, item) for name, item in new.items() if name not in old]
    kept_old = [n for n in old if n in new]
    kept_new = [n for n in new if n in old]
    if kept_old != kept_new:
        found.append(Change(f"{path} (order of {NAME_KEY}s)", kept_old, kept_new))
    return found


def _sequence_changes(old: list[Any], new: list[Any], path: str) -> list[Change]:
    """Elements aligned as a text diff aligns lines: `[i]` is the old index of a removal, the new one otherwise."""
    keys_old, keys_new = [_canonical(v) for v in old], [_canonical(v) for v in new]
    matcher = difflib.SequenceMatcher(a=keys_old, b=keys_new, autojunk=False)
    found: list[Change] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if tag == "replace" and i2 - i1 == j2 - j1:
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                found += changes(old[i], new[j], f"{path}[{j}]")
            continue
        found += [Change(f"{path}[{i}]", old[i], ABSENT) for i in range(i1, i2)]
        found += [Change(f"{path}[{j}]", ABSENT, new[j]) for j in range(j1, j2)]
    return found


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=repr)
