"""Checks on the provider keys of a stack file (`vsphere:*`, `kubernetes:*`).

The allowed keys and their types come from each provider SDK's generated ProviderArgs (its
properties and their annotations), so they match the provider schema at the pinned version rather
than a list kept by hand. The engine hands every value over as text (objects and lists as JSON), so
a value is checked the way the provider will parse it: `true`/`false` for a boolean, digits for an
integer, plain text for a string, a JSON object with known fields for an object type.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import json
import sys
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_camel

from infra import paths
from infra.errors import Problem

_PROVIDER_MODULES = {
    "vsphere": "pulumi_vsphere",
    "kubernetes": "pulumi_kubernetes",
}
# Keys the engine itself reads; any value is the engine's business.
_ENGINE_NAMESPACES = {"pulumi"}
_REQUIRED = ("vsphere:vsphereServer", "vsphere:user", "vsphere:password")
PROVIDER_SECRETS = {"vsphere:password": "the vSphere provider (every vCenter call)"}
"""Provider keys that must be secrets, and what reads them."""
# What the Pulumi SDKs' own `Config.get_bool` accept.
_BOOLEANS = ("true", "True", "false", "False")


@dataclass(frozen=True)
class Field:
    """A provider config key's type as the SDK declares it: a scalar, or an object with its own fields."""

    kind: type
    fields: Mapping[str, Field] | None = None


def provider_keys(namespace: str) -> frozenset[str]:
    """The camelCase config keys a provider declares: the properties of its generated ProviderArgs."""
    return frozenset(provider_schema(namespace))


@functools.cache
def provider_schema(namespace: str) -> Mapping[str, Field]:
    """Each config key of a provider and its type, read from the annotations of its generated ProviderArgs."""
    return _fields(importlib.import_module(_PROVIDER_MODULES[namespace]).ProviderArgs)


def _fields(args: type) -> dict[str, Field]:
    module = sys.modules[args.__module__]
    out: dict[str, Field] = {}
    for name, value in vars(args).items():
        if isinstance(value, property) and value.fget is not None:
            out[to_camel(name)] = _field(value.fget.__annotations__.get("return"), module)
    return out


def _field(annotation: Any, module: Any) -> Field:
    """`Input[Optional[T]]` unwraps to T: the first member of the generated Union."""
    args = typing.get_args(annotation)
    base = args[0] if args else annotation
    if isinstance(base, typing.ForwardRef):
        base = getattr(module, base.__forward_arg__, None) or getattr(
            importlib.import_module(f"{module.__package__}._inputs"), base.__forward_arg__, object
        )
    if base in (bool, int, float, str):
        return Field(base)
    origin = typing.get_origin(base)
    if origin is not None:
        return Field(origin if isinstance(origin, type) else object)
    if isinstance(base, type) and any(isinstance(v, property) for v in vars(base).values()):
        return Field(dict, _fields(base))
    return Field(object)


def check_provider_keys(
    config: Mapping[str, str], secret_keys: frozenset[str], file: str, *, needs_vcenter: bool = True
) -> list[Problem]:
    """Unknown namespaces or provider keys, values of the wrong type, missing vCenter credentials (unless the
    stack makes no vCenter call: the platform layer), and credentials in plain text."""
    problems: list[Problem] = []
    for key in sorted(config):
        namespace, _, name = key.partition(":")
        if namespace in (paths.PROJECT_NAME, *_ENGINE_NAMESPACES):
            continue
        if namespace not in _PROVIDER_MODULES:
            known = ", ".join(sorted((paths.PROJECT_NAME, *_PROVIDER_MODULES, *_ENGINE_NAMESPACES)))
            problems.append(Problem(file, key, f"unknown config namespace '{namespace}'; known: {known}"))
        elif name not in provider_schema(namespace):
            problems.append(Problem(file, key, _unknown(namespace, name)))
        elif key not in secret_keys:
            # A secret's text is the decrypted value: a password may look like anything, so only its presence counts.
            problems += _check_value(file, key, provider_schema(namespace)[name], _decoded(config[key]))
    for key in _REQUIRED if needs_vcenter else ():
        if key not in config:
            problems.append(Problem(file, key, "required key is missing: add it with `pulumi config set`"))
    for key in PROVIDER_SECRETS:
        if key in config and key not in secret_keys:
            problems.append(Problem(file, key, "is stored in plain text: set it with `pulumi config set --secret`"))
    return problems


def _decoded(text: str) -> Any:
    """The value as the stack file held it: objects and lists arrive as JSON text, scalars as text."""
    if text[:1] in ("{", "["):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


def _check_value(file: str, key: str, field: Field, value: Any) -> list[Problem]:
    """A top-level key: scalars arrive as text, objects and lists as JSON."""
    if field.kind is dict and field.fields is not None:
        return _check_json(file, key, field, value)
    if field.kind in _TEXT_FORMS and not (isinstance(value, str) and _TEXT_FORMS[field.kind](value)):
        return [Problem(file, key, f"{_expected(field)}, got {_describe(value)}: {_fix(field, key)}")]
    return []


def _check_json(file: str, key: str, field: Field, value: Any) -> list[Problem]:
    """Inside an object the JSON types are the provider's: a boolean is true/false, not text."""
    if field.kind is dict and field.fields is not None:
        if not isinstance(value, dict):
            return [Problem(file, key, f"{_expected(field)}, got {_describe(value)}")]
        problems: list[Problem] = []
        for name, item in sorted(value.items()):
            if name not in field.fields:
                close = difflib.get_close_matches(name, sorted(field.fields), n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(sorted(field.fields))}"
                problems.append(Problem(file, f"{key}.{name}", f"unknown field; {hint}"))
            else:
                problems += _check_json(file, f"{key}.{name}", field.fields[name], item)
        return problems
    if field.kind in _JSON_FORMS and not _JSON_FORMS[field.kind](value):
        return [Problem(file, key, f"{_expected(field)}, got {_describe(value)}: {_fix(field, key)}")]
    return []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


_TEXT_FORMS: dict[type, Callable[[str], bool]] = {
    bool: lambda v: v in _BOOLEANS,
    int: lambda v: v.strip().removeprefix("-").isdigit(),
    float: _is_number,
    str: lambda _: True,
}
_JSON_FORMS: dict[type, Callable[[Any], bool]] = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}


def _expected(field: Field) -> str:
    if field.kind is dict and field.fields is not None:
        return f"expected an object with some of {', '.join(sorted(field.fields))}"
    return {bool: "expected true or false", int: "expected a whole number", float: "expected a number"}.get(
        field.kind, "expected one text value"
    )


def _fix(field: Field, key: str) -> str:
    name = key.rpartition(".")[2] if "." in key else key
    return {
        bool: f"write `{name}: true` or `{name}: false`",
        int: f"write digits without quotes, e.g. `{name}: 5`",
        float: f"write a number without quotes, e.g. `{name}: 1.5`",
    }.get(field.kind, f"write a single value, e.g. `{name}: <text>`")


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return f"'{value}'" if value else "nothing"
    return json.dumps(value)


def _unknown(namespace: str, name: str) -> str:
    allowed = sorted(provider_keys(namespace))
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" did you mean '{namespace}:{close[0]}'?" if close else ""
    return f"unknown {namespace} provider key;{hint} see the provider's configuration reference"
