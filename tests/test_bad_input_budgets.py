"""Class 6, budgets: policy configs are validated strictly (unknown policies and keys, wrong types, NaN and
infinities, enforcement levels) before any pack judges, by `kfvs validate` as by `kfvs check` and `plan`."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra import paths
from infra.errors import Problem
from infra.policy_configs import ENFORCEMENT_LEVELS, check_policy_configs
from tests.bad_input import POLICY, Case, assert_cli_refused, cases, check_case, kfvs, policy_doc, replace, write

GUARDRAILS = "policies/guardrails/config/dev.json"
_Q = "team-quotas"


def _quota(change: Any) -> Any:
    return policy_doc(lambda d: change(d[_Q]))


@cases(
    Case("unknown-policy", POLICY, policy_doc(lambda d: d.update({"team-qoutas": "mandatory"})), "team-qoutas"),
    Case(
        "unknown-team-key",
        POLICY,
        _quota(lambda q: q["teams"]["nlp"].update({"gpu": 4})),
        f"{_Q}.teams.nlp",
        "('gpu' was unexpected)",
    ),
    Case("unknown-top-key", POLICY, _quota(lambda q: q.update({"gpuBudget": 3})), _Q, "('gpuBudget' was unexpected)"),
    Case(
        "string-for-number",
        POLICY,
        _quota(lambda q: q["teams"]["vision"].update({"gpus": "lots"})),
        f"{_Q}.teams.vision.gpus",
        "'lots' is not of type 'number'",
    ),
    Case(
        "boolean-for-number",
        POLICY,
        _quota(lambda q: q.update({"environmentGpus": True})),
        f"{_Q}.environmentGpus",
        "is not of type 'integer'",
    ),
    Case(
        "null-for-number",
        POLICY,
        _quota(lambda q: q["teams"]["vision"].update({"vcpu": None})),
        f"{_Q}.teams.vision.vcpu",
        "None is not of type 'number'",
    ),
    Case(
        "negative",
        POLICY,
        _quota(lambda q: q["teams"]["vision"].update({"gpus": -1})),
        f"{_Q}.teams.vision.gpus",
        "less than the minimum",
    ),
    Case(
        "fraction-of-a-gpu-budget",
        POLICY,
        _quota(lambda q: q.update({"environmentGpus": 2.5})),
        f"{_Q}.environmentGpus",
        "not of type 'integer'",
    ),
    Case("missing-required", POLICY, _quota(lambda q: q.pop("environmentGpus")), _Q, "'environmentGpus' is a required"),
    Case("nan", POLICY, replace(POLICY, '"gpus": 6,', '"gpus": NaN,'), f"{_Q}.teams.nlp.gpus", "NaN"),
    Case("infinity", POLICY, replace(POLICY, '"gpus": 6,', '"gpus": Infinity,'), f"{_Q}.teams.nlp.gpus", "Infinity"),
    Case(
        "bad-level",
        POLICY,
        _quota(lambda q: q.update({"enforcementLevel": "mandatroy"})),
        f"{_Q}.enforcementLevel",
        "not an enforcement level",
    ),
    Case(
        "level-of-wrong-type",
        GUARDRAILS,
        write(GUARDRAILS, '{"stateful-resources-protected": 3}'),
        "stateful-resources-protected",
        "expected an enforcement level",
    ),
    Case(
        "bad-level-string",
        GUARDRAILS,
        write(GUARDRAILS, '{"stateful-resources-protected": "block"}'),
        "stateful-resources-protected",
        "not an enforcement level",
    ),
    Case(
        "all-with-settings",
        GUARDRAILS,
        write(GUARDRAILS, '{"all": {"enforcementLevel": "advisory", "types": []}}'),
        "all.types",
        "sets only enforcementLevel",
    ),
    Case("not-an-object", GUARDRAILS, write(GUARDRAILS, "[]"), "", "expected a JSON object"),
    Case(
        "guardrails-unknown-setting",
        GUARDRAILS,
        write(GUARDRAILS, '{"stateful-resources-protected": {"typez": []}}'),
        "stateful-resources-protected",
        "('typez' was unexpected)",
    ),
)
def test_each_bad_policy_config_is_refused_naming_file_and_key(project: Path, case: Case) -> None:
    check_case(project, case)


@pytest.mark.parametrize("command", ["validate", "check", "plan"])
def test_every_command_refuses_a_nan_budget_before_any_pack_judges(project: Path, command: str) -> None:
    case = Case("nan", POLICY, replace(POLICY, '"gpus": 10,', '"gpus": NaN,'), f"{_Q}.teams.vision.gpus")
    case.edit(project)
    run = kfvs(project, command, "dev")
    assert_cli_refused(run, case)
    assert "[mandatory]" not in run.stdout  # no pack judged


_JSON_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(allow_nan=False), st.text(max_size=8)
)


@settings(max_examples=40, deadline=None)
@given(
    key=st.sampled_from(["environmentGpus", "gpus", "vcpu", "memoryGiB", "storageGiB", "enforcementLevel"]),
    value=_JSON_SCALARS,
)
def test_any_value_in_the_budget_is_valid_by_schema_or_refused_in_one_line(key: str, value: object) -> None:
    """Generated values for each budget key: refused exactly when the pack's own schema refuses them."""
    document = json.loads((paths.PROJECT_ROOT / POLICY).read_text())
    target = document[_Q] if key in ("environmentGpus", "enforcementLevel") else document[_Q]["teams"]["vision"]
    target[key] = value
    problems = _problems_of(json.dumps(document))
    valid = _valid(key, value)
    assert (not problems) == valid, (key, value, problems)
    assert all("\n" not in str(p) and p.file == POLICY for p in problems)


def _valid(key: str, value: object) -> bool:
    if key == "enforcementLevel":
        return value in ENFORCEMENT_LEVELS
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return False
    if value == float("inf"):
        return False
    # JSON Schema's integer is any number without a fraction (2.0 included), as Pulumi's CLI checks it.
    return float(value).is_integer() if key == "environmentGpus" else True


def _problems_of(text: str) -> list[Problem]:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        shutil.copytree(paths.PROJECT_ROOT / "policies", root / "policies")
        shutil.copytree(paths.PROJECT_ROOT / "stacks", root / "stacks")
        (root / POLICY).write_text(text)
        return check_policy_configs("dev", root)
