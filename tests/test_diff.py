"""kfvs diff: plans compared by URN, and a base revision planned from a git worktree."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from infra.kfvs.diff import Change, diff_plans, markdown, text
from tests.conftest import KfvsRunner, git


def _plan(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"project": "p", "stack": "s", "resources": list(resources), "totals": {}, "policies": []}


def _res(urn: str, **inputs: Any) -> dict[str, Any]:
    return {
        "urn": urn,
        "type": "t:i:T",
        "name": urn,
        "parent": None,
        "custom": True,
        "inputs": inputs,
        "dependencies": [],
        "provider": None,
        "protect": False,
    }


def test_added_removed_changed_by_urn_with_paths() -> None:
    base = _plan(_res("a", size=1, nested={"x": 1, "y": "[secret]"}), _res("gone"))
    head = _plan(_res("a", size=2, nested={"x": 1, "y": "[secret]", "z": True}), _res("new"))
    d = diff_plans(base, head)
    assert [r["urn"] for r in d.added] == ["new"]
    assert [r["urn"] for r in d.removed] == ["gone"]
    assert d.changed == {"a": [Change("inputs.nested.z", None, True), Change("inputs.size", 1, 2)]}
    rendered = text(d, "s", "main")
    assert "1 to add, 1 to change, 1 to delete" in rendered
    assert "inputs.size: 1 => 2" in rendered


def test_identical_plans_have_no_changes() -> None:
    plan = _plan(_res("a", size=1))
    d = diff_plans(plan, plan)
    assert d.empty
    assert "no changes against main" in markdown(d, "s", "main")


def test_diff_against_a_git_revision_shows_only_the_new_team(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    (project / "stacks/teams/speech.yaml").write_text("name: speech\nowners: [ivo@example.internal]\n")
    run = kfvs("diff", "dev", "--base", "main", "--markdown")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("#### `dev`: 1 to add, 0 to change, 0 to delete (against main)")
    assert "| + | `vsphere:index/tag:Tag` | `kubeflow-dev-tags-team-speech` |" in run.stdout
    assert run.stdout.count("| + |") == 1
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=project, capture_output=True, text=True, check=True)
    assert len(worktrees.stdout.strip().splitlines()) == 1


def test_diff_with_an_unknown_base_fails_cleanly(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    run = kfvs("diff", "dev", "--base", "no-such-ref")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "git worktree add failed: fatal: invalid reference: no-such-ref" in run.stderr
