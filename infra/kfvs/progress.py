"""Progress of long commands (`kfvs pr-comment`, `make bench`) on stderr, so stdout stays the result.

One line per step, so a CI log shows it as well as a terminal. Colour only on a terminal: none when
stderr is a pipe or a file, and none at all (not even bold) when NO_COLOR is set to anything non-empty
(https://no-color.org). rich does the terminal detection.
"""

from __future__ import annotations

import os
import time
from typing import IO

from rich.console import Console
from rich.markup import escape


def stderr_console(file: IO[str] | None = None) -> Console:
    """A console on stderr (or `file`) that colours only a terminal, and never under NO_COLOR."""
    plain = bool(os.environ.get("NO_COLOR"))
    return Console(
        file=file,
        stderr=file is None,
        color_system=None if plain else "auto",
        no_color=plain,
        highlight=False,
        soft_wrap=True,
        emoji=False,
    )


class Progress:
    """Lines like `pr-comment dev (1/3): planning the base origin/main  4.2 s` for one command."""

    def __init__(self, command: str, console: Console | None = None) -> None:
        self.command = command
        self.console = console or stderr_console()
        self._started = time.monotonic()

    def step(self, message: str, item: str | None = None, index: int | None = None, total: int | None = None) -> None:
        """One line: the command, the item it works on (with its place among `total`), what it does now."""
        where = f" [bold]{escape(item)}[/]" if item else ""
        count = f" [dim]({index}/{total})[/]" if index is not None and total is not None else ""
        elapsed = f"  [dim]{time.monotonic() - self._started:.1f} s[/]"
        self.console.print(f"[cyan]{escape(self.command)}[/]{where}{count}: {escape(message)}{elapsed}")

    def done(self, message: str) -> None:
        """The closing line, in green on a terminal."""
        elapsed = time.monotonic() - self._started
        self.console.print(f"[cyan]{escape(self.command)}[/]: [green]{escape(message)}[/]  [dim]{elapsed:.1f} s[/]")
