"""kfvs as a user runs it: exit status, one line per problem, never a traceback; one output format per run;
usage that names the stacks; progress on stderr, coloured only on a terminal."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.kfvs.progress import Progress, stderr_console
from tests import yamlio
from tests.conftest import KfvsRunner, git
from tests.environment_files import edit_stack_config

ANSI = re.compile(r"\x1b\[[0-9;]*m")


NAMES = "dev, prod, sandbox, staging (or one layer: dev-infra, dev-platform)"
"""The environments, and a hint at their layers' stacks."""


def _assert_clean_failure(run_stderr: str, returncode: int) -> list[str]:
    assert returncode == 1
    assert "Traceback" not in run_stderr
    lines = run_stderr.strip().splitlines()
    assert lines[0].startswith("configuration has ")
    return lines[1:]


_PLAN_RESOURCE: dict[str, type | tuple[type, ...]] = {
    "urn": str,
    "type": str,
    "name": str,
    "parent": (str, type(None)),
    "custom": bool,
    "inputs": dict,
    "dependencies": list,
    "provider": (str, type(None)),
    "protect": bool,
}
_PLAN_TOTALS = {"vcpu", "memoryGiB", "gpus", "storageGiB"}
_PLAN_VERDICT = {"pack", "policy", "level", "urn", "message"}


def test_plan_json_is_the_contract(kfvs: KfvsRunner, project: Path) -> None:
    """docs/ARCHITECTURE.md, "The plan contract": its keys and their types, and byte-identical output."""
    team = project / "stacks/teams/vision.yaml"
    document = yamlio.load(team.read_text())
    document["environments"]["dev"]["profile"]["quota"]["gpus"] = 40  # over budget: a verdict to check
    team.write_text(yamlio.dump(document, sort_keys=False))
    run = kfvs("plan", "dev", "--format", "json")
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    plan = json.loads(run.stdout)
    assert set(plan) == {"project", "stack", "resources", "totals", "policies"}
    assert (plan["project"], plan["stack"]) == ("kubeflow-vsphere", "dev")
    resources = plan["resources"]
    for r in resources:
        assert set(r) == set(_PLAN_RESOURCE), r["urn"]
        for key, kind in _PLAN_RESOURCE.items():
            assert isinstance(r[key], kind), (r["urn"], key)
        assert all(isinstance(d, str) for d in r["dependencies"]), r["urn"]
    urns = [r["urn"] for r in resources]
    assert urns == sorted(urns)
    # An environment's plan is its layers' plans together: one root stack resource per layer.
    assert [r["type"] for r in resources].count("pulumi:pulumi:Stack") == 2
    assert {r["custom"] for r in resources} == {True, False}
    by_name = {r["name"]: r for r in resources}
    assert by_name["kubeflow-dev-kubeflow-dex-config"]["inputs"]["stringData"] == "[secret]"
    teams = sorted(p.stem for p in (project / "stacks/teams").glob("*.yaml"))
    assert sorted(plan["totals"]) == teams
    for held in plan["totals"].values():
        assert set(held) == _PLAN_TOTALS
        assert all(isinstance(v, int | float) for v in held.values())
    assert plan["policies"]
    for verdict in plan["policies"]:
        assert set(verdict) == _PLAN_VERDICT
        assert all(isinstance(v, str) for v in verdict.values())
    assert any(v["policy"] == "team-quotas" and "team 'vision' asks for" in v["message"] for v in plan["policies"])
    # Deterministic: sorted keys, two-space indent, a trailing newline, the same bytes from the same tree.
    assert run.stdout == json.dumps(plan, indent=2, sort_keys=True) + "\n"
    assert kfvs("plan", "dev", "--format", "json").stdout == run.stdout


