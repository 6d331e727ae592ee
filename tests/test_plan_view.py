"""The plan as people read it: a tree that fits in 100 columns and still names every resource exactly,
and per-team budget next to use, with use broken down by where it comes from."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from infra import paths
from infra.kfvs.tree import ELLIPSIS, tree_lines
from tests import yamlio
from tests.conftest import KfvsRunner
from tests.forkserver import run_kfvs

WIDTH = 100
_ROW = re.compile(r"^(?P<guides>(?:│  |   )*)(?P<branch>├─ |└─ )(?P<rest>.*)$")


def _parse_tree(lines: list[str]) -> list[tuple[int, str, str]]:
    """(depth, type as shown, name as shown) per resource; continuation lines extend the row above."""
    rows: list[list[Any]] = []
    for line in lines:
        match = _ROW.match(line)
        if match:
            shown_type, _, name = match["rest"].partition(" ")
            rows.append([len(match["guides"]) // 3 + 1, shown_type, name.strip()])
        elif line[:1] not in (" ", "│"):
            shown_type, _, name = line.partition(" ")
            rows.append([0, shown_type, name.strip()])
        else:
            piece = line.strip(" │")
            assert " " not in piece, line
            rows[-1][2] += piece
    return [(d, t, n) for d, t, n in rows]


def _full_type(shown: str, types: set[str]) -> str:
    """The one full type token a shown type can stand for: itself, or `pkg:index/<module>:Name`."""
    package, _, name = shown.partition(":")
    candidates = {t for t in types if t == shown or re.fullmatch(rf"{re.escape(package)}:index/[^:]+:{name}", t)}
    assert len(candidates) == 1, (shown, candidates)
    return candidates.pop()


def _urns_from_tree(lines: list[str], plan: dict[str, Any]) -> list[str]:
    """Rebuild every URN from the tree alone: the type chain of the ancestors, and the full name."""
    types = {r["type"] for r in plan["resources"]}
    ancestors: list[tuple[str, str]] = []  # (full type, full name) per depth
    urns = []
    for depth, shown_type, shown_name in _parse_tree(lines):
        full_type = _full_type(shown_type, types)
        del ancestors[depth:]
        name = shown_name
        if name.startswith(ELLIPSIS):
            name = ancestors[-1][1] + name[len(ELLIPSIS) :]
        chain = "$".join([*(t for t, _ in ancestors[1:]), full_type]) if depth else full_type
        # An environment's plan has one root per layer, named `<project>-<stack>`: each names its stack.
        root = (ancestors[0][1] if depth else name).removeprefix(f"{plan['project']}-")
        urns.append(f"urn:pulumi:{root}::{plan['project']}::{chain}::{name}")
        ancestors.append((full_type, name))
    return urns


def _tree_section(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"({ELLIPSIS} is the parent's name"))
    end = lines.index("Resources by type:")
    return [line.removeprefix("    ") for line in lines[start + 1 : end] if line]


def _kfvs(*args: str) -> str:
    """kfvs on the repository itself (planning only reads it)."""
    done = run_kfvs(paths.PROJECT_ROOT, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def sandbox() -> tuple[str, str, dict[str, Any]]:
    """`kfvs plan sandbox` (every component, every add-on) as text, Markdown and JSON."""
    plan: dict[str, Any] = json.loads(_kfvs("plan", "sandbox", "--format", "json"))
    return _kfvs("plan", "sandbox"), _kfvs("plan", "sandbox", "--format", "markdown"), plan


def test_plan_text_fits_in_100_columns(sandbox: tuple[str, str, dict[str, Any]]) -> None:
    text, _, plan = sandbox
    too_wide = [line for line in text.splitlines() if len(line) > WIDTH]
    assert too_wide == []
    # The longest names are still there, only written relative to their parent.
    longest = max(plan["resources"], key=lambda r: len(r["name"]))
    assert len(longest["name"]) > WIDTH
    assert longest["name"] not in text


def test_the_tree_still_identifies_every_resource_by_its_urn(sandbox: tuple[str, str, dict[str, Any]]) -> None:
    text, markdown, plan = sandbox
    expected = sorted(r["urn"] for r in plan["resources"])
    assert sorted(_urns_from_tree(_tree_section(text), plan)) == expected
    block = markdown[markdown.index("```\n", markdown.index("Resource tree")) + 4 :]
    tree = block[: block.index("```")].splitlines()
    assert all(len(line) <= WIDTH for line in tree)
    assert sorted(_urns_from_tree(tree, plan)) == expected


def _resource(urn_name: str, parent: str | None, type_: str = "kubernetes:kustomize/v2:Directory") -> dict[str, Any]:
    return {"urn": f"u::{urn_name}", "name": urn_name, "parent": parent and f"u::{parent}", "type": type_}


def test_narrow_trees_wrap_names_at_hyphens_and_keep_them_whole() -> None:
    names = ["a-stack", "a-stack-platform", "a-stack-platform-" + "-".join(f"segment{i}" for i in range(12))]
    resources = [
        _resource(names[0], None, "pulumi:pulumi:Stack"),
        _resource(names[1], names[0], "kubeflow-vsphere:index:Platform"),
        _resource(names[2], names[1]),
        _resource("unrelated-name", names[1], "vsphere:index/tag:Tag"),
    ]
    lines = tree_lines(resources, width=40)
    assert all(len(line) <= 40 for line in lines), lines
    plan = {"stack": "s", "project": "p", "resources": resources}
    parsed = _parse_tree(lines)
    suffix = names[2][len(names[1]) :]
    assert [n for _, _, n in parsed] == ["a-stack", f"{ELLIPSIS}-platform", ELLIPSIS + suffix, "unrelated-name"]
    assert parsed[3][1] == "vsphere:Tag"
    urns = _urns_from_tree(lines, plan)
    assert urns[2].endswith(f"kubernetes:kustomize/v2:Directory::{names[2]}")


# --- budget next to use ------------------------------------------------------------------------------------


_DIMENSION = re.compile(r"\s(GPUs|vCPU|memory GiB|storage GiB)\s")


def _budget_rows(text: str) -> dict[str, dict[str, list[str]]]:
    """team -> dimension -> [budget, use, over, profile quota, GPU node pool, GPU VMs, stack-level pools]."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Per-team budget ("))
    header = lines[start + 1]
    columns = ["budget", "use", "over", "profile quota", "GPU node pool", "GPU VMs", "stack-level pools"]
    ends = [header.index(c) + len(c) for c in columns]  # right-aligned: each column ends where its heading does
    rows: dict[str, dict[str, list[str]]] = {}
    team = ""
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        found = _DIMENSION.search(line)
        assert found is not None, line
        team = line[: found.start()].strip() or team
        cells, begin = [], found.end()
        for end in ends:
            cells.append(line[begin:end].strip())
            begin = end
        rows.setdefault(team, {})[found.group(1)] = cells
    return rows


