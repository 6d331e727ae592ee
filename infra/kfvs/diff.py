"""Compare two plans by URN: what a change adds, removes and changes, input by input, shown for a terminal
(`text`) and for a pull-request comment (`markdown`)."""

from __future__ import annotations

import difflib
import html
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from infra import paths
from infra.errors import ConfigError
from infra.kfvs.changes import ABSENT, Change, changes
from infra.kfvs.git import run_git
from infra.kfvs.plan import Plan, to_json
from infra.kfvs.run import plan_stack
from infra.layers import LAYERS, layer_stack

__all__ = ["ABSENT", "BaseRevisionError", "Change", "Detail", "PlanDiff", "diff_plans", "markdown", "text"]

_COMPARED = ("inputs", "dependencies", "provider", "protect", "parent")
"""What a change to a resource is; policy verdicts are shown by `kfvs check`, not diffed."""


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
        found = [c for key in _COMPARED for c in changes(old[urn].get(key, ABSENT), new[urn].get(key, ABSENT), key)]
        if found:
            result.changed[urn] = found
    result.types = {u: r["type"] for u, r in {**old, **new}.items()}
    return result


def plan_revision(stack: str, ref: str, root: Path = paths.PROJECT_ROOT) -> Plan:
    """Plan `stack` as it was at git revision `ref`, in a temporary worktree with that revision's code.

    When the code at `ref` is the code here (only stack, team and policy-config files differ, as in a team's
    pull request), the worktree's files are planned in this process: the same program on the base's data gives
    the resources a `kfvs plan --json` there would print, without starting and importing a second interpreter
    (and without the base's verdicts, which no diff compares)."""
    with tempfile.TemporaryDirectory(prefix="kfvs-base-") as tmp:
        tree = Path(tmp) / "tree"
        _git(root, "worktree", "add", "--detach", "--quiet", str(tree), ref)
        try:
            if not _exists(stack, tree):
                return {"project": paths.PROJECT_NAME, "stack": stack, "resources": [], "totals": {}, "policies": []}
            if same_code(root, ref):
                return _plan_here(stack, ref, tree)
            return _plan_there(stack, ref, tree)
        finally:
            _git(root, "worktree", "remove", "--force", str(tree))


DATA = ("stacks", "policies/*/config")
"""What a stack's plan reads as data rather than code: stack, layer and team files, and the packs' configs."""


def same_code(root: Path, ref: str) -> bool:
    """Whether every file outside DATA is at `ref` as it is here: no tracked file differs from it (committed or
    not) and no untracked one is new (the program globs folders such as the dashboards', so a new file counts)."""
    outside = [".", *(f":(exclude,glob){part}/**" for part in DATA)]
    tracked = run_git(root, "diff", "--quiet", ref, "--", *outside)
    untracked = run_git(root, "ls-files", "--others", "--exclude-standard", "--", *outside)
    return tracked.returncode == 0 and untracked.returncode == 0 and not untracked.stdout.strip()


def _plan_here(stack: str, ref: str, tree: Path) -> Plan:
    """The base's plan from this process, as `kfvs plan --json` prints it (the same JSON, read back), but for
    its policy verdicts: the packs are not started for a plan only compared by its resources."""
    try:
        plan: Plan = json.loads(to_json(plan_stack(stack, tree)))
    except ConfigError as error:
        raise BaseRevisionError(f"planning {stack} at {ref} failed:\n{str(error).strip()}") from None
    return plan


def _plan_there(stack: str, ref: str, tree: Path) -> Plan:
    """The base's plan by the base's own code: `kfvs plan --json` run in its worktree."""
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


def _exists(stack: str, tree: Path) -> bool:
    """Whether the revision has STACK, or an environment of that name (its layers' files)."""
    names = [stack, *(layer_stack(stack, layer) for layer in LAYERS)]
    return any(paths.stack_file(name, tree).is_file() for name in names)


def _git(root: Path, *args: str) -> None:
    run = run_git(root, *args)
    if run.returncode != 0:
        raise BaseRevisionError(f"git {' '.join(args[:2])} failed: {run.stderr.strip()}")


FOLD_AT = 80
"""Characters: a longer value is folded into `<details>` (Markdown) or printed beneath its path (text)."""

PATH_CELL_AT = 160
"""Characters: a longer path is shortened from the left in a Markdown cell (the full path heads its fold)."""


class Detail(Enum):
    """How much of a stack's diff the Markdown shows, so a pull-request comment can shrink to fit."""

    FULL = "full"
    """The resource table and, per changed resource, its changed inputs."""
    RESOURCES = "resources"
    """The resource table only."""
    SUMMARY = "summary"
    """The summary line only."""


def text(d: PlanDiff, stack: str, ref: str) -> str:
    """The diff as a terminal shows it: each resource's URN once, its changed inputs beneath."""
    lines = [f"{stack}: {_summary(d, ref)}"]
    lines += [f"  + {r['type']}  {r['urn']}" for r in d.added]
    lines += [f"  - {r['type']}  {r['urn']}" for r in d.removed]
    for urn, found in d.changed.items():
        lines.append(f"  ~ {d.types[urn]}  {urn}")
        for c in found:
            lines += _text_change(c, "      ")
    return "\n".join(lines) + "\n"


