"""Compare two plans by URN: what a change adds, removes and changes, input by input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infra import paths
from infra.kfvs.plan import Plan

_COMPARED = ("inputs", "dependencies", "provider", "protect", "parent")
"""What a change to a resource is; policy verdicts are shown by `kfvs check`, not diffed."""


@dataclass(frozen=True)
class Change:
    """One changed value of a resource: its path, the old value and the new."""

    path: str
    old: Any
    new: Any


@dataclass
class PlanDiff:
    """The difference between a base plan and a head plan."""

    added: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    removed: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])
    changed: dict[str, list[Change]] = field(default_factory=dict[str, list[Change]])
    types: dict[str, str] = field(default_factory=dict[str, str])

    @property
    def empty(self) -> bool:
        """True when the two plans hold the same resources with the same values."""
        return not (self.added or self.removed or self.changed)


class BaseRevisionError(Exception):
    """The base revision could not be planned (its checkout or its program failed)."""


def diff_plans(base: Plan, head: Plan) -> PlanDiff:
    """Resources matched by URN; values compared path by path."""
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    result = PlanDiff()
    result.added = [new[u] for u in sorted(new.keys() - old.keys())]
    result.removed = [old[u] for u in sorted(old.keys() - new.keys())]
    for urn in sorted(old.keys() & new.keys()):
        changes = [c for key in _COMPARED for c in _changes(old[urn].get(key), new[urn].get(key), key)]
        if changes:
            result.changed[urn] = changes
    result.types = {u: r["type"] for u, r in {**old, **new}.items()}
    return result


def _changes(old: Any, new: Any, path: str) -> list[Change]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [c for k in sorted(old.keys() | new.keys()) for c in _changes(old.get(k), new.get(k), f"{path}.{k}")]
    if old != new:
        return [Change(path, old, new)]
    return []


def plan_revision(stack: str, ref: str, root: Path = paths.PROJECT_ROOT) -> Plan:
    """Plan `stack` as it was at git revision `ref`, in a temporary worktree with that revision's code."""
    with tempfile.TemporaryDirectory(prefix="kfvs-base-") as tmp:
        tree = Path(tmp) / "tree"
        _git(root, "worktree", "add", "--detach", "--quiet", str(tree), ref)
        try:
            if not paths.stack_file(stack, tree).is_file():
                return {"project": paths.PROJECT_NAME, "stack": stack, "resources": [], "totals": {}, "policies": []}
            run = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
                [sys.executable, "-m", "infra.kfvs.cli", "plan", stack, "--json"],
                cwd=tree,
                env={**os.environ, "PYTHONPATH": str(tree)},
                capture_output=True,
                text=True,
                check=False,
            )
            if run.returncode != 0:
                raise BaseRevisionError(f"planning {stack} at {ref} failed:\n{run.stderr.strip()}")
            plan: Plan = json.loads(run.stdout)
            return plan
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))


def _git(root: Path, *args: str) -> None:
    run = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)  # noqa: S603, S607
    if run.returncode != 0:
        raise BaseRevisionError(f"git {' '.join(args[:2])} failed: {run.stderr.strip()}")


def text(d: PlanDiff, stack: str, ref: str) -> str:
    """The diff as a terminal shows it."""
    lines = [f"{stack}: {_summary(d, ref)}"]
    lines += [f"  + {r['type']}  {r['urn']}" for r in d.added]
    lines += [f"  - {r['type']}  {r['urn']}" for r in d.removed]
    for urn, changes in d.changed.items():
        lines.append(f"  ~ {d.types[urn]}  {urn}")
        lines += [f"      {c.path}: {_show(c.old)} => {_show(c.new)}" for c in changes]
    return "\n".join(lines) + "\n"


def markdown(d: PlanDiff, stack: str, ref: str) -> str:
    """The diff as a pull-request comment shows it: a summary line, then each resource."""
    out = [f"#### `{stack}`: {_summary(d, ref)}", ""]
    if d.empty:
        return "\n".join(out) + "\n"
    out += ["| | type | name |", "|---|---|---|"]
    out += [f"| + | `{r['type']}` | `{r['name']}` |" for r in d.added]
    out += [f"| - | `{r['type']}` | `{r['name']}` |" for r in d.removed]
    out += [f"| ~ | `{d.types[u]}` | `{u.rsplit('::', 1)[-1]}` |" for u in d.changed]
    for urn, changes in d.changed.items():
        out += ["", f"<details><summary>~ <code>{urn.rsplit('::', 1)[-1]}</code> ({d.types[urn]})</summary>", ""]
        out += ["| input | before | after |", "|---|---|---|"]
        out += [f"| `{c.path}` | `{_show(c.old)}` | `{_show(c.new)}` |" for c in changes]
        out += ["", "</details>"]
    return "\n".join(out) + "\n"


def _summary(d: PlanDiff, ref: str) -> str:
    if d.empty:
        return f"no changes against {ref}"
    return f"{len(d.added)} to add, {len(d.changed)} to change, {len(d.removed)} to delete (against {ref})"


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