def _number(cell: str) -> float:
    return 0.0 if cell in ("", "-") else float(cell)


def test_budget_sits_next_to_use_and_use_adds_up_by_source(kfvs: KfvsRunner, project: Path) -> None:
    run = kfvs("plan", "dev")
    assert run.returncode == 0, run.stderr
    rows = _budget_rows(run.stdout)
    budgets = json.loads((project / "policies/quotas/config/dev.json").read_text())["team-quotas"]["teams"]
    assert set(rows) >= set(budgets)
    for team, by_dimension in rows.items():
        gpus = by_dimension["GPUs"]
        assert _number(gpus[0]) == budgets[team]["gpus"], team
        assert sum(_number(c) for c in gpus[3:]) == _number(gpus[1]), (team, gpus)
        request = yamlio.load((project / f"stacks/teams/{team}.yaml").read_text())["environments"]["dev"]
        assert _number(gpus[3]) == request["profile"]["quota"]["gpus"], team


def test_a_team_over_its_budget_shows_by_how_much_and_why(kfvs: KfvsRunner, project: Path) -> None:
    path = project / "stacks/teams/vision.yaml"
    team = yamlio.load(path.read_text())
    config = json.loads((project / "policies/quotas/config/dev.json").read_text())
    budget = config["team-quotas"]["teams"]["vision"]["gpus"]
    team["environments"]["dev"]["profile"]["quota"]["gpus"] = budget  # the profile alone uses the whole budget
    path.write_text(yamlio.dump(team, sort_keys=False))
    run = kfvs("plan", "dev")
    gpus = _budget_rows(run.stdout)["vision"]["GPUs"]
    held_elsewhere = sum(_number(c) for c in gpus[4:])
    assert held_elsewhere > 0  # vision also holds a node pool and stack-level pools in dev
    assert _number(gpus[1]) == budget + held_elsewhere
    assert gpus[2] == f"+{int(held_elsewhere)}"
    assert _number(gpus[3]) == budget


def test_a_team_without_a_budget_entry_says_none(kfvs: KfvsRunner, project: Path) -> None:
    path = project / "policies/quotas/config/dev.json"
    config = json.loads(path.read_text())
    del config["team-quotas"]["teams"]["recsys"]
    path.write_text(json.dumps(config))
    run = kfvs("plan", "dev")
    gpus = _budget_rows(run.stdout)["recsys"]["GPUs"]
    assert gpus[0] == "none"
    assert gpus[2] == f"+{gpus[1]}"


def test_an_unreadable_budgets_file_is_named_in_place_of_the_table(kfvs: KfvsRunner, project: Path) -> None:
    (project / "policies/quotas/config/dev.json").write_text("{not json")
    run = kfvs("plan", "dev")
    assert "Traceback" not in run.stderr
    # The quota pack cannot read it either, so the plan fails as configuration, naming the file.
    assert "policies/quotas/config/dev.json" in run.stdout + run.stderr