def _text_change(c: Change, indent: str) -> list[str]:
    head = f"{indent}{c.path}:"
    beneath = indent + "    "
    if c.kind != "changed":
        value = c.new if c.kind == "added" else c.old
        if _short(value):
            return [f"{head} {c.kind} {_compact(value)}"]
        return [f"{head} {c.kind}", *_indented(_block(value), beneath)]
    if _short(c.old) and _short(c.new):
        return [f"{head} {_compact(c.old)} => {_compact(c.new)}"]
    if _multiline(c.old, c.new):
        return [f"{head} text changed", *_indented(_unified(c.old, c.new), beneath)]
    return [
        f"{head} changed",
        f"{indent}  before:",
        *_indented(_block(c.old), beneath),
        f"{indent}  after:",
        *_indented(_block(c.new), beneath),
    ]


def markdown(d: PlanDiff, stack: str, ref: str, detail: Detail = Detail.FULL) -> str:
    """The diff as a pull-request comment shows it: a summary line, a table of resources, then each changed
    resource folded with its changed inputs (long values folded again). No table cell grows past a few hundred
    characters, whatever the change."""
    out = [f"#### `{stack}`: {_summary(d, ref)}", ""]
    if d.empty or detail is Detail.SUMMARY:
        return "\n".join(out) + "\n"
    out += ["| | type | name |", "|---|---|---|"]
    out += [f"| + | {_code(r['type'])} | {_code(r['name'])} |" for r in d.added]
    out += [f"| - | {_code(r['type'])} | {_code(r['name'])} |" for r in d.removed]
    out += [f"| ~ | {_code(d.types[u])} | {_code(_name(u))} |" for u in d.changed]
    if detail is Detail.FULL:
        for urn, found in d.changed.items():
            out += ["", *_markdown_resource(urn, d.types[urn], found)]
    return "\n".join(out) + "\n"


def _markdown_resource(urn: str, type_: str, found: list[Change]) -> list[str]:
    count = f"{len(found)} change" + ("" if len(found) == 1 else "s")
    summary = f"~ <code>{html.escape(_name(urn))}</code> ({html.escape(type_)}): {count}"
    out = [f"<details><summary>{summary}</summary>", "", "| input | before | after |", "|---|---|---|"]
    folds: list[str] = []
    for c in found:
        before, after = _cell(c.old), _cell(c.new)
        out.append(f"| {_code(_shorten_path(c.path))} | {before} | {after} |")
        if not (_short(c.old) and _short(c.new)):
            folds += ["", *_markdown_fold(c)]
    return [*out, *folds, "", "</details>"]


def _markdown_fold(c: Change) -> list[str]:
    summary = f"<code>{html.escape(c.path)}</code> {c.kind}"
    out = [f"<details><summary>{summary}</summary>", ""]
    if c.kind == "changed" and _multiline(c.old, c.new):
        out += _fenced(_unified(c.old, c.new), "diff")
    elif c.kind == "changed":
        out += ["before:", "", *_fenced(_block(c.old), "yaml"), "", "after:", "", *_fenced(_block(c.new), "yaml")]
    else:
        out += _fenced(_block(c.new if c.kind == "added" else c.old), "yaml")
    return [*out, "", "</details>"]


def _summary(d: PlanDiff, ref: str) -> str:
    if d.empty:
        return f"no changes against {ref}"
    return f"{len(d.added)} to add, {len(d.changed)} to change, {len(d.removed)} to delete (against {ref})"


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def _compact(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _short(value: Any) -> bool:
    """Short enough to stand on one line, and safe inside a Markdown code span."""
    shown = _compact(value)
    return len(shown) <= FOLD_AT and "`" not in shown


def _cell(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    return _code(_compact(value)) if _short(value) else "folded below"


def _code(value: str) -> str:
    """A Markdown table cell holding `value` as code: on one line, pipes escaped (GitHub reads `\\|` inside code
    spans too)."""
    value = value.replace("\r", "\\r").replace("\n", "\\n").replace("|", "\\|")
    ticks = "``" if "`" in value else "`"
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def _shorten_path(path: str) -> str:
    return path if len(path) <= PATH_CELL_AT else "…" + path[-(PATH_CELL_AT - 1) :]


def _multiline(old: Any, new: Any) -> bool:
    return isinstance(old, str) and isinstance(new, str) and ("\n" in old or "\n" in new)


def _unified(old: str, new: str) -> list[str]:
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "before", "after", n=2, lineterm="")
    return list(lines)[2:]


def _block(value: Any) -> list[str]:
    """A value for reading: YAML for mappings and lists, a string's own lines, JSON for the rest."""
    if isinstance(value, dict | list):
        dumped = yaml.safe_dump(value, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100)
        return dumped.rstrip("\n").splitlines()
    if isinstance(value, str) and "\n" in value:
        return value.rstrip("\n").splitlines()
    return [_compact(value)]


def _indented(lines: list[str], indent: str) -> list[str]:
    return [indent + line if line else line for line in lines]


def _fenced(lines: list[str], language: str) -> list[str]:
    """A fenced block whose fence is longer than any run of backticks inside it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + language, *lines, fence]
