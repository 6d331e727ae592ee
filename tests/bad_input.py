"""Helpers of the bad-input tests (tests/test_bad_input_*.py): break one input file, expect one clean refusal.

Every refusal is checked the same way, whichever file kind it is about (stack file, team file, policy
config): a ConfigError (exit 1 from `kfvs`), a one-line Problem naming the file and the key, no traceback,
no secret echoed, and (through the CLI) an end within `CLI_TIMEOUT_S`.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.errors import ConfigError, Problem
from infra.kfvs.run import validate_stack
from tests import yamlio
from tests.environment_files import edit_stack_config, owner_file
from tests.forkserver import run_kfvs

STACK = "stacks/Pulumi.dev-infra.yaml"
"""The dev environment's infra layer file; a case on a key of the other layer names that file (`_layer_file`)."""
TEAM = "stacks/teams/vision.yaml"
POLICY = "policies/quotas/config/dev.json"
FILE_KINDS = {"stack": STACK, "team": TEAM, "policy": POLICY}
"""One file of each kind the program reads, by kind."""
CLI_TIMEOUT_S = 60
"""Far above a normal `kfvs validate` on a loaded two-core machine (about 5 s), far below a hang."""


@dataclass(frozen=True)
class Case:
    """One bad input: which file, how it is broken, and the key the refusal must name."""

    id: str
    file: str
    edit: Callable[[Path], object]
    key: str
    says: str = ""
    secret: str | None = None
    key_prefix: bool = False
    stack: str = "dev"
    """Match the start of the key only (where a bound is passed inside a deep or expanded section)."""

    def names(self, problem: Problem) -> bool:
        """The problem is about this case's file and key."""
        if problem.file != self.file and problem.file != _layer_file(self.file, self.key):
            return False
        return problem.key.startswith(self.key) if self.key_prefix else problem.key == self.key

    def __str__(self) -> str:
        return self.id


def _layer_file(file: str, key: str) -> str:
    """An environment's stack file as the split names it: the layer's file that holds `key`
    (tests/environment_files.py), for a case written against `stacks/Pulumi.<env>.yaml`."""
    match = re.fullmatch(r"stacks/Pulumi\.([a-z0-9-]+?)(-infra|-platform)?\.yaml", file)
    if match is None:
        return file
    return owner_file(match.group(1), key)


def cases(*items: Case) -> pytest.MarkDecorator:
    """`pytest.mark.parametrize` over cases, each named by its id."""
    return pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in items])


def refusal(project: Path, stack: str = "dev") -> list[Problem]:
    """The problems `kfvs validate` reports in-process; fails the test when the config is accepted."""
    with pytest.raises(ConfigError) as caught:
        validate_stack(stack, project)
    return caught.value.problems


def assert_refused(problems: list[Problem], case: Case) -> Problem:
    """The case's file and key are named, every problem is one line, and no secret is echoed."""
    hits = [p for p in problems if case.names(p)]
    assert hits, f"{case.file}: {case.key} not named in: {[str(p) for p in problems]}"
    for p in problems:
        assert "\n" not in str(p), str(p)
        assert "Traceback" not in str(p)
        if case.secret is not None:
            assert case.secret not in str(p), str(p)
    if case.says:
        assert any(case.says in p.message for p in hits), [p.message for p in hits]
    return hits[0]


def check_case(project: Path, case: Case) -> Problem:
    """Apply the case to the project copy and check the refusal (of the case's stack)."""
    case.edit(project)
    return assert_refused(refusal(project, case.stack), case)


def kfvs(project: Path, *args: str, timeout: float = CLI_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    """`kfvs` as a user runs it, from the project copy; a hang fails the test after `timeout` seconds."""
    return run_kfvs(project, *args, timeout=timeout)


def assert_cli_refused(run: subprocess.CompletedProcess[str], case: Case) -> None:
    """Exit 1, the file and key on one line of stderr, no traceback, no secret anywhere in the output."""
    out = run.stdout + run.stderr
    assert run.returncode == 1, out
    assert "Traceback" not in out, out
    files = {case.file, _layer_file(case.file, case.key)}
    prefixes = tuple(f"{file}: {case.key}" if case.key else file for file in files)
    assert any(line.strip().startswith(prefixes) for line in run.stderr.splitlines()), out
    if case.secret is not None:
        assert case.secret not in out


# Editing one file of a project copy.


def _split_file(project: Path, relative: str, holding: str | None) -> Path:
    """`relative`, or for an environment's file written before the split (`stacks/Pulumi.dev.yaml`) the layer's
    file that holds `holding` (the infra layer's when nothing is asked for)."""
    path = project / relative
    match = re.fullmatch(r"stacks/Pulumi\.([a-z0-9-]+?)(-infra|-platform)?\.yaml", relative)
    if match is None or (path.is_file() and (holding is None or holding in path.read_text(encoding="utf-8"))):
        return path
    layers = [project / f"stacks/Pulumi.{match.group(1)}-{layer}.yaml" for layer in ("infra", "platform")]
    layers = [p for p in layers if p.is_file()]
    if not layers:
        return path
    return next((p for p in layers if holding is not None and holding in p.read_text(encoding="utf-8")), layers[0])


def write(relative: str, text: str | bytes) -> Callable[[Path], None]:
    """An edit that replaces a file's content."""

    def edit(project: Path) -> None:
        path = _split_file(project, relative, None)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")

    return edit


def replace(relative: str, old: str, new: str) -> Callable[[Path], None]:
    """An edit that replaces one exact piece of a file's text (which must be there)."""

    def edit(project: Path) -> None:
        path = _split_file(project, relative, old)
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} not in {relative}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


def append(relative: str, text: str) -> Callable[[Path], None]:
    """An edit that adds text at the end of a file."""

    def edit(project: Path) -> None:
        path = project / relative
        path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")

    return edit


def stack_config(change: Callable[[dict[str, Any]], None], stack: str = "dev") -> Callable[[Path], None]:
    """An edit of a stack file's `config` mapping (a YAML round trip)."""

    def edit(project: Path) -> None:
        edit_stack_config(project, stack, change)

    return edit


def team_doc(change: Callable[[dict[str, Any]], None], team: str = "vision") -> Callable[[Path], None]:
    """An edit of a team file's document (a YAML round trip)."""

    def edit(project: Path) -> None:
        path = project / f"stacks/teams/{team}.yaml"
        document = yamlio.load(path.read_text())
        change(document)
        path.write_text(yamlio.dump(document, sort_keys=False))

    return edit


def policy_doc(change: Callable[[dict[str, Any]], None], relative: str = POLICY) -> Callable[[Path], None]:
    """An edit of a policy config's document (a JSON round trip)."""

    def edit(project: Path) -> None:
        path = project / relative
        document = json.loads(path.read_text())
        change(document)
        path.write_text(json.dumps(document, indent=2))

    return edit


def both(*edits: Callable[[Path], None]) -> Callable[[Path], None]:
    """Several edits, in order."""

    def edit(project: Path) -> None:
        for e in edits:
            e(project)

    return edit
