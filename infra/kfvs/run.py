"""Plan a stack offline: read its file, validate, run the program under mocks, build the plan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra import paths
from infra.kfvs.check import Judges, Verdict
from infra.kfvs.plan import Plan, build_plan
from infra.kfvs.recorder import Recording, StackOutputs, record
from infra.kfvs.stackfile import read_stack_config
from infra.program import main
from infra.settings import Settings, load_settings


def validate_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> Settings:
    """The stack's settings, or ConfigError listing every problem."""
    config, secret = read_stack_config(stack, root)
    return load_settings(stack, config, secret, root)


def infra_references(settings: Settings, root: Path = paths.PROJECT_ROOT) -> dict[str, StackOutputs]:
    """For the platform layer, its StackReference's answer: the infra stack's exports from its own offline plan
    (as that layer would be once deployed, so the platform's cluster providers are known, as at its preview)."""
    if settings.layer != "platform" or settings.infra_stack is None:
        return {}
    infra_stack = settings.infra_stack.rsplit("/", 1)[-1]
    recording = record_stack(infra_stack, root)[1]
    return {settings.infra_stack: recording.outputs or StackOutputs({}, frozenset())}


def record_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> tuple[Settings, Recording]:
    """Validate, then run the real program under the mock runtime and record it."""
    config, secret = read_stack_config(stack, root)
    settings = load_settings(stack, config, secret, root)
    references = infra_references(settings, root)
    recording = record(lambda: main(root), paths.PROJECT_NAME, stack, config, secret, references=references)
    return settings, recording


@contextmanager
def judged_run(stack: str, root: Path = paths.PROJECT_ROOT) -> Iterator[tuple[Settings, Recording, Judges]]:
    """`record_stack` with the policy packs listening, as in `pulumi preview --policy-pack`: they boot while
    the settings are validated and analyse each resource as it registers; `Judges.verdicts` ends the run."""
    config, secret = read_stack_config(stack, root)
    with Judges(stack, root) as judges:
        settings = load_settings(stack, config, secret, root)
        references = infra_references(settings, root)
        judges.configure()
        recording = record(
            lambda: main(root),
            paths.PROJECT_NAME,
            stack,
            config,
            secret,
            on_register=judges.analyze,
            references=references,
        )
        yield settings, recording, judges


def judge_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> tuple[Settings, Recording, list[Verdict]]:
    """The stack's settings, recording and every pack's verdicts."""
    with judged_run(stack, root) as (settings, recording, judges):
        return settings, recording, judges.verdicts(recording)


def plan_stack(stack: str, root: Path = paths.PROJECT_ROOT, policies: bool = False) -> Plan:
    """The plan of one stack, in the contract's shape; with `policies`, the packs' verdicts too."""
    if not policies:
        settings, recording = record_stack(stack, root)
        return build_plan(recording, [t.name for t in settings.teams])
    settings, recording, verdicts = judge_stack(stack, root)
    plan = build_plan(recording, [t.name for t in settings.teams])
    plan["policies"] = [v.as_json() for v in verdicts]
    return plan
