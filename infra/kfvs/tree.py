"""The plan's resource tree, readable in 100 columns without touching a URN.

Child names are derived from their parent's (`kubeflow-dev-kubeflow-dex` under `kubeflow-dev-kubeflow`),
so the tree shows each name relative to its parent's: `…` stands for the parent's name. Type tokens drop
the `index/<module>:` part Pulumi's code generator repeats (`vsphere:index/tag:Tag` is `vsphere:Tag`);
`Resources by type` below the tree keeps the full tokens. Names line up among siblings; a row still too
wide puts its name on the lines beneath, split at hyphens, each piece continuing the one before.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

WIDTH = 100
"""Columns the whole plan text fits in."""

ELLIPSIS = "…"
"""Stands for the parent's name at the start of a child's name."""

LEGEND = f"({ELLIPSIS} is the parent's name; type tokens without their index/<module>: part)"

_INDEX_MODULE = re.compile(r"^([^:]+):index/[^:]+:([^:]+)$")
_BRANCH, _LAST, _PIPE, _BLANK = "├─ ", "└─ ", "│  ", "   "
_GAP = 2
_CONTINUATION = 5
"""Continuation lines start this far right of their row's type, so they never look like a row."""


def short_type(type_: str) -> str:
    """`vsphere:index/virtualMachine:VirtualMachine` -> `vsphere:VirtualMachine`; other tokens unchanged."""
    match = _INDEX_MODULE.match(type_)
    return f"{match.group(1)}:{match.group(2)}" if match else type_


def relative_name(name: str, parent_name: str | None) -> str:
    """The name with its parent's name as prefix written `…`; the whole name when it is not derived."""
    if parent_name and name.startswith(parent_name + "-"):
        return ELLIPSIS + name[len(parent_name) :]
    return name


def tree_lines(resources: Sequence[dict[str, Any]], width: int = WIDTH) -> list[str]:
    """The tree, each line at most `width` columns (a name piece longer than a whole line aside)."""
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for r in resources:
        children[r["parent"]].append(r)
    names = {r["urn"]: r["name"] for r in resources}
    lines: list[str] = []

    def walk(parent: str | None, guides: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r["type"], r["name"]))
        column = max((len(short_type(r["type"])) for r in kids), default=0) + _GAP
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            branch = "" if parent is None else (_LAST if last else _BRANCH)
            below = "" if parent is None else (_BLANK if last else _PIPE)
            name = relative_name(r["name"], names.get(parent) if parent else None)
            head = f"{guides}{branch}{short_type(r['type'])}"
            row = head.ljust(len(guides) + len(branch) + column) + name
            if len(row) <= width:
                lines.append(row)
            else:
                lines.append(head)
                under = guides + below + (_PIPE if children.get(r["urn"]) else _BLANK)[:2]
                indent = under.ljust(len(guides) + len(branch) + _CONTINUATION)
                lines.extend(indent + piece for piece in _pieces(name, width - len(indent)))
            walk(r["urn"], guides + below)

    walk(None, "")
    return lines


def _pieces(name: str, room: int) -> list[str]:
    """The name cut before hyphens into pieces of at most `room` characters (longer only without hyphens)."""
    parts = re.split(r"(?=-)", name)
    pieces: list[str] = []
    for part in parts:
        if pieces and len(pieces[-1]) + len(part) <= room:
            pieces[-1] += part
        else:
            pieces.append(part)
    return pieces
