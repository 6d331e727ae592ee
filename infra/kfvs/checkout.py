"""Shared checkouts of upstream repositories: which remote directories can be built from one, and how to make it.

kustomize (`api/internal/git/repospec.go`, v0.21.1) splits a remote directory into a clone URL, a ref and a
path inside the repository, then clones with git and builds that path. Only the one spelling whose split is
beyond doubt is recognised here: `https://<host>/<org>/<repo>[/<path>]?ref=<ref>`, all in plain characters,
no `.git`, `_git/` or `//` (each of which kustomize treats as an explicit repository marker), no user name,
no other query parameter. kustomize then clones `https://<host>/<org>/<repo>`, builds `<path>` in it, and
(with no `submodules` parameter) initialises submodules; `clone` repeats its git commands one for one.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

_SEGMENT = r"[A-Za-z0-9_~-][A-Za-z0-9._~-]*"
_URL = re.compile(
    rf"https://(?P<host>[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]+)?)"
    rf"/(?P<repo>{_SEGMENT}/{_SEGMENT})"
    rf"(?:/(?P<path>{_SEGMENT}(?:/{_SEGMENT})*))?"
    rf"\?ref=(?P<ref>[A-Za-z0-9_][A-Za-z0-9._/-]*)"
)
"""The one form taken. A segment never starts with `.` (so no `.`/`..` path and no leading-dot surprises)."""

GIT_TIMEOUT = 27.0
"""Seconds per git command: kustomize's default `timeout` for the same commands."""


@dataclass(frozen=True)
class RemoteDirectory:
    """A remote directory split as kustomize splits it: what to clone, at which ref, and the path to build."""

    repository: str
    ref: str
    path: str


def split(directory: str) -> RemoteDirectory | None:
    """`directory` split into repository, ref and path, or None when it is not of the one form taken (it is
    then left to kustomize's own fetch)."""
    match = _URL.fullmatch(directory)
    if match is None or ".git" in directory or "_git/" in directory:
        return None
    host, ref = match["host"], match["ref"]
    if host.startswith("github.com") and host != "github.com":
        return None  # kustomize rewrites `github.com:<port>` and the like to plain github.com
    if "//" in ref or ref.endswith("/"):
        return None
    return RemoteDirectory(f"https://{host}/{match['repo']}", ref, match["path"] or "")


Cloner = Callable[[str, str, Path, Mapping[str, str]], None]
"""`(repository, ref, destination, environment)`: a checkout of `ref` of `repository` made in `destination`
(an empty directory); raises CloneError when it cannot be made."""


class CloneError(Exception):
    """A checkout that could not be made (the directories it would have served go through kustomize instead)."""


def clone(repository: str, ref: str, destination: Path, env: Mapping[str, str]) -> None:
    """The commands kustomize's `ClonerUsingGitExec` runs, in the same order: init, add the remote, fetch
    `ref` at depth 1, check out FETCH_HEAD, update submodules recursively. So the checkout is the commit
    kustomize would have built."""
    steps = (
        ("init", "--quiet"),
        ("remote", "add", "origin", repository),
        ("fetch", "--quiet", "--depth=1", repository, ref),
        ("checkout", "--quiet", "FETCH_HEAD"),
        ("submodule", "--quiet", "update", "--init", "--recursive"),
    )
    for step in steps:
        try:
            done = subprocess.run(  # noqa: S603 - git with arguments as a list
                ["git", *step],  # noqa: S607 - git from the PATH, as kustomize finds it
                cwd=destination,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise CloneError(f"git {step[0]}: {error}") from None
        if done.returncode != 0:
            raise CloneError(f"git {step[0]}: {done.stderr.strip()}")
