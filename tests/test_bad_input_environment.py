"""Class 5, environment consistency: a stack is what its name says, prod checks vCenter's certificate, a
required secret that is missing is named, team files and policy configs name real environments."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from infra.kfvs.run import validate_stack
from tests.bad_input import (
    STACK,
    TEAM,
    Case,
    assert_cli_refused,
    cases,
    check_case,
    kfvs,
    replace,
    stack_config,
)

PROD = "stacks/Pulumi.prod.yaml"
STAGING = "stacks/Pulumi.staging.yaml"
_TIER = "kubeflow-vsphere:environment.tier"


def _tier(tier: str, stack: str) -> Any:
    return stack_config(lambda c: c["kubeflow-vsphere:environment"].update({"tier": tier}), stack)


def _drop(key: str) -> Any:
    return stack_config(lambda c: c.pop(key))


def _copy_stack(source: str, name: str, tier: str) -> Any:
    def edit(project: Path) -> None:
        for layer in ("infra", "platform"):  # an environment is its two layers' files
            text = (project / f"stacks/Pulumi.{source}-{layer}.yaml").read_text()
            target = project / f"stacks/Pulumi.{name}-{layer}.yaml"
            target.write_text(text.replace(f"tier: {source}", f"tier: {tier}"))
        for pack in ("quotas", "guardrails"):
            config = project / f"policies/{pack}/config/{source}.json"
            (project / f"policies/{pack}/config/{name}.json").write_text(config.read_text())

    return edit


@cases(
    Case("prod-file-dev-tier", PROD, _tier("dev", "prod"), _TIER, "set tier: prod", stack="prod"),
    Case("dev-file-prod-tier", STACK, _tier("prod", "dev"), _TIER, "set tier: dev"),
    Case("staging-file-prod-tier", STAGING, _tier("prod", "staging"), _TIER, "set tier: staging", stack="staging"),
    Case(
        "prod-eu-with-dev-tier",
        "stacks/Pulumi.prod-eu.yaml",
        _copy_stack("prod", "prod-eu", "dev"),
        _TIER,
        "set tier: prod",
        stack="prod-eu",
    ),
    *(
        Case(
            f"prod-unverified-ssl-{value}",
            PROD,
            replace(PROD, "vsphere:allowUnverifiedSsl: false", f"vsphere:allowUnverifiedSsl: {value}"),
            "vsphere:allowUnverifiedSsl",
            "must not be true in prod",
            stack="prod",
        )
        for value in ("true", "'True'", "yes")
    ),
    *(
        Case(
            f"missing-{key}",
            STACK,
            _drop(f"kubeflow-vsphere:{key}"),
            f"kubeflow-vsphere:{key}",
            "required by",
        )
        for key in ("supervisorKubeconfig", "ngcApiKey", "nlsClientToken")
    ),
    Case(
        "missing-oidc-client-secret",
        PROD,
        stack_config(lambda c: c.pop("kubeflow-vsphere:oidcClientSecret"), "prod"),
        "kubeflow-vsphere:oidcClientSecret",
        "(kubeflow.auth.mode: oidc)",
        stack="prod",
    ),
    Case(
        "team-names-no-such-environment",
        TEAM,
        replace(TEAM, "  staging:\n", "  qa:\n"),
        "environments.qa",
        "unknown environment",
    ),
    Case(
        "prod-policy-disabled",
        "policies/guardrails/config/prod.json",
        lambda p: (p / "policies/guardrails/config/prod.json").write_text(
            '{"stateful-resources-protected": "disabled"}'
        ),
        "stateful-resources-protected",
        "disables a policy in a prod stack",
        stack="prod",
    ),
)
def test_each_inconsistent_environment_is_refused(project: Path, case: Case) -> None:
    check_case(project, case)


def test_a_tier_free_stack_name_takes_any_tier(project: Path) -> None:
    _copy_stack("dev", "lab", "dev")(project)
    assert validate_stack("lab", project).environment.tier == "dev"


@pytest.mark.parametrize("stack", ["prod", "staging"])
def test_the_cli_refuses_a_stack_whose_tier_contradicts_its_name(project: Path, stack: str) -> None:
    _tier("dev", stack)(project)
    file = f"stacks/Pulumi.{stack}.yaml"
    assert_cli_refused(kfvs(project, "validate", stack), Case(stack, file, _tier("dev", stack), _TIER))
