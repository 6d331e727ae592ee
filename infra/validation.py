"""Turn pydantic's validation errors into Problems that name the key and say what to write instead."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from pydantic_core import ErrorDetails

from infra.errors import Problem


def key_path(loc: Sequence[int | str], prefix: str = "") -> str:
    """`("vsphere", "networks", 0)` -> `vsphere.networks[0]`, as a user would write it."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out and not out.endswith(":") else part
    return out


def problems_from(error: ValidationError, model: type[BaseModel], file: str, prefix: str = "") -> list[Problem]:
    """One Problem per pydantic error, with a fix for the common kinds; a secret's value is never shown."""
    problems = []
    for raw in error.errors(include_url=False):
        loc, parent = _walk(model, raw["loc"])
        detail: ErrorDetails = {**raw, "input": _HIDDEN} if _is_secret(parent, loc) else raw
        problems.append(Problem(file, key_path(loc, prefix), _message(detail, loc, parent)))
    return problems


_HIDDEN = object()
"""Stands in for an input that must not be echoed."""


def _is_secret(parent: type[BaseModel] | None, loc: tuple[int | str, ...]) -> bool:
    """The value sits under a SecretStr field (whatever its wrong shape), so showing it would leak it."""
    if parent is None or not loc:
        return False
    annotation = _optional_model(_step(parent, loc[-1]))
    return annotation is SecretStr or (isinstance(annotation, type) and issubclass(annotation, SecretStr))


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[tuple[int | str, ...], type[BaseModel] | None]:
    """The location as the user wrote it, and the model that holds its last key.

    pydantic adds validator names and the tags of tagged unions to locations; neither is a key in the file.
    """
    clean: list[int | str] = []
    current: Any = model
    parent: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, str) and "[" in part:
            continue
        variants = _union_models(current)
        if variants and isinstance(part, str) and part in variants:
            current = variants[part]
            continue
        clean.append(part)
        parent = current if isinstance(current, type) and issubclass(current, BaseModel) else None
        current = _optional_model(_step(current, part))
    return tuple(clean), parent


def _step(current: Any, part: int | str) -> Any:
    """The annotation one key (or index) further down."""
    if isinstance(current, type) and issubclass(current, BaseModel):
        for name, info in current.model_fields.items():
            if part in (name, info.alias):
                return info.annotation
        return None
    origin = typing.get_origin(current)
    args = [a for a in typing.get_args(current) if a is not type(None)]
    if origin is typing.Annotated:
        return _step(args[0], part)
    if origin in (list, tuple, dict) and args:
        return args[-1]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _step(args[0], part)
    return None


def _optional_model(annotation: Any) -> Any:
    """`X | None` -> `X`, so the keys of an optional section can be listed."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return args[0]
    return annotation


def _union_models(annotation: Any) -> dict[str, type[BaseModel]]:
    """A tagged union's models by tag (the value of their `mode` literal)."""
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) not in (typing.Union, types.UnionType):
        return {}
    variants: dict[str, type[BaseModel]] = {}
    for arg in typing.get_args(annotation):
        if isinstance(arg, type) and issubclass(arg, BaseModel) and "mode" in arg.model_fields:
            for tag in typing.get_args(arg.model_fields["mode"].annotation):
                variants[str(tag)] = arg
    return variants


def _message(detail: ErrorDetails, loc: tuple[int | str, ...], parent: type[BaseModel] | None) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return _unknown_key(str(loc[-1]), parent)
    if kind == "missing":
        return "required key is missing: add it"
    message = detail["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message}; got {_show(detail.get('input'))}"


def _unknown_key(key: str, parent: type[BaseModel] | None) -> str:
    allowed = sorted(f.alias or n for n, f in parent.model_fields.items()) if parent is not None else []
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f" did you mean '{close[0]}'?" if close else ""
    return f"unknown key '{key}';{hint} allowed here: {', '.join(allowed) or '(none)'}"


# Anchored on `://` and bounded, so that a few MB of input never make these quadratic.
_URL_CREDENTIALS = re.compile(r"(://)[^/\s@]*@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY-----")


def _show(value: Any) -> str:
    """The offending value, short, with anything that could be a credential left out."""
    if value is _HIDDEN:
        return "a value that is not shown (it belongs to a secret)"
    text = repr(value)
    if _PRIVATE_KEY.search(text):
        return "a private key (not shown)"
    text = _URL_CREDENTIALS.sub(r"\1[credentials hidden]@", text)
    return text if len(text) <= 60 else text[:57] + "..."
