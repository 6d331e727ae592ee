"""Pull-request support: which stacks a change touches, the comment, CODEOWNERS, and a team-only diff."""

from __future__ import annotations

from pathlib import Path

from infra import paths
from infra.kfvs.check import Verdict
from infra.kfvs.diff import ABSENT, Change, PlanDiff
from infra.kfvs.pr import (
    COMMENT_LIMIT,
    MARKER,
    StackReport,
    affected_stacks,
    codeowners,
    codeowners_drift,
    render_comment,
)
from tests import yamlio
from tests.conftest import KfvsRunner, git

STACKS = ["dev", "prod", "sandbox", "staging"]


def test_a_team_file_touches_exactly_the_stacks_it_names() -> None:
    envs = {"stacks/teams/nlp.yaml": {"dev", "prod"}}
    assert affected_stacks(["stacks/teams/nlp.yaml"], STACKS, envs) == ["dev", "prod"]


def test_stack_files_and_policy_configs_touch_their_stack() -> None:
    assert affected_stacks(["stacks/Pulumi.staging.yaml"], STACKS, {}) == ["staging"]
    assert affected_stacks(["policies/quotas/config/prod.json"], STACKS, {}) == ["prod"]


LAYERED = [f"{env}-{layer}" for env in ("dev", "prod") for layer in ("infra", "platform")]


def test_a_layers_file_touches_both_layers_of_its_environment() -> None:
    # Each layer reads the other's plain keys (infra/layer_config.py): a change to one is planned in both.
    assert affected_stacks(["stacks/Pulumi.prod-infra.yaml"], LAYERED, {}) == ["prod-infra", "prod-platform"]
    assert affected_stacks(["policies/guardrails/config/dev.json"], LAYERED, {}) == ["dev-infra", "dev-platform"]
    envs = {"stacks/teams/nlp.yaml": {"prod"}}
    assert affected_stacks(["stacks/teams/nlp.yaml"], LAYERED, envs) == ["prod-infra", "prod-platform"]


def test_code_and_policies_touch_every_stack_docs_none() -> None:
    assert affected_stacks(["components/tenancy.py"], STACKS, {}) == STACKS
    assert affected_stacks(["policies/quotas/rules.py"], STACKS, {}) == STACKS
    assert affected_stacks(["uv.lock"], STACKS, {}) == STACKS
    assert affected_stacks(["README.md", ".github/CODEOWNERS"], STACKS, {}) == []


def test_comment_carries_the_marker_a_summary_and_verdicts() -> None:
    blocked = Verdict("kubeflow-vsphere-quotas", "team-quotas", "mandatory", "", "team 'nlp' asks for 9 GPUs")
    reports = [StackReport("dev", PlanDiff(), [blocked]), StackReport("prod", PlanDiff(), [])]
    body = render_comment(reports, "origin/main")
    assert body.startswith(MARKER + "\n")
    assert "2 stack(s) against `origin/main`; **blocked**: mandatory policy violations." in body
    assert "| `dev` | 0 | 0 | 0 | 1 |" in body
    assert "| mandatory | kubeflow-vsphere-quotas/team-quotas | team 'nlp' asks for 9 GPUs |" in body
    assert "No stack is touched" in render_comment([], "origin/main")


def test_a_comment_too_long_for_github_shrinks_but_keeps_every_verdict() -> None:
    urns = [f"urn:pulumi:dev::p::t:i:T::pool-{i:04d}" for i in range(400)]
    big = PlanDiff(
        changed={
            u: [Change(f"inputs.spec.pools[name=p{j}]", ABSENT, {"vmClass": "x" * 90}) for j in range(3)] for u in urns
        },
        types=dict.fromkeys(urns, "t:i:T"),
    )
    verdict = Verdict("quotas", "team-quotas", "mandatory", "", "team 'nlp' | asks\nfor 9 GPUs")
    body = render_comment([StackReport("dev", big, [verdict])], "origin/main")
    assert len(body) <= COMMENT_LIMIT
    assert "Shortened to fit GitHub's comment limit: changed inputs left out" in body
    assert body.count("| ~ | `t:i:T` |") == 400
    assert "| mandatory | quotas/team-quotas | team 'nlp' \\| asks for 9 GPUs |" in body
    small = render_comment(
        [StackReport("dev", PlanDiff(changed={urns[0]: big.changed[urns[0]]}, types=big.types), [])], "m"
    )
    assert "Shortened" not in small
    assert "<details>" in small


def test_codeowners_is_generated_from_the_team_files() -> None:
    assert (paths.PROJECT_ROOT / ".github" / "CODEOWNERS").read_text() == codeowners(), codeowners_drift()
    assert "/stacks/teams/vision.yaml  ana.silva@example.internal" in codeowners()


def test_a_team_file_change_diffs_only_that_teams_resources(kfvs: KfvsRunner, project: Path) -> None:
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "base")
    path = project / "stacks/teams/vision.yaml"
    document = yamlio.load(path.read_text())
    document["environments"]["dev"]["profile"]["quota"]["gpus"] = 3
    path.write_text(yamlio.dump(document, sort_keys=False))
    run = kfvs("diff", "dev", "--base", "main")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("dev: 0 to add, 1 to change, 0 to delete (against main)")
    assert "~ kubernetes:kubeflow.org/v1:Profile" in run.stdout
    assert 'inputs.spec.resourceQuotaSpec.hard.requests.nvidia.com/gpu: "4" => "3"' in run.stdout
    git(project, "commit", "-qam", "vision asks for 3 GPUs")
    comment = kfvs("pr-comment", "--base", "main~1")
    assert comment.returncode == 0, comment.stderr
    assert comment.stdout.startswith(MARKER)
    # Layer by layer: the profile is the platform layer's; the infra layer is planned too (it reads the team
    # file for pools) and shows no change.
    assert "| `dev-platform` | 0 | 1 | 0 | 0 |" in comment.stdout
    assert "| `dev-infra` | 0 | 0 | 0 | 0 |" in comment.stdout
    assert "| `staging-platform`" in comment.stdout
    assert "| `sandbox" not in comment.stdout
