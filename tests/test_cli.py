"""kfvs as a user runs it: exit status, one line per problem, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import KfvsRunner


def _assert_clean_failure(run_stderr: str, returncode: int) -> list[str]:
    assert returncode == 1
    assert "Traceback" not in run_stderr
    lines = run_stderr.strip().splitlines()
    assert lines[0].startswith("configuration has ")
    return lines[1:]


def test_plan_json_is_the_contract(kfvs: KfvsRunner) -> None:
    run = kfvs("plan", "dev", "--json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    plan = json.loads(run.stdout)
    assert plan["stack"] == "dev"
    assert any(r["type"] == "vsphere:index/tag:Tag" for r in plan["resources"])


def test_plan_text_and_markdown(kfvs: KfvsRunner) -> None:
    text = kfvs("plan", "dev")
    assert text.returncode == 0
    assert "pulumi:pulumi:Stack" in text.stdout
    assert "Per-team totals:" in text.stdout
    markdown = kfvs("plan", "dev", "--markdown")
    assert markdown.stdout.startswith("### Plan of `kubeflow-vsphere/dev`")


def test_broken_inputs_fail_cleanly_one_line_each(kfvs: KfvsRunner, project: Path) -> None:
    (project / "stacks/teams/vision.yaml").write_text("name: vision\nowners: [ana@example.internal]\ncolour: red\n")
    (project / "stacks/teams/nlp.yaml").write_text("name: nlp\nowners: {{\n")
    (project / "stacks/teams/dup.yaml").write_text("name: recsys\nowners: [x@example.internal]\n")
    for command in (("plan", "dev"), ("validate", "dev"), ("plan", "dev", "--json")):
        run = kfvs(*command)
        lines = _assert_clean_failure(run.stderr, run.returncode)
        assert run.stdout == ""
        assert len(lines) == 3
        assert any(line.startswith("  stacks/teams/vision.yaml: colour: unknown key") for line in lines)
        assert any(line.startswith("  stacks/teams/nlp.yaml: malformed YAML") for line in lines)
        assert any("stacks/teams/dup.yaml" in line and "already claimed" in line for line in lines)


def test_missing_stack_and_malformed_stack_file(kfvs: KfvsRunner, project: Path) -> None:
    run = kfvs("plan", "nope")
    lines = _assert_clean_failure(run.stderr, run.returncode)
    assert lines == ["  stacks/Pulumi.nope.yaml: no such stack; stacks here: dev, prod, sandbox, staging"]
    (project / "stacks/Pulumi.staging.yaml").write_text("config:\n  a: [\n")
    run = kfvs("validate", "staging")
    lines = _assert_clean_failure(run.stderr, run.returncode)
    assert lines[0].startswith("  stacks/Pulumi.staging.yaml: malformed YAML")


def test_validate_reports_success(kfvs: KfvsRunner) -> None:
    run = kfvs("validate", "prod")
    assert run.returncode == 0
    assert run.stdout.strip() == "prod: configuration is valid (3 teams)"
