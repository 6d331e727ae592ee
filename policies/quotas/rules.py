"""Budgets per team (vCPU, memory, GPUs, storage), allowed VM classes and vGPU profiles, and the
environment's GPU capacity. Budgets live in the policy config (config/<env>.json), owned by the
platform team, never in team files."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.usage import Resource, Usage, team_usage

_BUDGETS = PolicyConfigSchema(
    properties={"budgets": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}}},
    required=["budgets"],
)
_ALLOWED = PolicyConfigSchema(
    properties={"teams": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}},
    required=["teams"],
)


def usage_of(args: StackValidationArgs) -> dict[str, Usage]:
    return team_usage(Resource(r.resource_type, r.urn, r.props) for r in args.resources)


def _budget_policy(name: str, what: str, unit: str, measure: Callable[[Usage], float]) -> StackValidationPolicy:
    """`unit` reads after a number: "GPUs", "vCPU", "GiB of memory"."""

    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        budgets: Mapping[str, float] = args.get_config().get("budgets", {})
        for team, usage in sorted(usage_of(args).items()):
            asked, budget = measure(usage), float(budgets.get(team, 0))
            if asked > budget:
                report(
                    f"team '{team}' asks for {_fmt(asked)} {unit} but its budget is {_fmt(budget)} {unit}; "
                    "lower the request in its team file or ask the platform team for more budget",
                    None,
                )

    return StackValidationPolicy(
        name=name,
        description=f"Each team's {what} (VMs, GPU pools, node pools and profile quota) stays within its budget.",
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_BUDGETS,
    )


def _allowed_policy(name: str, what: str, used: Callable[[Usage], set[str]]) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        allowed: Mapping[str, list[str]] = args.get_config().get("teams", {})
        for team, usage in sorted(usage_of(args).items()):
            for item in sorted(used(usage) - set(allowed.get(team, []))):
                permitted = ", ".join(allowed.get(team, [])) or "none"
                report(f"team '{team}' uses {what} '{item}', which it is not allowed; allowed: {permitted}", None)

    return StackValidationPolicy(
        name=name,
        description=f"Teams use only the {what}s the platform allows them.",
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=_ALLOWED,
    )


def _gpu_capacity(args: StackValidationArgs, report: ReportViolation) -> None:
    capacity = int(args.get_config().get("capacity", 0))
    usage = usage_of(args)
    total = sum(u.gpus for u in usage.values())
    if total > capacity:
        parts = ", ".join(f"{team} {u.gpus}" for team, u in sorted(usage.items()) if u.gpus)
        report(f"teams ask for {total} GPUs in all ({parts}) but the environment has {capacity}", None)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


POLICIES: list[Any] = [
    _budget_policy("team-gpu-budget", "GPUs", "GPUs", lambda u: u.gpus),
    _budget_policy("team-vcpu-budget", "vCPU", "vCPU", lambda u: u.vcpu),
    _budget_policy("team-memory-budget", "memory", "GiB of memory", lambda u: u.memory_gib),
    _budget_policy("team-storage-budget", "storage", "GiB of storage", lambda u: u.storage_gib),
    _allowed_policy("allowed-vm-classes", "VM class", lambda u: u.vm_classes),
    _allowed_policy("allowed-vgpu-profiles", "vGPU profile", lambda u: u.vgpu_profiles),
    StackValidationPolicy(
        name="environment-gpu-capacity",
        description="All teams together stay within the GPUs the environment has.",
        validate=_gpu_capacity,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=PolicyConfigSchema(
            properties={"capacity": {"type": "integer", "minimum": 0}}, required=["capacity"]
        ),
    ),
]
