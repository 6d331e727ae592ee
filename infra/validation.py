"""Turn pydantic's validation errors into Problems that name the key and say what to write instead."""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError
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
    """One Problem per pydantic error, with a fix for the common kinds."""
    return [
        Problem(file, key_path(_clean_loc(detail["loc"]), prefix), _message(detail, model))
        for detail in error.errors(include_url=False)
    ]


def _clean_loc(loc: tuple[int | str, ...]) -> tuple[int | str, ...]:
    # pydantic adds the validator's name ("function-after[...]") to some locations.
    return tuple(p for p in loc if not (isinstance(p, str) and "[" in p))


def _message(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind = detail["type"]
    loc = _clean_loc(detail["loc"])
    if kind == "extra_forbidden":
        return _unknown_key(model, loc)
    if kind == "missing":
        return "required key is missing: add it"
    message = detail["msg"].removeprefix("Value error, ")
    if kind == "value_error":
        return message
    return f"{message}; got {_show(detail.get('input'))}"


def _unknown_key(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    allowed = _allowed_keys(model, loc[:-1])
    key = str(loc[-1])
    hint = ""
    close = difflib.get_close_matches(key, allowed, n=1)
    if close:
        hint = f" did you mean '{close[0]}'?"
    return f"unknown key '{key}';{hint} allowed here: {', '.join(allowed) or '(none)'}"


def _allowed_keys(model: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    current: type[BaseModel] | None = model
    skip_next = False
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int) or skip_next:
            skip_next = False
            continue
        field = _field(current, part)
        if field is None:
            return []
        current, skip_next = _inner_model(field)
    if current is None:
        return []
    return sorted(f.alias or name for name, f in current.model_fields.items())


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def _inner_model(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model inside `X`, `X | None`, `list[X]` or `dict[str, X]`; True when a dict key comes next."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin is typing.Annotated:
        return _inner_model(args[0])
    for arg in args:
        model, _ = _inner_model(arg)
        if model is not None:
            return model, origin is dict
    if origin in (typing.Union, types.UnionType):
        return None, False
    return None, False


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
