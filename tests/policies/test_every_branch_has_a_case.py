"""Every policy of every pack has a suite, and every finding it can report (each message template) a case that
trips it; the shared baseline passes them all; the packs shared across cases judge as freshly started ones do."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from infra.kfvs.check import check, policy_packs
from tests.policies.cases import BASELINE, Case, template_pattern
from tests.policies.conftest import Judge
from tests.policies.test_team_quotas import FAILING

SUITES = Path(__file__).parent


def _suites() -> Iterator[ModuleType]:
    for path in sorted(SUITES.glob("test_*.py")):
        module = importlib.import_module(f"tests.policies.{path.stem}")
        if hasattr(module, "POLICY"):
            yield module


def _templates() -> dict[str, dict[str, str]]:
    """Per policy of every pack under policies/, its message templates by branch: the pack's own MESSAGES, or,
    for a pack that keeps its messages inline, the TEMPLATES its suite lists."""
    listed = {s.POLICY: getattr(s, "TEMPLATES", {}) for s in _suites()}
    found: dict[str, dict[str, str]] = {}
    for pack in policy_packs():
        rules = importlib.import_module(f"policies.{pack.name}.rules")
        named = getattr(rules, "MESSAGES", {})
        for policy in rules.POLICIES:
            found[policy.name] = named.get(policy.name) or listed.get(policy.name, {})
    return found


TEMPLATES = _templates()
CASES: dict[str, list[Case]] = {s.POLICY: s.CASES for s in _suites()}


def test_the_packs_are_found_and_name_only_their_own_policies() -> None:
    assert {"gpu-memory-reserved", "team-quotas"} <= set(TEMPLATES)
    for pack in policy_packs():
        rules = importlib.import_module(f"policies.{pack.name}.rules")
        assert set(getattr(rules, "MESSAGES", {})) <= {p.name for p in rules.POLICIES}, pack.name


def test_every_suite_is_of_a_policy_a_pack_serves() -> None:
    assert set(CASES) <= set(TEMPLATES)


@pytest.mark.parametrize("policy", sorted(TEMPLATES))
def test_every_policy_has_a_suite_and_every_branch_a_case(policy: str) -> None:
    assert policy in CASES, f"no suite for {policy}: add tests/policies/test_{policy.replace('-', '_')}.py"
    assert TEMPLATES[policy], f"{policy} names no message templates (MESSAGES in its pack)"
    reported = [m for case in CASES[policy] for m in case.messages]
    for branch, template in TEMPLATES[policy].items():
        pattern = template_pattern(template)
        assert any(pattern.fullmatch(m) for m in reported), f"{policy}: no case trips branch '{branch}'"


@pytest.mark.parametrize("policy", sorted(CASES))
def test_every_expected_message_is_one_the_policy_can_report(policy: str) -> None:
    patterns = [template_pattern(t) for t in TEMPLATES.get(policy, {}).values()]
    for case in CASES[policy]:
        for message in case.messages:
            assert any(p.fullmatch(message) for p in patterns), (case.name, message)


def test_every_suite_has_a_passing_case() -> None:
    """A suite of only red cases could pass with a policy that reports everything."""
    for policy, cases in CASES.items():
        assert any(not c.messages for c in cases), policy


def test_the_baseline_passes_every_pack(judge: Judge) -> None:
    assert judge(BASELINE) == []


def test_reused_packs_forget_the_previous_case(judge: Judge) -> None:
    """The suites reuse one process per pack and stack: they must judge as freshly started ones do."""
    assert judge(FAILING) == check(FAILING)
    assert judge(BASELINE) == []
