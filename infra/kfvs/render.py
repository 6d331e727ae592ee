"""Human forms of a plan: a tree like `pulumi preview`, counts per type, each team's budget next to its use
(by source), licence notices, policy verdicts; and the text and JSON forms of diffs and pull-request reports.

The text form fits in 100 columns (infra/kfvs/tree.py: names relative to their parent's), so it reads in a
terminal, a CI log or a review tool without wrapping mid-word.
"""

from __future__ import annotations

import json
import textwrap
from collections import Counter
from collections.abc import Sequence
from typing import Any

from components import catalog
from infra import paths
from infra.errors import ConfigError
from infra.kfvs import diff as plan_diff
from infra.kfvs import team as teams
from infra.kfvs.chain import describe, kubeflow_chains
from infra.kfvs.changes import ABSENT
from infra.kfvs.plan import Plan
from infra.kfvs.pr import StackReport
from infra.kfvs.tree import LEGEND, WIDTH, tree_lines
from policies.usage import SOURCE_NAMES, SOURCES

_INDENT = "    "


def text(plan: Plan) -> str:
    """The plan as a terminal shows it, every line at most WIDTH columns."""
    resources = plan["resources"]
    lines = [f"Plan of {plan['project']}/{plan['stack']}: {len(resources)} resources", f"{_INDENT}{LEGEND}", ""]
    lines += [f"{_INDENT}{row}" for row in tree_lines(resources, WIDTH - len(_INDENT))]
    lines += ["", "Resources by type:"]
    lines += _columns([[str(n), t] for t, n in sorted(Counter(r["type"] for r in resources).items())], "  ")
    rows, problems = _budget_rows(plan)
    lines += ["", *_budget_heading(plan)]
    lines += [line for p in problems for line in _wrapped(p, "  ! ")] or _columns(rows, "  ", right_from=2)
    notices = licence_notices(resources)
    if notices:
        lines += ["", "Licence notices:"]
        lines += [line for n in notices for line in _wrapped(n, "  ! ")]
    lines += ["", "Policy verdicts:"]
    verdicts = [_wrapped(f"{v['pack']}/{v['policy']}: {v['message']}", f"  [{v['level']}] ") for v in plan["policies"]]
    lines += [line for v in verdicts for line in v] or ["  none: every pack passes"]
    chains = kubeflow_chains(resources)
    if chains:
        lines += ["", "Kubeflow install graph:"]
        lines += [line for c in chains for line in _wrapped(describe(c), "  ")]
    return "\n".join(lines) + "\n"


def markdown(plan: Plan) -> str:
    """The plan as a pull-request comment shows it."""
    resources = plan["resources"]
    out = [f"### Plan of `{plan['project']}/{plan['stack']}`: {len(resources)} resources", ""]
    out += [f"*{line}*" for line in _budget_heading(plan)] + [""]
    rows, problems = _budget_rows(plan)
    out += [f"- {p}" for p in problems]
    if not problems:
        out += ["| " + " | ".join(rows[0]) + " |", "|---|---|" + "---:|" * (len(rows[0]) - 2)]
        out += ["| " + " | ".join(row) + " |" for row in rows[1:]]
    out += ["", "| resources | type |", "|---:|---|"]
    out += [f"| {n} | `{t}` |" for t, n in sorted(Counter(r["type"] for r in resources).items())]
    out += ["", *(f"- {describe(c)}" for c in kubeflow_chains(resources))]
    out += [f"> **Licence:** {n}" for n in licence_notices(resources)]
    verdicts = plan["policies"]
    out += ["", f"**Policy verdicts:** {len(verdicts) or 'none'}"]
    out += [f"- `{v['level']}` {v['pack']}/{v['policy']}: {v['message']}" for v in verdicts]
    out += ["", "<details><summary>Resource tree</summary>", "", LEGEND, "", "```"]
    out += tree_lines(resources, WIDTH)
    out += ["```", "", "</details>"]
    return "\n".join(out) + "\n"


def licence_notices(resources: list[dict[str, Any]]) -> list[str]:
    """One line per planned chart whose licence is not open source (matched by chart name, so mirrored refs count)."""
    restricted = {c.name: c for c in catalog.CHARTS if c.licence}
    names = {str(r["inputs"].get("chart", "")).rsplit("/", 1)[-1] for r in resources if r["type"] in _CHART_TYPES}
    return [
        f"{restricted[n].app} {restricted[n].version}: {restricted[n].licence}"
        for n in sorted(names & restricted.keys())
    ]


