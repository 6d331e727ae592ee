"""The packs as a whole: every example stack passes them, judging during the program agrees with judging after
it, a pack that cannot start is named, and what the tenancy component generates is valid upstream."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from components import labels
from infra.kfvs.check import check
from infra.kfvs.run import judge_stack
from infra.layers import LAYERS
from policies import conventions
from policies.usage import PROFILE
from tests.conftest import KfvsRunner
from tests.policies.cases import set_quota
from tests.policies.conftest import Recordings
from tests.reference import crd_schema


def test_conventions_match_the_components() -> None:
    assert conventions.TEAM_LABEL == labels.TEAM_LABEL
    assert conventions.TEAM_EXTRA_CONFIG == labels.TEAM_EXTRA_CONFIG


def test_generated_tenancy_objects_validate_against_real_schemas(recordings: Recordings) -> None:
    rec = recordings("dev")
    profile_schema = crd_schema("kubeflow.org_profiles.yaml", "v1")
    poddefault_schema = crd_schema("kubeflow.org_poddefaults.yaml", "v1alpha1")
    profiles = rec.of_type(PROFILE)
    poddefaults = rec.of_type("kubernetes:kubeflow.org/v1alpha1:PodDefault")
    assert len(profiles) == 3
    assert poddefaults
    for r in profiles:
        jsonschema.validate({k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}, profile_schema)
        quota = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "kf-resource-quota"},
            "spec": r.inputs["spec"]["resourceQuotaSpec"],
        }
        kubernetes_validate.validate(quota, "1.31", strict=True)
    for r in poddefaults:
        jsonschema.validate({k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}, poddefault_schema)
    for r in rec.of_type("kubernetes:core/v1:LimitRange"):
        body = {"apiVersion": "v1", "kind": "LimitRange", "metadata": r.inputs["metadata"], "spec": r.inputs["spec"]}
        kubernetes_validate.validate(body, "1.31", strict=True)


@pytest.mark.parametrize("stack", [f"{env}-{layer}" for env in ("dev", "staging", "prod") for layer in LAYERS])
def test_every_example_stack_passes_every_pack(stack: str, recordings: Recordings) -> None:
    # Each layer judged on its own, as `pulumi preview --policy-pack` judges each stack.
    assert check(recordings(stack)) == []


def test_packs_analysing_during_the_program_agree_with_judging_after_it(project: Path) -> None:
    set_quota(project, "vision", gpus=40)
    # Dev's resources are unprotected: with the rule enforced, every stateful one is a per-resource finding.
    (project / "policies/guardrails/config/dev.json").write_text(
        '{"stateful-resources-protected": "mandatory", "external-data-stores": "disabled"}'
    )
    _, recording, streamed = judge_stack("dev-platform", project)
    assert {v.policy for v in streamed} == {"team-quotas", "stateful-resources-protected"}
    assert streamed == check(recording, project)


def test_a_pack_that_cannot_start_is_named_without_a_traceback(kfvs: KfvsRunner, project: Path) -> None:
    rules = project / "policies/guardrails/rules.py"
    rules.write_text(rules.read_text() + '\nraise RuntimeError("broken pack")\n')
    run = kfvs("check", "dev")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "policies/guardrails: policy pack did not start:" in run.stderr
    assert "RuntimeError: broken pack" in run.stderr
    assert "Traceback (most recent call last)" not in run.stderr.split("policy pack did not start")[0]
