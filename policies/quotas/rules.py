"""`team-quotas`: each team within its quota (vCPU, memory, GPUs, storage; the VM classes and vGPU
profiles it may use), every GPU the plan holds (the teams' and those no team owns: shared node pools,
platform VMs) within the environment's GPUs, and every object in a team's
namespace labelled so that what it holds is counted. Quotas live in the policy config
(config/<env>.json), owned by the platform team, never in team files.

One policy, not one per dimension: pulumi_policy decodes every resource of the stack once per stack
policy, so each extra stack policy is another full pass over the plan (the 200-team benchmark showed
seven passes taking a third of the plan's time)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.conventions import TEAM_LABEL, environment_of_stack
from policies.usage import (
    PROFILE,
    SOURCE_NAMES,
    STACK_POOLS,
    TEAM_FILE_SOURCES,
    PlanUsage,
    Resource,
    Usage,
    plan_usage,
    referenced,
)

_AMOUNTS: tuple[tuple[str, str, Callable[[Usage], float]], ...] = (
    ("gpus", "GPUs", lambda u: u.gpus),
    ("vcpu", "vCPU", lambda u: u.vcpu),
    ("memoryGiB", "GiB of memory", lambda u: u.memory_gib),
    ("storageGiB", "GiB of storage", lambda u: u.storage_gib),
)
"""(config key, unit read after a number, what the team holds)."""

_CHOICES: tuple[tuple[str, str, Callable[[Usage], set[str]]], ...] = (
    ("vmClasses", "VM class", lambda u: u.vm_classes),
    ("vgpuProfiles", "vGPU profile", lambda u: u.vgpu_profiles),
)
"""(config key, what it lists, what the team uses)."""
_PLURALS = {"VM class": "VM classes", "vGPU profile": "vGPU profiles"}

_NAMES = {"type": "array", "items": {"type": "string"}}
_TEAM_QUOTA = {
    "type": "object",
    "properties": {
        **{key: {"type": "number", "minimum": 0} for key, _, _ in _AMOUNTS},
        **{key: _NAMES for key, _, _ in _CHOICES},
    },
    "additionalProperties": False,
}
_SCHEMA = PolicyConfigSchema(
    properties={
        "environmentGpus": {"type": "integer", "minimum": 0},
        "teams": {"type": "object", "additionalProperties": _TEAM_QUOTA},
    },
    required=["environmentGpus", "teams"],
)


def usage_of(resources: Iterable[PolicyResource]) -> PlanUsage:
    """The stack's own metered resources and, in the platform layer, the infra layer's (its StackReference's
    `meteredResources`): a team's budget covers its whole environment."""
    own = [Resource(r.resource_type, r.urn, r.props) for r in resources]
    return plan_usage([*own, *referenced(own)])


def judged_stack() -> str:
    """The stack being judged. The engine starts a pack with PULUMI_STACK set (pulumi_policy configures the
    Pulumi runtime from it); `kfvs check` starts packs the same way. The budgets file is named after it."""
    return os.environ.get("PULUMI_STACK") or "<stack>"


def budgets_file(stack: str) -> str:
    """The platform team's budgets for a stack's environment: this pack's policy config, one for both layers."""
    return f"policies/quotas/config/{environment_of_stack(stack)}.json"


def team_file(team: str) -> str:
    """A team's own file of requests."""
    return f"stacks/teams/{team}.yaml"


def stack_file(stack: str) -> str:
    """The file where pools and VMs assigned to a team are declared: the stack's, or for the platform layer its
    infra layer's (docs/LAYERS.md)."""
    return f"stacks/Pulumi.{stack.removesuffix('-platform') + '-infra' if stack.endswith('-platform') else stack}.yaml"


Report = Callable[[str, str | None], None]


def _team_quotas(args: StackValidationArgs, report: ReportViolation) -> None:
    """Findings in a fixed order: by team, then dimension (budget, GPUs, vCPU, memory, storage, VM classes,
    vGPU profiles, labels), then the environment as a whole; `kfvs check` and the engine print them so."""
    config = args.get_config()
    quotas: Mapping[str, Mapping[str, Any]] = config.get("teams", {})
    stack = judged_stack()
    plan = usage_of(args.resources)
    usage = plan.teams
    unlabelled = _unlabelled(args.resources)
    for team in sorted(set(usage) | set(unlabelled)):
        held = usage.get(team)
        if held is not None:
            _within(team, held, quotas.get(team), stack, report)
        for urn, message in unlabelled.get(team, []):
            report(message, urn)
    _environment(plan, int(config.get("environmentGpus", 0)), stack, report)


