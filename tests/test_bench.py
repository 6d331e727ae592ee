"""The benchmark's floors measure what they claim: the same resources, and packs of the same shape."""

from __future__ import annotations

import json
from pathlib import Path

from bench.floor import main as replay
from bench.floor import manifest
from bench.generate import environment
from bench.policy_floor import hollow_project
from bench.suite import slowest, summary
from infra.kfvs.check import check
from infra.kfvs.run import record_stack
from tests import yamlio
from tests.environment_files import join_environment
from tests.policies.test_team_quotas import FAILING


def test_floor_registers_the_plans_resources_with_their_inputs(tmp_path: Path, project: Path) -> None:
    join_environment(project, "dev")  # the bench plans an environment in one run (bench/generate.py)
    _, recording = record_stack("dev", project)
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest(list(recording.resources.values()), ["pulumi_kubernetes.core.v1"])))
    floor = replay(path)
    assert floor.resources.keys() == recording.resources.keys()
    for urn, r in recording.resources.items():
        if r.type != "pulumi:pulumi:Stack":
            assert floor.resources[urn].inputs == r.inputs, urn
            replayed = floor.resources[urn]
            assert (replayed.parent, replayed.custom, replayed.remote) == (r.parent, r.custom, r.remote), urn
            # Reads (the kubeconfig Secret) are not replayed, so dependencies on them are not either.
            assert set(replayed.dependencies) == set(r.dependencies) & recording.resources.keys(), urn


def test_hollow_packs_keep_the_policies_but_find_nothing(project: Path) -> None:
    hollow = hollow_project(project)
    assert check(FAILING, project)
    assert check(FAILING, hollow) == []


def test_generated_environments_hold_only_generated_teams_whatever_the_repository_holds(
    project: Path, tmp_path: Path
) -> None:
    before = environment(tmp_path / "before", 3, source=project)
    extra = yamlio.load((project / "stacks/teams/nlp.yaml").read_text())
    (project / "stacks/teams/speech.yaml").write_text(yamlio.dump({**extra, "name": "speech"}))
    after = environment(tmp_path / "after", 3, source=project)
    generated = ["team-000.yaml", "team-001.yaml", "team-002.yaml"]
    for env in (before, after):
        assert sorted(p.name for p in (env / "stacks/teams").iterdir()) == generated
        quotas = json.loads((env / "policies/quotas/config/dev.json").read_text())["team-quotas"]
        assert sorted(quotas["teams"]) == [name.removesuffix(".yaml") for name in generated]
        assert "team:" not in (env / "stacks/Pulumi.dev.yaml").read_text()
    plans = [record_stack("dev", env)[1] for env in (before, after)]
    assert plans[0].resources.keys() == plans[1].resources.keys()
    # Budgets fit the generated teams exactly: the quota pack finds nothing (the guardrails are the stack's own).
    assert [v for v in check(plans[1], after) if v.pack == "kubeflow-vsphere-quotas"] == []


def test_the_suite_benchmark_reads_pytests_durations_and_states_its_ratios() -> None:
    report = "\n".join(
        [
            "........ [100%]",
            "============================= slowest 3 durations =============================",
            "2.50s call     tests/test_cli.py::test_plan_text_and_markdown",
            "9.01s setup    tests/test_lint.py::test_x[dev]",
            "0.40s teardown tests/test_pr.py::test_y",
            "(2 durations < 0.005s hidden.  Use -vv to show these durations.)",
        ]
    )
    assert [(t["s"], t["phase"], t["test"]) for t in slowest(report, 2)] == [
        (9.01, "setup", "tests/test_lint.py::test_x[dev]"),
        (2.5, "call", "tests/test_cli.py::test_plan_text_and_markdown"),
    ]
    result = summary(90.0, {"dev": 2.0, "prod": 4.0}, cores=2)
    assert (result["plan_sum_s"], result["suite_per_plans"], result["goal_ratio"]) == (6.0, 15.0, 2.0)
