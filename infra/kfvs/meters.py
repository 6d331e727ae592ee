"""Per-team totals for the plan, from the same usage rules the quota policies apply."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from infra.kfvs.recorder import Registration
from policies.usage import Resource, team_usage


def team_totals(registrations: Sequence[Registration], teams: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Every known team appears, even with nothing yet; numbers as the quota policies count them."""
    usage = team_usage(Resource(r.type, r.urn, r.inputs) for r in registrations)
    names = sorted(set(teams) | set(usage))
    return {name: _as_json(usage.get(name)) for name in names}


def _as_json(u: Any) -> dict[str, Any]:
    if u is None:
        return {"vcpu": 0, "memoryGiB": 0, "gpus": 0, "storageGiB": 0}
    return {"vcpu": _num(u.vcpu), "memoryGiB": _num(u.memory_gib), "gpus": u.gpus, "storageGiB": _num(u.storage_gib)}


def _num(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 3)
