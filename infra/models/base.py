"""The base model and the small value types every configuration section shares."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# Matched whole (`fullmatch`): `$` alone would let a trailing newline through.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_NAME = re.compile(r"(?=.{1,253}\Z)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*")
_EMAIL = re.compile(r"(?=.{3,254}\Z)[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def camel(name: str) -> str:
    """`memory_mib` -> `memoryMiB`: camelCase, with binary units written the usual way."""
    return re.sub(r"(Mib|Gib|Tib)$", lambda m: m.group(0)[:2] + "B", to_camel(name))


class Model(BaseModel):
    """Unknown keys are errors (typos are the commonest config bug); keys are camelCase."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=camel,
        populate_by_name=True,
        hide_input_in_errors=False,
        # NaN and infinities compare false with every bound: `gpus: .nan` would pass any limit.
        allow_inf_nan=False,
    )


def matching(pattern: str, what: str) -> AfterValidator:
    """A validator that accepts strings matching `pattern` whole and otherwise says what was expected.

    `fullmatch`, so a pattern ending in `$` never accepts a trailing newline."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not {what}")
        return value

    return AfterValidator(check)


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


DnsLabel = Annotated[
    str,
    matching(
        _DNS_LABEL.pattern,
        "a DNS label: use 1-63 lowercase letters, digits and '-', starting and ending with a letter or digit",
    ),
]
DnsName = Annotated[str, matching(_DNS_NAME.pattern, "a DNS name such as 'kubeflow.dev.example.internal'")]
Email = Annotated[str, matching(_EMAIL.pattern, "an e-mail address such as 'ana@example.internal'")]
Name = Annotated[str, AfterValidator(_non_blank)]
