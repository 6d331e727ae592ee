"""The plan: what `kfvs plan --json` prints, a stable contract other tools read (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from infra.kfvs.meters import team_totals
from infra.kfvs.recorder import Recording, Registration

Plan = dict[str, Any]


def build_plan(recording: Recording, teams: Iterable[str]) -> Plan:
    """The contract's shape: resources in URN order, per-team totals, policy verdicts."""
    registrations = sorted(recording.resources.values(), key=lambda r: r.urn)
    return {
        "project": recording.project,
        "stack": recording.stack,
        "resources": [_resource(r) for r in registrations],
        "totals": team_totals(registrations, teams),
        "policies": [],
    }


def _resource(r: Registration) -> dict[str, Any]:
    return {
        "urn": r.urn,
        "type": r.type,
        "name": r.name,
        "parent": r.parent,
        "custom": r.custom,
        "inputs": r.inputs,
        "dependencies": list(r.dependencies),
        "provider": r.provider,
        "protect": r.protect,
    }


def to_json(plan: Plan) -> str:
    """Byte-identical for the same plan: sorted keys, fixed separators, trailing newline."""
    return json.dumps(plan, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
