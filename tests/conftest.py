"""Shared fixtures: a private copy of the project so a test can break its files safely."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra import paths
from infra.errors import ConfigError
from infra.kfvs.run import validate_stack

_COPIED = ("Pulumi.yaml", "pyproject.toml", ".gitignore", "infra", "components", "policies", "stacks")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's code and stacks; the real program runs from it unchanged."""
    root = tmp_path / "project"
    root.mkdir()
    for name in _COPIED:
        source = paths.PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    return root


KfvsRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kfvs(project: Path) -> KfvsRunner:
    """Run `kfvs` as a user would, from the project copy (its own code first on the path)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infra.kfvs.cli", *args],
            cwd=project,
            env={"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "HOME": str(project)},
            capture_output=True,
            text=True,
            check=False,
        )

    return run


def stack_problems(project: Path, edit: Callable[[dict[str, Any]], None], stack: str = "dev") -> dict[str, list[str]]:
    """Apply `edit` to the stack file's `config` mapping; every problem validation then reports, by key (a key
    may have several: none is dropped)."""
    path = project / f"stacks/Pulumi.{stack}.yaml"
    document = yaml.safe_load(path.read_text())
    edit(document["config"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        validate_stack(stack, project)
    problems: dict[str, list[str]] = {}
    for p in caught.value.problems:
        problems.setdefault(p.key, []).append(p.message)
    return problems


def only(messages: list[str]) -> str:
    """The one problem reported on a key; fails when there are more, which a `{key: message}` would have hidden."""
    assert len(messages) == 1, messages
    return messages[0]


def git(root: Path, *args: str) -> None:
    """Run git in a test repository, as a throwaway identity."""
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.internal", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )
