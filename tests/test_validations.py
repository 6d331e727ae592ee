"""The suite's schema validation memo answers exactly what validation answers (tests/validations.py)."""

from __future__ import annotations

import copy
from typing import Any

from infra.kfvs.lint import builtin
from infra.kfvs.lint import schema as lint_schema
from tests.validations import ValidationMemo

VERSION = "1.32"
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}


def _real_errors() -> Any:
    """`schema.errors` itself, whether or not the suite's memo stands in for it."""
    current = lint_schema.errors
    return current.errors if isinstance(current, ValidationMemo) else current


def _deployment_validator() -> Any:
    definition = builtin.kinds(VERSION)[("apps", "v1", "Deployment")]
    return builtin.validator(VERSION, definition)


def test_an_object_seen_before_is_answered_without_validating_it_again() -> None:
    calls: list[Any] = []

    def errors(validator: Any, instance: Any) -> list[str]:
        calls.append(instance)
        found: list[str] = _real_errors()(validator, instance)
        return found

    memo = ValidationMemo(errors)
    validator = _deployment_validator()
    assert memo(validator, DEPLOYMENT) == []
    assert memo(validator, copy.deepcopy(DEPLOYMENT)) == []
    assert (len(calls), memo.hits) == (1, 1)


def test_a_changed_object_or_another_schema_is_validated_again() -> None:
    memo = ValidationMemo(_real_errors())
    validator = _deployment_validator()
    assert memo(validator, DEPLOYMENT) == []
    broken = copy.deepcopy(DEPLOYMENT)
    broken["spec"]["replicas"] = "three"
    assert memo(validator, broken) == ["spec.replicas: 'three' is not of type 'integer', 'null'"]
    service = builtin.validator(VERSION, builtin.kinds(VERSION)[("", "v1", "Service")])
    assert memo(service, broken) != memo(validator, broken)
    assert memo.hits == 1  # the second `validator, broken`


def test_an_answer_handed_out_can_be_changed_without_changing_the_next() -> None:
    memo = ValidationMemo(lambda v, i: ["a problem"])
    validator = object()
    first = memo(validator, DEPLOYMENT)
    first.append("edited by its caller")
    assert memo(validator, DEPLOYMENT) == ["a problem"]
    assert memo.hits == 1


def test_the_suites_lints_go_through_the_memo(validation_memo: ValidationMemo) -> None:
    assert lint_schema.errors is validation_memo
