"""What the repository promises as written: Pulumi finds the uv `make setup` uses, the workflows reach either
backend, and the plan contract in docs/ARCHITECTURE.md is the shape `kfvs plan --json` prints."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from infra import paths
from infra.kfvs.check import Verdict
from tests import examples, yamlio

ROOT = paths.PROJECT_ROOT
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
UV_ON_PATH = 'make -s uv-path >> "$GITHUB_PATH"'
UV_IN_SHELL = 'export PATH="$(make -s uv-path):$PATH"'


def _jobs() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{path.name}:{name}", job)
        for path in WORKFLOWS
        for name, job in yamlio.load(path.read_text(encoding="utf-8"))["jobs"].items()
    ]


def _pulumi_steps(job: dict[str, Any]) -> list[int]:
    return [i for i, step in enumerate(job.get("steps", [])) if str(step.get("uses", "")).startswith("pulumi/actions@")]


def _runs(job: dict[str, Any], before: int) -> list[str]:
    return [str(step.get("run", "")) for step in job["steps"][:before]]


def test_pulumi_projects_use_the_uv_toolchain() -> None:
    """The reason for the rest: if a project stops using uv, these tests have to be looked at again."""
    for path in [ROOT / "Pulumi.yaml", *sorted(ROOT.glob("policies/*/PulumiPolicy.yaml"))]:
        assert yamlio.load(path.read_text())["runtime"]["options"]["toolchain"] == "uv", path


def test_every_job_that_runs_pulumi_puts_make_setups_uv_on_the_path_first() -> None:
    jobs = [(name, job) for name, job in _jobs() if _pulumi_steps(job)]
    assert {name.split(":")[0] for name, _ in jobs} == {"deploy.yml", "pull-request.yml"}
    for name, job in jobs:
        runs = _runs(job, _pulumi_steps(job)[0])
        setup = next((i for i, run in enumerate(runs) if "make setup" in run), None)
        on_path = next((i for i, run in enumerate(runs) if UV_ON_PATH in run), None)
        assert setup is not None, f"{name}: no `make setup` before pulumi/actions"
        assert on_path is not None, f"{name}: add a step `{UV_ON_PATH}` before pulumi/actions"
        assert setup <= on_path, f"{name}: put uv on the PATH after `make setup` installed it"


def test_the_readme_says_it_once_in_the_real_path_steps() -> None:
    readme = (ROOT / "README.md").read_text()
    real_path = readme.split("## The real path", 1)[1].split("\n## ", 1)[0]
    assert UV_IN_SHELL in real_path
    assert readme.count(UV_IN_SHELL) == 1


@pytest.mark.skipif(not (ROOT / ".venv" / ".synced").exists(), reason="needs `make setup` to have run")
def test_make_uv_path_names_the_folder_of_the_uv_make_setup_uses() -> None:
    run = subprocess.run(["make", "-s", "uv-path"], cwd=ROOT, capture_output=True, text=True, check=True)
    folder = Path(run.stdout.strip())
    assert run.stdout.count("\n") == 1, run.stdout
    assert os.access(folder / "uv", os.X_OK), folder
    dry = subprocess.run(["make", "-n", "setup", "-W", "uv.lock"], cwd=ROOT, capture_output=True, text=True, check=True)
    assert f"{folder / 'uv'} sync --frozen" in dry.stdout


def test_the_deploy_workflow_runs_the_infra_layer_then_the_platform_layer() -> None:
    (job,) = [job for name, job in _jobs() if name.startswith("deploy.yml:")]
    stacks = [job["steps"][i]["with"]["stack-name"] for i in _pulumi_steps(job)]
    assert len(stacks) == 2
    assert "-infra" in stacks[0]
    assert "-platform" in stacks[1]
    for i in _pulumi_steps(job):
        assert job["steps"][i]["with"]["command"] == "up"
        assert "if" not in job["steps"][i], "the platform step runs only after the infra step succeeded"


def test_pulumi_steps_reach_pulumi_cloud_organisations_and_self_managed_backends() -> None:
    readme = (ROOT / "README.md").read_text()
    for name, job in _jobs():
        for i in _pulumi_steps(job):
            inputs = job["steps"][i]["with"]
            assert "vars.PULUMI_ORG" in inputs["stack-name"], name
            # Each layer's stack of the environment (docs/LAYERS.md): `<env>-infra`, then `<env>-platform`.
            assert "matrix.environment" in inputs["stack-name"], name
            assert (
                "-infra" in inputs["stack-name"]
                or "matrix.layer" in inputs["stack-name"]
                or ("-platform" in inputs["stack-name"])
            ), name
            assert inputs["cloud-url"] == "${{ vars.PULUMI_BACKEND_URL }}", name
    for variable in ("PULUMI_ORG", "PULUMI_BACKEND_URL"):
        assert f"| `{variable}` |" in readme


def test_the_documented_plan_contract_is_the_shape_kfvs_prints() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    example = json.loads(doc.split("## The plan contract", 1)[1].split("```json\n", 1)[1].split("```", 1)[0])
    plan = examples.plan("dev")
    assert example.keys() == plan.keys()
    assert {k for r in plan["resources"] for k in r} == example["resources"][0].keys()
    assert {k for t in plan["totals"].values() for k in t} == example["totals"]["<team>"].keys()
    assert Verdict("p", "q", "advisory", "", "m").as_json().keys() == example["policies"][0].keys()
