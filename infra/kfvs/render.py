"""Human forms of a plan: a tree like `pulumi preview`, counts per type, and per-team totals."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from components import catalog
from infra.kfvs.chain import describe, kubeflow_chains
from infra.kfvs.plan import Plan

_TOTAL_COLUMNS = (("vcpu", "vCPU"), ("memoryGiB", "memory GiB"), ("gpus", "GPUs"), ("storageGiB", "storage GiB"))


def text(plan: Plan) -> str:
    """The plan as a terminal shows it."""
    resources = plan["resources"]
    lines = [f"Plan of {plan['project']}/{plan['stack']}: {len(resources)} resources", ""]
    lines += [f"    {row}" for row in _tree_rows(resources)]
    lines += ["", "Resources by type:"]
    lines += _columns([[str(n), t] for t, n in sorted(Counter(r["type"] for r in resources).items())], "  ")
    lines += ["", "Per-team totals:"]
    lines += _columns(_totals_rows(plan["totals"]), "  ")
    notices = licence_notices(resources)
    if notices:
        lines += ["", "Licence notices:"]
        lines += [f"  ! {n}" for n in notices]
    lines += ["", "Policy verdicts:"]
    lines += [f"  [{v['level']}] {v['pack']}/{v['policy']}: {v['message']}" for v in plan["policies"]] or [
        "  none: every pack passes"
    ]
    chains = kubeflow_chains(resources)
    if chains:
        lines += ["", "Kubeflow install graph:"]
        lines += [f"  {describe(c)}" for c in chains]
    return "\n".join(lines) + "\n"


def markdown(plan: Plan) -> str:
    """The plan as a pull-request comment shows it."""
    resources = plan["resources"]
    out = [f"### Plan of `{plan['project']}/{plan['stack']}`: {len(resources)} resources", ""]
    out += ["| team | " + " | ".join(h for _, h in _TOTAL_COLUMNS) + " |", "|---" * 5 + "|"]
    out += ["| " + " | ".join(row) + " |" for row in _totals_rows(plan["totals"])[1:]]
    out += ["", "| resources | type |", "|---:|---|"]
    out += [f"| {n} | `{t}` |" for t, n in sorted(Counter(r["type"] for r in resources).items())]
    out += ["", *(f"- {describe(c)}" for c in kubeflow_chains(resources))]
    out += [f"> **Licence:** {n}" for n in licence_notices(resources)]
    verdicts = plan["policies"]
    out += ["", f"**Policy verdicts:** {len(verdicts) or 'none'}"]
    out += [f"- `{v['level']}` {v['pack']}/{v['policy']}: {v['message']}" for v in verdicts]
    out += ["", "<details><summary>Resource tree</summary>", "", "```"]
    out += _tree_rows(resources)
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


def _tree_rows(resources: list[dict[str, Any]]) -> list[str]:
    children: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for r in resources:
        children[r["parent"]].append(r)
    rows: list[list[str]] = []

    def walk(parent: str | None, prefix: str) -> None:
        kids = sorted(children.get(parent, []), key=lambda r: (r["type"], r["name"]))
        for i, r in enumerate(kids):
            last = i == len(kids) - 1
            branch = "" if parent is None else ("└─ " if last else "├─ ")
            rows.append([f"{prefix}{branch}{r['type']}", r["name"]])
            walk(r["urn"], prefix + ("" if parent is None else ("   " if last else "│  ")))

    walk(None, "")
    return _columns([["Type", "Name"], *rows], "")


def _totals_rows(totals: dict[str, dict[str, Any]]) -> list[list[str]]:
    header = ["team", *(h for _, h in _TOTAL_COLUMNS)]
    return [header, *([team, *(str(t[k]) for k, _ in _TOTAL_COLUMNS)] for team, t in sorted(totals.items()))]


def _columns(rows: list[list[str]], indent: str) -> list[str]:
    if not rows:
        return [f"{indent}(none)"]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
