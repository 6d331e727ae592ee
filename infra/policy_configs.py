"""The policy packs' configs (`policies/<pack>/config/<stack>.json`), validated strictly before any pack judges.

Pulumi hands a pack its config as parsed JSON; Python's json would accept `NaN` and `Infinity`, with which
every comparison is false (a budget of NaN GPUs lets any request through), and it keeps the last of two
equal keys. So the file is read here with the strict loader, each policy named in it must exist in the
pack, each enforcement level must be one Pulumi knows, and each policy's properties must match the schema
the policy itself declares, unknown keys included. `kfvs validate`, `kfvs check`, `kfvs plan` and the
program under `pulumi up` all run this (through `load_settings`), so a bad budget file is a config error
with the rest, never a traceback in a pack and never a silently disabled check.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jsonschema

from infra import paths
from infra.errors import ConfigError, Problem
from infra.loading import load_json, read_config_file
from infra.secret_checks import check_document_values

ENFORCEMENT_LEVELS = ("advisory", "mandatory", "remediate", "disabled")
"""The levels Pulumi's policy config accepts."""
_ALL = "all"
"""The key that sets every policy's level at once."""


def pack_dirs(root: Path = paths.PROJECT_ROOT) -> list[Path]:
    """Every folder under policies/ with a PulumiPolicy.yaml (the packs the engine can run)."""
    return sorted(p.parent for p in (root / "policies").glob("*/PulumiPolicy.yaml"))


def check_policy_configs(stack: str, root: Path = paths.PROJECT_ROOT, tier: str | None = None) -> list[Problem]:
    """Every problem in the stack's policy config of every pack; a pack without one uses its defaults."""
    problems: list[Problem] = []
    for pack in pack_dirs(root):
        path = pack / "config" / f"{stack}.json"
        if not path.exists() and not path.is_symlink():
            continue
        file = paths.relative(path, root)
        try:
            document = load_json(read_config_file(path, root), file)
        except ConfigError as error:
            problems += error.problems
            continue
        problems += _check_document(document, pack.name, file)
        if tier == "prod":
            problems += _nothing_disabled(document, file)
        problems += check_document_values(document, file)
    return problems


@functools.cache
def pack_schemas(pack: str) -> dict[str, dict[str, Any]] | None:
    """Each policy of the pack by name and the JSON schema of its config, from the pack's own rules module.

    None when the module cannot be imported: the pack then fails to start, and `kfvs check` names it.
    """
    try:
        module = importlib.import_module(f"policies.{pack}.rules")
        policies = list(module.POLICIES)
    except Exception:  # noqa: BLE001 - a broken pack is reported when it is started, with its own error
        return None
    schemas: dict[str, dict[str, Any]] = {}
    for policy in policies:
        schema = getattr(policy, "config_schema", None)
        schemas[str(policy.name)] = {
            "type": "object",
            "properties": dict(getattr(schema, "properties", None) or {}),
            "required": list(getattr(schema, "required", None) or []),
            "additionalProperties": False,
        }
    return schemas


def _check_document(document: Any, pack: str, file: str) -> list[Problem]:
    if not isinstance(document, Mapping):
        return [Problem(file, "", "expected a JSON object of policy names to levels or settings")]
    schemas = pack_schemas(pack)
    problems: list[Problem] = []
    for name, value in document.items():
        if name != _ALL and schemas is not None and name not in schemas:
            problems.append(
                Problem(file, name, f"no such policy in policies/{pack}; policies: {', '.join(sorted(schemas))}")
            )
            continue
        problems += _check_policy(name, value, (schemas or {}).get(name), file)
    return problems


def _check_policy(name: str, value: Any, schema: dict[str, Any] | None, file: str) -> list[Problem]:
    if isinstance(value, str):
        return _level(name, value, file)
    if not isinstance(value, Mapping):
        return [Problem(file, name, "expected an enforcement level or an object of settings")]
    problems: list[Problem] = []
    if "enforcementLevel" in value:
        problems += _level(f"{name}.enforcementLevel", value["enforcementLevel"], file)
    properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
    if name == _ALL:
        problems += [Problem(file, f"{name}.{k}", "'all' sets only enforcementLevel") for k in sorted(properties)]
        return problems
    if schema is None:
        return problems
    errors = jsonschema.Draft7Validator(schema).iter_errors(properties)
    for error in sorted(errors, key=lambda e: [str(p) for p in e.path]):
        where = ".".join(str(p) for p in error.path)
        problems.append(Problem(file, f"{name}.{where}".rstrip("."), error.message))
    return problems


def _nothing_disabled(document: Any, file: str) -> list[Problem]:
    """Production never turns a policy off: a policy that does not fit prod is changed, not silenced."""
    problems = []
    for name, value in document.items() if isinstance(document, Mapping) else ():
        level = value.get("enforcementLevel") if isinstance(value, Mapping) else value
        if level == "disabled":
            key = f"{name}.enforcementLevel" if isinstance(value, Mapping) else name
            problems.append(Problem(file, key, "disables a policy in a prod stack: use advisory at least"))
    return problems


def _level(key: str, value: Any, file: str) -> list[Problem]:
    if isinstance(value, str) and value in ENFORCEMENT_LEVELS:
        return []
    shown = repr(value) if isinstance(value, str) and len(value) <= 40 else f"a {type(value).__name__}"
    return [Problem(file, key, f"{shown} is not an enforcement level; use one of {', '.join(ENFORCEMENT_LEVELS)}")]
