"""`team-quotas`: each team within its quota (vCPU, memory, GPUs, storage; the VM classes and vGPU
profiles it may use), all teams together within the environment's GPUs, and every object in a team's
namespace labelled so that what it holds is counted. Quotas live in the policy config
(config/<env>.json), owned by the platform team, never in team files.

One policy, not one per dimension: pulumi_policy decodes every resource of the stack once per stack
policy, so each extra stack policy is another full pass over the plan (the 200-team benchmark showed
seven passes taking a third of the plan's time)."""

from __future__ import annotations

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

from policies.conventions import TEAM_LABEL
from policies.usage import PROFILE, Resource, Usage, team_usage

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


def usage_of(resources: Iterable[PolicyResource]) -> dict[str, Usage]:
    return team_usage(Resource(r.resource_type, r.urn, r.props) for r in resources)


def _team_quotas(args: StackValidationArgs, report: ReportViolation) -> None:
    config = args.get_config()
    quotas: Mapping[str, Mapping[str, Any]] = config.get("teams", {})
    _unlabelled(args.resources, report)
    usage = usage_of(args.resources)
    for team, held in sorted(usage.items()):
        _within(team, held, quotas.get(team, {}), report)
    _environment(usage, int(config.get("environmentGpus", 0)), report)


def _within(team: str, held: Usage, quota: Mapping[str, Any], report: ReportViolation) -> None:
    """A team missing from the config has a quota of nothing."""
    for key, unit, measure in _AMOUNTS:
        asked, allowed = measure(held), float(quota.get(key, 0))
        if asked > allowed:
            report(
                f"team '{team}' asks for {_fmt(asked)} {unit} but its budget is {_fmt(allowed)} {unit}; "
                "lower the request in its team file or ask the platform team for more budget",
                None,
            )
    for key, what, used in _CHOICES:
        allowed_names = list(quota.get(key, []))
        for item in sorted(used(held) - set(allowed_names)):
            permitted = ", ".join(allowed_names) or "none"
            report(f"team '{team}' uses {what} '{item}', which it is not allowed; allowed: {permitted}", None)


def _environment(usage: Mapping[str, Usage], capacity: int, report: ReportViolation) -> None:
    total = sum(u.gpus for u in usage.values())
    if total > capacity:
        parts = ", ".join(f"{team} {u.gpus}" for team, u in sorted(usage.items()) if u.gpus)
        report(f"teams ask for {total} GPUs in all ({parts}) but the environment has {capacity}", None)


def _unlabelled(resources: list[PolicyResource], report: ReportViolation) -> None:
    """Usage is attributed by the team label: an unlabelled object in a team's namespace would escape its quota."""
    teams = {str((r.props.get("metadata") or {}).get("name")) for r in resources if r.resource_type == PROFILE}
    for r in resources:
        if not r.resource_type.startswith("kubernetes:"):
            continue
        metadata = r.props.get("metadata") or {}
        owner = metadata.get("name") if r.resource_type == PROFILE else metadata.get("namespace")
        if owner in teams and (metadata.get("labels") or {}).get(TEAM_LABEL) != owner:
            report(
                f"{r.resource_type} '{r.name}' belongs to team '{owner}' but lacks the label {TEAM_LABEL}={owner}",
                r.urn,
            )


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


POLICIES: list[Any] = [
    StackValidationPolicy(
        name="team-quotas",
        description=(
            "Each team stays within its quota (vCPU, memory, GPUs, storage, VM classes, vGPU profiles), all teams "
            f"within the environment's GPUs, and every object in a team's namespace carries {TEAM_LABEL}."
        ),
        validate=_team_quotas,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_SCHEMA,
    ),
]