def test_plan_text_and_markdown(kfvs: KfvsRunner) -> None:
    text = kfvs("plan", "dev")
    assert text.returncode == 0
    assert "pulumi:pulumi:Stack" in text.stdout
    assert "Per-team budget (policies/quotas/config/dev.json) and use, by source:" in text.stdout
    markdown = kfvs("plan", "dev", "--format", "markdown")
    assert markdown.stdout.startswith("### Plan of `kubeflow-vsphere/dev`")
    # The older spellings stay for scripts (and for the base revisions `kfvs diff` plans): the same bytes.
    assert kfvs("plan", "dev", "--markdown").stdout == markdown.stdout


def test_broken_inputs_fail_cleanly_one_line_each(kfvs: KfvsRunner, project: Path) -> None:
    (project / "stacks/teams/vision.yaml").write_text("name: vision\nowners: [ana@example.internal]\ncolour: red\n")
    (project / "stacks/teams/nlp.yaml").write_text("name: nlp\nowners: {{\n")
    (project / "stacks/teams/dup.yaml").write_text("name: recsys\nowners: [x@example.internal]\n")
    for command in (("plan", "dev"), ("validate", "dev"), ("plan", "dev", "--format", "json")):
        run = kfvs(*command)
        lines = _assert_clean_failure(run.stderr, run.returncode)
        assert run.stdout == ""
        assert len(lines) == 3
        assert any(line.startswith("  stacks/teams/vision.yaml: colour: unknown key") for line in lines)
        assert any(line.startswith("  stacks/teams/nlp.yaml: malformed YAML") for line in lines)
        # A second file claiming `recsys` is refused by its name (a team file is named for its team).
        assert any(line.startswith("  stacks/teams/dup.yaml: name: is 'recsys'") for line in lines)


def test_missing_stack_and_malformed_stack_file(kfvs: KfvsRunner, project: Path) -> None:
    run = kfvs("plan", "nope")
    lines = _assert_clean_failure(run.stderr, run.returncode)
    assert lines == [f"  stacks/Pulumi.nope.yaml: no such stack or environment; here: {NAMES}"]
    (project / "stacks/Pulumi.staging-infra.yaml").write_text("config:\n  a: [\n")
    run = kfvs("validate", "staging")
    lines = _assert_clean_failure(run.stderr, run.returncode)
    assert lines[0].startswith("  stacks/Pulumi.staging-infra.yaml: malformed YAML")


def test_validate_reports_success(kfvs: KfvsRunner) -> None:
    run = kfvs("validate", "prod")
    assert run.returncode == 0
    assert run.stdout.strip() == "prod: configuration is valid (3 teams)"


def test_two_formats_at_once_are_refused_not_silently_json(kfvs: KfvsRunner) -> None:
    for args in (("--json", "--markdown"), ("--format", "text", "--json"), ("--format", "json", "--markdown")):
        run = kfvs("plan", "dev", *args)
        assert run.returncode == 2, args
        assert run.stdout == ""
        assert "choose one" in run.stderr
        assert "Traceback" not in run.stderr
    same = kfvs("plan", "dev", "--format", "json", "--json")
    assert same.returncode == 0
    assert json.loads(same.stdout)["stack"] == "dev"
    wrong = kfvs("plan", "dev", "--format", "yaml")
    assert wrong.returncode == 2
    assert "text" in wrong.stderr
    assert "markdown" in wrong.stderr


def test_usage_names_the_stacks(kfvs: KfvsRunner) -> None:
    top = kfvs("--help")
    assert f"Stacks here: {NAMES}." in " ".join(top.stdout.split())
    for command in ("plan", "diff", "check", "validate"):
        bare = kfvs(command)  # no stack: the command's help, not a bare "missing argument"
        assert f"one of: {NAMES}" in " ".join((bare.stdout + bare.stderr).split()), command
    helped = kfvs("plan", "--help")
    assert "--format" in helped.stdout
    assert "--json" not in helped.stdout
    assert "<bool>" not in helped.stdout


def _edit_stack(project: Path, stack: str, **values: Any) -> None:
    edit_stack_config(project, stack, lambda config: config.update(values))


