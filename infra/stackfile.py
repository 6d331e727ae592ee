"""Read `stacks/Pulumi.<stack>.yaml` the way the engine would hand it to the program.

Values become strings (objects as JSON text), and `secure:` values become placeholders marked
secret, so no passphrase or cloud KMS is needed to plan offline. The example stack files ship
`secure: v1:REPLACE-WITH-pulumi-config-set-secret`, a ciphertext no secrets provider can decrypt:
`secure_values` tells those apart from values `pulumi config set --secret` wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from infra import paths
from infra.errors import ConfigError, Problem
from infra.loading import load_yaml, read_config_file, stack_key

# Top-level keys of a stack file besides `config` that Pulumi itself writes.
_ENGINE_KEYS = {"config", "encryptionsalt", "encryptedkey", "secretsprovider", "environment"}


def placeholder(key: str) -> str:
    """The stand-in value of a secure config key; recognisable, and never a real secret."""
    return f"kfvs-secret-placeholder({key})"


PLACEHOLDER_CIPHERTEXT = "v1:REPLACE-WITH-pulumi-config-set-secret"
"""What the example stack files hold where a `secure:` value belongs."""


def read_stack_config(stack: str, root: Path = paths.PROJECT_ROOT) -> tuple[dict[str, str], frozenset[str]]:
    """The stack's config as the engine passes it (key -> text) and the keys that are secret."""
    document, file = _document(stack, root)
    return _config_of(document, file)


def secure_values(stack: str, root: Path = paths.PROJECT_ROOT) -> dict[str, bool]:
    """Each config key holding a `secure:` value, and whether that value is still a placeholder (True)
    rather than a ciphertext a secrets provider wrote (False). Nested `secure:` parts count for their key."""
    document, file = _document(stack, root)
    _config_of(document, file)  # the same problems as planning, before anything is reported
    section = (document.get("config") if isinstance(document, dict) else None) or {}
    found: dict[str, bool] = {}
    for raw_key, value in section.items():
        ciphertexts = list(_ciphertexts(value))
        if ciphertexts:
            found[str(raw_key)] = any(is_placeholder_ciphertext(c) for c in ciphertexts)
    return found


def is_placeholder_ciphertext(ciphertext: Any) -> bool:
    """True for the examples' stand-in (or an empty value): `pulumi preview` would fail to decrypt it.

    Real ciphertexts are base64 (`v1:<nonce>:<data>` for a passphrase, a blob for a cloud KMS), which
    never holds `REPLACE-WITH`.
    """
    text = "" if ciphertext is None else str(ciphertext).strip()
    return text == "" or "REPLACE-WITH" in text


def environment_imports(stack: str, root: Path = paths.PROJECT_ROOT) -> list[str]:
    """Pulumi ESC environments the stack file imports: they may supply secrets kfvs cannot see offline."""
    document, _ = _document(stack, root)
    imports = document.get("environment") if isinstance(document, dict) else None
    if isinstance(imports, dict):
        imports = imports.get("imports")
    return [str(i) for i in imports] if isinstance(imports, list) else []


def _document(stack: str, root: Path) -> tuple[Any, str]:
    path = paths.stack_file(stack, root)
    file = paths.relative(path, root)
    if not path.exists() and not path.is_symlink():
        raise ConfigError([Problem(file, "", f"no such stack; stacks here: {', '.join(list_stacks(root)) or 'none'}")])
    # Bounded and strict (infra/loading.py): a regular file inside the repository, no duplicate keys.
    document = load_yaml(read_config_file(path, root), file, stack_key)
    return document, file


def _ciphertexts(value: Any) -> Iterator[Any]:
    if _is_secure(value):
        yield value["secure"]
    elif isinstance(value, dict):
        for v in value.values():
            yield from _ciphertexts(v)
    elif isinstance(value, list):
        for v in value:
            yield from _ciphertexts(v)


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
