"""git as kfvs runs it: in the project's folder, output captured, the exit status left to the caller."""

from __future__ import annotations

import subprocess
from pathlib import Path


def run_git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`git ARGS` in ROOT; the caller reads the status (a ref that does not exist is an answer, not a crash)."""
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)  # noqa: S603, S607
