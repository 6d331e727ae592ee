"""Plan a stack offline: read its file, validate, run the program under mocks, build the plan."""

from __future__ import annotations

from pathlib import Path

from infra import paths
from infra.kfvs.check import check
from infra.kfvs.plan import Plan, build_plan
from infra.kfvs.recorder import Recording, record
from infra.kfvs.stackfile import read_stack_config
from infra.program import main
from infra.settings import Settings, load_settings


def validate_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> Settings:
    """The stack's settings, or ConfigError listing every problem."""
    config, secret = read_stack_config(stack, root)
    return load_settings(stack, config, secret, root)


def record_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> tuple[Settings, Recording]:
    """Validate, then run the real program under the mock runtime and record it."""
    config, secret = read_stack_config(stack, root)
    settings = load_settings(stack, config, secret, root)
    recording = record(lambda: main(root), paths.PROJECT_NAME, stack, config, secret)
    return settings, recording


def plan_stack(stack: str, root: Path = paths.PROJECT_ROOT, policies: bool = False) -> Plan:
    """The plan of one stack, in the contract's shape; with `policies`, the packs' verdicts too."""
    settings, recording = record_stack(stack, root)
    plan = build_plan(recording, [t.name for t in settings.teams])
    if policies:
        plan["policies"] = [v.as_json() for v in check(recording, root)]
    return plan
