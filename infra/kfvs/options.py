"""Options the `kfvs` commands share: the output format, and the stacks a user may name."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from infra.kfvs.environments import names_here


class Format(StrEnum):
    """One output format per run: `--format json --format markdown` cannot both win silently."""

    text = "text"
    json = "json"
    markdown = "markdown"


def stacks_here() -> str:
    """The environments and stacks of this project, for usage text (`stacks/Pulumi.<stack>.yaml`)."""
    return names_here() or "none yet"


def choose_format(chosen: Format | None, default: Format, **legacy: bool) -> Format:
    """`--format`, or one of the older spellings (`--json`, `--markdown`) kept so scripts and the base
    revisions `kfvs diff` plans keep working; asking for two different formats is a usage error."""
    asked = {Format(name) for name, on in legacy.items() if on}
    if chosen is not None:
        asked.add(chosen)
    if len(asked) > 1:
        names = " and ".join(sorted(f"--format {f.value}" for f in asked))
        raise typer.BadParameter(f"{names} asked together: choose one", param_hint="'--format'")
    return asked.pop() if asked else default


def format_option(help_: str) -> object:
    """`--format` as each command describes its forms."""
    return typer.Option("--format", "-f", help=help_, case_sensitive=False, show_default=False)


JsonFlag = Annotated[bool, typer.Option("--json", hidden=True, help="the same as --format json")]
MarkdownFlag = Annotated[bool, typer.Option("--markdown", hidden=True, help="the same as --format markdown")]
