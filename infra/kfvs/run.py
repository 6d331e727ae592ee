"""Plan a stack offline: read its file, validate, run the program under mocks, build the plan."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs.check import Judges, Verdict
from infra.kfvs.environments import layer_stacks, merged
from infra.kfvs.plan import Plan, build_plan
from infra.kfvs.recorder import Recording, StackOutputs, record
from infra.program import main
from infra.settings import Settings, load_settings
from infra.stackfile import read_stack_config


def validate_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> Settings:
    """The settings of STACK (of each layer of an environment: the platform's, which sees the whole
    environment), or ConfigError listing every problem of every layer."""
    settings: Settings | None = None
    problems: list[Problem] = []
    for name in layer_stacks(stack, root):
        config, secret = read_stack_config(name, root)
        try:
            settings = load_settings(name, config, secret, root)
        except ConfigError as error:
            problems += [p for p in error.problems if p not in problems]
    if problems or settings is None:
        raise ConfigError(problems)
    return settings


def infra_references(
    settings: Settings, root: Path = paths.PROJECT_ROOT, infra: Recording | None = None
) -> dict[str, StackOutputs]:
    """For the platform layer, its StackReference's answer: the infra stack's exports from its own offline plan
    (as that layer would be once deployed, so the platform's cluster providers are known, as at its preview)."""
    if settings.layer != "platform" or settings.infra_stack is None:
        return {}
    infra_stack = settings.infra_stack.rsplit("/", 1)[-1]
    recording = infra if infra is not None and infra.stack == infra_stack else record_stack(infra_stack, root)[1]
    return {settings.infra_stack: recording.outputs or StackOutputs({}, frozenset())}


def record_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> tuple[Settings, Recording]:
    """Validate, then run the real program under the mock runtime and record it; for an environment, each
    layer in order, as one recording (and the platform layer's settings, which see the whole environment)."""
    stacks = layer_stacks(stack, root)
    runs: list[tuple[Settings, Recording]] = []
    for name in stacks:
        runs.append(_record_one(name, root, runs[-1][1] if runs else None))
    if len(runs) == 1 and stacks == [stack]:
        return runs[0]
    return runs[-1][0], merged(stack, [r for _, r in runs])


def _record_one(stack: str, root: Path, infra: Recording | None) -> tuple[Settings, Recording]:
    config, secret = read_stack_config(stack, root)
    settings = load_settings(stack, config, secret, root)
    references = infra_references(settings, root, infra)
    recording = record(lambda: main(root), paths.PROJECT_NAME, stack, config, secret, references=references)
    return settings, recording


@contextmanager
def judged_run(
    stack: str, root: Path = paths.PROJECT_ROOT, infra: Recording | None = None
) -> Iterator[tuple[Settings, Recording, Judges]]:
    """`record_stack` of one stack with the policy packs listening, as in `pulumi preview --policy-pack`: they
    boot while the settings are validated and analyse each resource as it registers; `Judges.verdicts` ends the
    run."""
    config, secret = read_stack_config(stack, root)
    with Judges(stack, root) as judges:
        settings = load_settings(stack, config, secret, root)
        references = infra_references(settings, root, infra)
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
    """The stack's settings, recording and every pack's verdicts; for an environment, each layer judged on its
    own, as `pulumi preview --policy-pack` judges each stack, in one recording and one list."""
    stacks = layer_stacks(stack, root)
    runs: list[tuple[Settings, Recording, list[Verdict]]] = []
    for name in stacks:
        with judged_run(name, root, runs[-1][1] if runs else None) as (settings, recording, judges):
            runs.append((settings, recording, judges.verdicts(recording)))
    if len(runs) == 1 and stacks == [stack]:
        return runs[0]
    return runs[-1][0], merged(stack, [r for _, r, _ in runs]), [v for *_, verdicts in runs for v in verdicts]


def plan_stack(stack: str, root: Path = paths.PROJECT_ROOT, policies: bool = False) -> Plan:
    """The plan of one stack, in the contract's shape; with `policies`, the packs' verdicts too."""
    if not policies:
        return plan_of(*record_stack(stack, root))
    return plan_of(*judge_stack(stack, root))


def plan_of(settings: Settings, recording: Recording, verdicts: list[Verdict] | None = None) -> Plan:
    """A recorded run's plan, the verdicts given (when the packs judged it) among it."""
    plan = build_plan(recording, [t.name for t in settings.teams])
    if verdicts is not None:
        plan["policies"] = [v.as_json() for v in verdicts]
    return plan
