"""Read `stacks/Pulumi.<stack>.yaml` the way the engine would hand it to the program.

Values become strings (objects as JSON text), and `secure:` values become placeholders marked
secret, so no passphrase or cloud KMS is needed to plan offline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from infra import paths
from infra.errors import ConfigError, Problem
from infra.settings import SAFE_LOADER

# Top-level keys of a stack file besides `config` that Pulumi itself writes.
_ENGINE_KEYS = {"config", "encryptionsalt", "encryptedkey", "secretsprovider", "environment"}


def placeholder(key: str) -> str:
    """The stand-in value of a secure config key; recognisable, and never a real secret."""
    return f"kfvs-secret-placeholder({key})"


def read_stack_config(stack: str, root: Path = paths.PROJECT_ROOT) -> tuple[dict[str, str], frozenset[str]]:
    """The stack's config as the engine passes it (key -> text) and the keys that are secret."""
    path = paths.stack_file(stack, root)
    file = paths.relative(path, root)
    if not path.is_file():
        raise ConfigError([Problem(file, "", f"no such stack; stacks here: {', '.join(list_stacks(root)) or 'none'}")])
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or "cannot parse"
        raise ConfigError([Problem(file, "", f"malformed YAML: {reason}{where}")]) from None
    return _config_of(document, file)


def list_stacks(root: Path = paths.PROJECT_ROOT) -> list[str]:
    """Stack names that have a file under stacks/."""
    return paths.list_stacks(root)


def _config_of(document: Any, file: str) -> tuple[dict[str, str], frozenset[str]]:
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError([Problem(file, "", "expected a mapping with a 'config:' key at the top")])
    problems = [
        Problem(file, str(k), f"unknown top-level key; allowed: {', '.join(sorted(_ENGINE_KEYS))}")
        for k in document
        if k not in _ENGINE_KEYS
    ]
    section = document.get("config") or {}
    if not isinstance(section, dict):
        problems.append(Problem(file, "config", "expected a mapping of 'namespace:key' to values"))
        section = {}
    config: dict[str, str] = {}
    secret: set[str] = set()
    for raw_key, value in section.items():
        key = str(raw_key)
        if ":" not in key:
            problems.append(Problem(file, f"config.{key}", f"keys are namespaced: write '{paths.PROJECT_NAME}:{key}'"))
            continue
        encoded, is_secret = _encode(key, value)
        config[key] = encoded
        if is_secret:
            secret.add(key)
    if problems:
        raise ConfigError(problems)
    return config, frozenset(secret)


def _encode(key: str, value: Any) -> tuple[str, bool]:
    """Text as the engine hands it over; True when the value holds a `secure:` part."""
    if _is_secure(value):
        return placeholder(key), True
    if isinstance(value, (dict, list)):
        unsealed, secret = _unseal(key, value)
        return json.dumps(unsealed, sort_keys=True), secret
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    return ("" if value is None else str(value)), False


def _unseal(key: str, value: Any) -> tuple[Any, bool]:
    if _is_secure(value):
        return placeholder(key), True
    if isinstance(value, dict):
        pairs = [(str(k), _unseal(key, v)) for k, v in value.items()]
        return {k: v for k, (v, _) in pairs}, any(s for _, (_, s) in pairs)
    if isinstance(value, list):
        items = [_unseal(key, v) for v in value]
        return [v for v, _ in items], any(s for _, s in items)
    return value, False


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}