_CHART_TYPES = ("kubernetes:helm.sh/v4:Chart", "kubernetes:helm.sh/v3:Release")


def _budget_heading(plan: Plan) -> list[str]:
    file = paths.relative(teams.budgets_path(plan["stack"]))
    return [f"Per-team budget ({file}) and use, by source:"]


def _budget_rows(plan: Plan) -> tuple[list[list[str]], list[str]]:
    """Per team and dimension: budget, use, over, then use by source; or, when the budgets file cannot be
    read (the quota pack could not read it either), its problems. A profile quota is a grant in the shared
    cluster and counts beside the capacity the team's pools hold, so use can exceed the quota the team file
    states: the source columns show where each unit comes from."""
    header = ["team", "", "budget", "use", "over", *(SOURCE_NAMES[s] for s in SOURCES)]
    try:
        ledgers = teams.ledger(plan["stack"], plan["resources"], plan["totals"])
    except ConfigError as error:
        return [header], [str(p) for p in error.problems]
    rows = [header]
    for name, entry in ledgers.items():
        for i, (key, heading, _) in enumerate(teams.DIMENSIONS):
            budget = "none" if entry.budget is None else _fmt(entry.budget.get(key, 0))
            use = entry.use.get(key, 0)
            over = use - (entry.budget or {}).get(key, 0)
            rows.append(
                [
                    name if i == 0 else "",
                    heading,
                    budget,
                    _fmt(use),
                    f"+{_fmt(over)}" if over > 0 else "",
                    *(_fmt(entry.by_source[s][key]) if s in entry.by_source else "-" for s in SOURCES),
                ]
            )
    return rows, []


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _wrapped(line: str, first: str, width: int = WIDTH) -> list[str]:
    """One logical line in at most `width` columns, continued under its text."""
    return textwrap.wrap(
        line, width, initial_indent=first, subsequent_indent=" " * len(first), break_on_hyphens=False
    ) or [first.rstrip()]


def _columns(rows: list[list[str]], indent: str, right_from: int | None = None) -> list[str]:
    """Aligned columns; from column `right_from` on, right-aligned (numbers)."""
    if not rows:
        return [f"{indent}(none)"]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    start = len(widths) if right_from is None else right_from

    def cell(i: int, value: str) -> str:
        return value.rjust(widths[i]) if i >= start else value.ljust(widths[i])

    return [indent + "  ".join(cell(i, c) for i, c in enumerate(r)).rstrip() for r in rows]


def diff_json(d: plan_diff.PlanDiff, stack: str, ref: str) -> str:
    """A diff for scripts: URNs added and removed, and per changed URN each changed path (`null` for absent)."""
    return json.dumps(_diff_document(d, stack, ref), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _diff_document(d: plan_diff.PlanDiff, stack: str, ref: str) -> dict[str, Any]:
    def value(v: Any) -> Any:
        return None if v is ABSENT else v

    return {
        "stack": stack,
        "base": ref,
        "added": [{"urn": r["urn"], "type": r["type"]} for r in d.added],
        "removed": [{"urn": r["urn"], "type": r["type"]} for r in d.removed],
        "changed": [
            {
                "urn": urn,
                "type": d.types[urn],
                "changes": [{"path": c.path, "kind": c.kind, "old": value(c.old), "new": value(c.new)} for c in found],
            }
            for urn, found in d.changed.items()
        ],
    }


def reports_text(reports: Sequence[StackReport], ref: str) -> str:
    """`kfvs pr-comment --format text`: each stack's diff and verdicts as a terminal shows them."""
    if not reports:
        return f"No stack is touched by this change (against {ref}).\n"
    out: list[str] = []
    for r in reports:
        out.append(plan_diff.text(r.diff, r.stack, ref).rstrip("\n"))
        verdicts = [_wrapped(f"{v.pack}/{v.policy}: {v.message}", f"  [{v.level}] ") for v in r.verdicts]
        out += [line for v in verdicts for line in v] or ["  policies: every pack passes"]
        out.append("")
    return "\n".join(out)


def reports_json(reports: Sequence[StackReport], ref: str) -> str:
    """`kfvs pr-comment --format json`: per stack, the diff (as `kfvs diff --format json`) and the verdicts."""
    document = [
        {**_diff_document(r.diff, r.stack, ref), "policies": [v.as_json() for v in r.verdicts]} for r in reports
    ]
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