def test_provider_keys_are_checked_for_type_one_line_each(kfvs: KfvsRunner, project: Path) -> None:
    _edit_stack(
        project,
        "dev",
        **{
            "vsphere:allowUnverifiedSsl": "nope",
            "vsphere:user": ["a", "b"],
            "vsphere:apiTimeout": "5m",
            "kubernetes:helmReleaseSettings": {"driver": True, "pluginPath": "/x"},
        },
    )
    run = kfvs("validate", "dev")
    lines = _assert_clean_failure(run.stderr, run.returncode)
    assert lines == [
        "  stacks/Pulumi.dev-infra.yaml: kubernetes:helmReleaseSettings.driver: expected one text value, got true: "
        "write a single value, e.g. `driver: <text>`",
        "  stacks/Pulumi.dev-infra.yaml: kubernetes:helmReleaseSettings.pluginPath: unknown field; did you mean "
        "'pluginsPath'?",
        "  stacks/Pulumi.dev-infra.yaml: vsphere:allowUnverifiedSsl: expected true or false, got 'nope': "
        "write `vsphere:allowUnverifiedSsl: true` or `vsphere:allowUnverifiedSsl: false`",
        "  stacks/Pulumi.dev-infra.yaml: vsphere:apiTimeout: expected a whole number, got '5m': "
        "write digits without quotes, e.g. `vsphere:apiTimeout: 5`",
        "  stacks/Pulumi.dev-infra.yaml: vsphere:user: expected one text value, got a list of 2: "
        "write a single value, e.g. `vsphere:user: <text>`",
    ]


def test_provider_values_of_the_right_type_pass(kfvs: KfvsRunner, project: Path) -> None:
    _edit_stack(
        project,
        "dev",
        **{
            "vsphere:allowUnverifiedSsl": True,
            "vsphere:apiTimeout": 10,
            "vsphere:persistSession": "True",
            "kubernetes:helmReleaseSettings": {"driver": "secret"},
        },
    )
    run = kfvs("validate", "dev")
    assert run.returncode == 0, run.stderr


def _on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    """Run with stderr on a pseudo-terminal (stdout stays a pipe): what a user at a terminal sees."""
    leader, follower = pty.openpty()
    run = subprocess.run(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=follower, text=True, check=False)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return run.returncode, run.stdout, b"".join(chunks).decode()


_PROGRESS = (
    "from infra.kfvs.progress import Progress\n"
    "p = Progress('bench')\n"
    "p.step('run 1/7: plan 1.00 s', '10 teams', 1, 3)\n"
    "p.done('measured')\n"
)


@pytest.mark.parametrize(
    ("terminal", "no_color", "coloured"),
    [(True, "", True), (True, "1", False), (False, "", False)],
    ids=["terminal", "terminal-NO_COLOR", "pipe"],
)
def test_progress_is_coloured_only_on_a_terminal_without_no_color(
    terminal: bool, no_color: str, coloured: bool
) -> None:
    env = {**os.environ, "TERM": "xterm-256color", "NO_COLOR": no_color}
    env.pop("FORCE_COLOR", None)
    args = [sys.executable, "-c", _PROGRESS]
    root = Path(__file__).resolve().parent.parent
    if terminal:
        code, out, err = _on_a_terminal(args, root, env)
    else:
        run = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, check=False)
        code, out, err = run.returncode, run.stdout, run.stderr
    assert code == 0, err
    assert out == ""  # progress never lands on stdout, where the result goes
    assert bool(ANSI.search(err)) is coloured
    plain = ANSI.sub("", err)
    assert "bench 10 teams (1/3): run 1/7: plan 1.00 s" in plain
    assert "bench: measured" in plain


def test_progress_keeps_brackets_in_names_literal() -> None:
    buffer = io.StringIO()
    Progress("pr-comment", stderr_console(buffer)).step("planning [base] main", "dev", 1, 2)
    assert "pr-comment dev (1/2): planning [base] main" in buffer.getvalue()