def _within(team: str, held: Usage, quota: Mapping[str, Any] | None, stack: str, report: Report) -> None:
    if quota is None:
        if _holds_anything(held):
            report(
                f"team '{team}' has no budget in this environment; to fix, the platform team adds teams.{team} to "
                f"{budgets_file(stack)} (the platform team's budgets); it asks for {_asks(held)}",
                None,
            )
        return
    for key, unit, measure in _AMOUNTS:
        asked, allowed = measure(held), float(quota.get(key, 0))
        if asked > allowed:
            report(
                f"team '{team}' asks for {_fmt(asked)} {unit} ({_by_source(held, measure)}) but its budget is "
                f"{_fmt(allowed)} {unit}; to fix, {_lower(team, held, measure, stack)}, or raise teams.{team}.{key} "
                f"in {budgets_file(stack)} (the platform team's budgets)",
                None,
            )
    for key, what, used in _CHOICES:
        allowed_names = list(quota.get(key, []))
        for item in sorted(used(held) - set(allowed_names)):
            holds = lambda u, item=item, used=used: item in used(u)  # noqa: E731 - one test per item
            report(
                f"team '{team}' uses {what} '{item}' ({', '.join(_names(held.sources_of(holds)))}), which its budget "
                f"does not allow (allowed: {', '.join(allowed_names) or 'none'}); to fix, "
                f"{_pick_other(team, held, holds, stack)}, or add it to teams.{team}.{key} in {budgets_file(stack)} "
                "(the platform team's budgets)",
                None,
            )


def _holds_anything(held: Usage) -> bool:
    return any(measure(held) for _, _, measure in _AMOUNTS) or any(used(held) for _, _, used in _CHOICES)


def _asks(held: Usage) -> str:
    amounts = [f"{_fmt(measure(held))} {unit}" for _, unit, measure in _AMOUNTS]
    choices = [f"{_PLURALS[what]} {', '.join(sorted(used(held)))}" for _, what, used in _CHOICES if used(held)]
    return ", ".join(amounts + choices)


def _names(sources: Mapping[str, Any]) -> list[str]:
    return [SOURCE_NAMES[s] for s in sources]


def _by_source(held: Usage, measure: Callable[[Usage], float]) -> str:
    return ", ".join(f"{SOURCE_NAMES[s]} {_fmt(v)}" for s, v in held.sources_of(measure).items())


def _files(team: str, sources: Iterable[str], stack: str) -> list[str]:
    """The files that declare these sources, each said as whose it is."""
    sources = set(sources)
    files = []
    if sources & TEAM_FILE_SOURCES:
        files.append(f"{team_file(team)} (the team's file)")
    if STACK_POOLS in sources:
        files.append(f"{stack_file(stack)} (pools the stack assigns to the team)")
    return files


def _lower(team: str, held: Usage, measure: Callable[[Usage], float], stack: str) -> str:
    return "lower the request in " + " or in ".join(_files(team, held.sources_of(measure), stack))


def _pick_other(team: str, held: Usage, holds: Callable[[Usage], bool], stack: str) -> str:
    return "pick an allowed one in " + " or in ".join(_files(team, held.sources_of(holds), stack))


def _environment(plan: PlanUsage, capacity: int, stack: str, report: Report) -> None:
    """Every GPU the plan holds counts, a team's or not: the hosts run the shared pools' and platform VMs' too."""
    total = plan.total_gpus()
    if total <= capacity:
        return
    parts = [f"{team} {u.gpus}" for team, u in sorted(plan.teams.items()) if u.gpus]
    if plan.unowned:
        parts.append(f"no team's {sum(plan.unowned.values())}")
    sources = {s for u in plan.teams.values() for s in u.sources_of(lambda u: u.gpus)}
    where = []
    if sources & TEAM_FILE_SOURCES:
        where.append("the teams' files (stacks/teams/<team>.yaml)")
    if STACK_POOLS in sources:
        where.append(f"{stack_file(stack)} (pools the stack assigns to teams)")
    if plan.unowned:
        owned_by_none = ", ".join(f"{what} {gpus}" for what, gpus in sorted(plan.unowned.items()))
        where.append(f"{stack_file(stack)} (GPUs no team owns: {owned_by_none})")
    report(
        f"the plan holds {total} GPUs in all ({', '.join(parts)}) but the environment has {capacity}; to fix, lower "
        f"the requests in {' or '.join(where)}, or raise environmentGpus in {budgets_file(stack)} (the platform "
        "team's budgets) if the hosts have the GPUs",
        None,
    )


def _unlabelled(resources: list[PolicyResource]) -> dict[str, list[tuple[str, str]]]:
    """Usage is attributed by the team label: an unlabelled object in a team's namespace would escape its quota.
    Per team, (urn, message) in URN order."""
    teams = {str((r.props.get("metadata") or {}).get("name")) for r in resources if r.resource_type == PROFILE}
    found: dict[str, list[tuple[str, str]]] = {}
    for r in resources:
        if not r.resource_type.startswith("kubernetes:"):
            continue
        metadata = r.props.get("metadata") or {}
        owner = metadata.get("name") if r.resource_type == PROFILE else metadata.get("namespace")
        if owner in teams and (metadata.get("labels") or {}).get(TEAM_LABEL) != owner:
            found.setdefault(str(owner), []).append(
                (
                    r.urn,
                    f"{r.resource_type} '{r.name}' belongs to team '{owner}' but lacks the label "
                    f"{TEAM_LABEL}={owner}; to fix, set the label where the program creates it (the component "
                    "named in its URN, under components/: the platform team's code)",
                )
            )
    return {team: sorted(items) for team, items in found.items()}


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


POLICIES: list[Any] = [
    StackValidationPolicy(
        name="team-quotas",
        description=(
            "Each team stays within its quota (vCPU, memory, GPUs, storage, VM classes, vGPU profiles), every GPU "
            "the plan holds (a team's or not) within the environment's GPUs, and every object in a team's namespace "
            f"carries {TEAM_LABEL}."
        ),
        validate=_team_quotas,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_SCHEMA,
    ),
]
