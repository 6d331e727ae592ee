"""The URNs deployed environments hold, and the URNs a run of the program answers to, aliases included.

The lock (tests/fixtures/urns/<env>.txt) lists, per example environment, each resource's URN without its stack
and project (`<qualified type>::<name>`): the keys its state holds. A resource that no longer registers under one
of them, and carries no alias leading back to it, is a delete and a create at the next `pulumi up`. Aliases are
resolved as the engine resolves them (pkg/resource/deploy/step_generator.go, `generateAliases`): a resource
answers to its own URN, to each of its alias specs filled in from itself, and to all of those under each URN its
parent answers to, so an alias on a component carries its children with it.

Regenerate the lock with `.venv/bin/python -m tests.urns` to add what a change adds, or drop what it removes on
purpose (say so in the pull request), never to silence a rename: that needs an alias.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra import paths
from infra.kfvs.recorder import STACK_TYPE, Recording, RecordingMonitor, Registration, record
from infra.kfvs.run import infra_references, validate_stack
from infra.program import main
from infra.stackfile import read_stack_config

LOCK = paths.PROJECT_ROOT / "tests" / "fixtures" / "urns"


class AliasMonitor(RecordingMonitor):
    """The recording monitor, also keeping the aliases each registration carries (a Registration drops them)."""

    def __init__(self, recording: Recording, on_register: Callable[[Registration], None] | None = None) -> None:
        super().__init__(recording, on_register)
        self.aliases: dict[str, list[Any]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self.aliases[self.make_urn(request.parent, request.type, request.name)] = list(request.aliases)
        return super().RegisterResource(request)


def short(urn: str) -> str:
    """A URN without `urn:pulumi:<stack>::<project>::`: what stays when a resource moves between stacks."""
    return urn.split("::", 2)[2]


def _type_and_name(urn: str) -> tuple[str, str]:
    """A URN's own type (the last of its qualified type) and its name."""
    qualified, name = short(urn).split("::", 1)
    return qualified.rsplit("$", 1)[-1], name


def _urn(like: str, parent: str | None, type_: str, name: str) -> str:
    """A URN in `like`'s stack and project, as the engine builds it: the parent's qualified type before the type,
    unless the parent is the root stack."""
    prefix = like[: len(like) - len(short(like))]
    qualified = type_
    if parent and short(parent).split("::", 1)[0] != STACK_TYPE:
        qualified = f"{short(parent).split('::', 1)[0]}${type_}"
    return f"{prefix}{qualified}::{name}"


def _own_aliases(urn: str, reg: Registration, aliases: list[Any]) -> set[str]:
    """The URNs a resource's own alias specs name, each filled in from the resource where it says nothing."""
    out = set()
    for alias in aliases:
        if alias.WhichOneof("alias") == "urn":
            out.add(alias.urn)
            continue
        # As the engine reads a spec: a parent URN if one is given, no parent if so marked, else the current one.
        spec, parent = alias.spec, reg.parent
        if spec.parentUrn:
            parent = spec.parentUrn
        elif spec.noParent:
            parent = None
        out.add(_urn(urn, parent, spec.type or reg.type, spec.name or reg.name))
    return out


def answers(recording: Recording, aliases: dict[str, list[Any]]) -> dict[str, set[str]]:
    """Every URN each registered resource answers to: its own, and those its aliases and its parents' lead to."""
    out: dict[str, set[str]] = {}
    for urn, reg in recording.resources.items():  # a parent registers before its children
        own = {urn} | _own_aliases(urn, reg, aliases.get(urn, []))
        parent_aliases = out.get(reg.parent, set()) - {reg.parent} if reg.parent else set()
        out[urn] = own | {_urn(urn, p, *_type_and_name(u)) for p in parent_aliases for u in own}
    return out


def record_answers(stack: str, root: Path = paths.PROJECT_ROOT) -> dict[str, set[str]]:
    """Per resource of one stack (the root stack aside), by short URN: the short URNs it answers to."""
    monitors: list[AliasMonitor] = []

    def monitor(recording: Recording, on_register: Callable[[Registration], None] | None) -> RecordingMonitor:
        monitors.append(AliasMonitor(recording, on_register))
        return monitors[-1]

    settings = validate_stack(stack, root)
    config, secret = read_stack_config(stack, root)
    references = infra_references(settings, root)
    recording = record(
        lambda: main(root), paths.PROJECT_NAME, stack, config, secret, references=references, monitor_type=monitor
    )
    return {
        short(urn): {short(u) for u in urns}
        for urn, urns in answers(recording, monitors[0].aliases).items()
        if recording.resources[urn].type != STACK_TYPE
    }


def environment_stacks(env: str, root: Path = paths.PROJECT_ROOT) -> list[str]:
    """The example stacks of one environment: its one stack file, or its layers' (docs/LAYERS.md), or both."""
    return [s for s in (env, f"{env}-infra", f"{env}-platform") if (root / "stacks" / f"Pulumi.{s}.yaml").is_file()]


def environment_answers(env: str, root: Path = paths.PROJECT_ROOT) -> dict[str, set[str]]:
    """The environment's stacks together: a resource moved between its layers keeps its state (its short URN)."""
    return {urn: urns for stack in environment_stacks(env, root) for urn, urns in record_answers(stack, root).items()}


def locked(env: str) -> list[str]:
    """The environment's locked short URNs."""
    lines = (LOCK / f"{env}.txt").read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def environments() -> list[str]:
    """The environments with a lock."""
    return sorted(p.stem for p in LOCK.glob("*.txt"))


def write_lock(env: str, urns: set[str]) -> None:
    """The lock of one environment: the URNs its state holds once the program is applied."""
    header = f"# The URNs (stack and project left out) the {env} environment's state holds: see tests/urns.py.\n"
    (LOCK / f"{env}.txt").write_text(header + "".join(f"{u}\n" for u in sorted(urns)), encoding="utf-8")


if __name__ == "__main__":
    for environment in environments():
        write_lock(environment, set(environment_answers(environment)))