def test_pr_comment_reports_each_stack_on_stderr_and_only_the_comment_on_stdout(
    kfvs: KfvsRunner, project: Path
) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    _edit_stack(project, "sandbox", **{"vsphere:allowUnverifiedSsl": True})
    run = kfvs("pr-comment", "--base", "main")
    assert run.returncode in (0, 3), run.stderr  # 3: the sandbox's own verdicts, not this test's business
    assert run.stdout.startswith("<!-- kfvs-preview -->")
    assert not ANSI.search(run.stderr)  # a pipe: no colour
    lines = run.stderr.splitlines()
    # A change to one layer's file is planned in both layers of its environment (each reads the other's keys).
    assert lines[0].startswith("pr-comment: 2 stacks touched against main: sandbox-infra, sandbox-platform")
    assert any(line.startswith("pr-comment sandbox-infra (1/2): planning and judging the change") for line in lines)
    assert any(line.startswith("pr-comment sandbox-platform (2/2): planning the base main") for line in lines)
    assert re.match(r"pr-comment: 2 stacks compared; \d+ mandatory violations  \d+\.\d s$", lines[-1])
    as_json = kfvs("pr-comment", "--base", "main", "--format", "json")
    assert [r["stack"] for r in json.loads(as_json.stdout)] == ["sandbox-infra", "sandbox-platform"]
    as_text = kfvs("pr-comment", "--base", "main", "--format", "text")
    assert as_text.stdout.startswith("sandbox-infra: ")
    assert "<!--" not in as_text.stdout


def test_diff_formats_text_markdown_and_json(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    path = project / "stacks/teams/vision.yaml"
    team = yamlio.load(path.read_text())
    team["environments"]["dev"]["profile"]["quota"]["gpus"] = 3
    path.write_text(yamlio.dump(team, sort_keys=False))
    as_json = kfvs("diff", "dev", "--base", "main", "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    assert (document["stack"], document["base"], document["added"], document["removed"]) == ("dev", "main", [], [])
    [changed] = document["changed"]
    assert changed["type"] == "kubernetes:kubeflow.org/v1:Profile"
    assert changed["urn"].endswith("::dev-vision-profile")
    gpu = [c for c in changed["changes"] if c["path"].endswith("requests.nvidia.com/gpu")]
    assert [(c["old"], c["new"]) for c in gpu] == [("4", "3")]
    markdown = kfvs("diff", "dev", "--base", "main", "--format", "markdown")
    assert markdown.stdout.startswith("#### `dev`: 0 to add, 1 to change, 0 to delete (against main)")
    refused = kfvs("diff", "dev", "--base", "main", "--format", "json", "--markdown")
    assert refused.returncode == 2


def test_bench_reports_each_size_and_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import bench.__main__ as bench  # noqa: PLC0415 - the module `make bench` runs

    children: list[str] = []

    def child(_project: Path, kind: str, *_args: str) -> dict[str, Any]:
        children.append(kind)
        return {"plan_s": 1.5, "judged_s": 2.0, "floor_s": 1.25, "resources": 9, "peak_mib": 1.0,
                "floor_peak_mib": 1.0, "check_s": 0.5, "check_floor_s": 0.4}  # fmt: skip

    monkeypatch.setattr(bench, "_child", child)
    monkeypatch.setattr(bench, "environment", lambda root, teams: root)
    monkeypatch.setattr(bench, "hollow_project", lambda project: project)
    monkeypatch.setattr(bench, "RUNS", 2)
    buffer = io.StringIO()
    bench.measure(tmp_path, 50, Progress("bench", stderr_console(buffer)), (2, 3))
    lines = [line.rsplit("  ", 1)[0] for line in buffer.getvalue().splitlines()]
    assert lines == [
        "bench 50 teams (2/3): generating the environment",
        "bench 50 teams (2/3): run 1/2: plan 1.50 s, judged 2.00 s, floor 1.25 s",
        "bench 50 teams (2/3): run 2/2: plan 1.50 s, judged 2.00 s, floor 1.25 s",
    ]
    assert children == ["plan", "judged", "floor"] * 2
