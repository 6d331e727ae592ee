"""Shared fixtures: a private copy of the project so a test can break its files safely."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra import paths
from infra.errors import ConfigError
from infra.kfvs import run as kfvs_run
from infra.kfvs.lint import schema as lint_schema
from infra.kfvs.rendered import Rendering
from infra.kfvs.rendering import render_stack
from infra.kfvs.run import validate_stack
from tests import forkserver, yamlio
from tests.builds import BuildMemo
from tests.environment_files import edit_environment
from tests.forkserver import SHARED_ENV, judgements_folder, run_kfvs
from tests.recordings import ContentMemo, SharedJudgements, code_digest
from tests.validations import ValidationMemo

_COPIED = ("Pulumi.yaml", "pyproject.toml", ".gitignore", "infra", "components", "policies", "stacks")


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        item.stash[_FAILED] = True
    return report


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Iterator[Path]:
    """A copy of the project's code and stacks; the real program runs from it unchanged.

    Made afresh for each test at one path per worker, so that the `kfvs` runs of test after test come from the
    same folder with the same code, which the fork server imports once (tests/forkserver.py). A failed test's
    copy is moved into its own temporary folder, kept there as pytest keeps that folder."""
    root = tmp_path_factory.getbasetemp() / "project"
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    for name in _COPIED:
        source = paths.PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, copy_function=_copy_or_link)
        else:
            shutil.copy2(source, root / name)
    yield root
    if request.node.stash.get(_FAILED, False):
        shutil.move(root, tmp_path / "project")


def _copy_or_link(source: str, target: str) -> None:
    """Sources copied (a test may rewrite them, in place); bytecode hard-linked, since nothing writes into a `.pyc`:
    Python replaces one whole (and PYTHONDONTWRITEBYTECODE, where set, stops even that). Copies keep their times,
    so the bytecode still matches its source; where a test changes a source, Python compiles it again."""
    if Path(source).parent.name == "__pycache__":
        with contextlib.suppress(OSError):  # another file system: copy it
            os.link(source, target)
            return
    shutil.copy2(source, target)


@pytest.fixture(scope="session", autouse=True)
def content_memo() -> Iterator[ContentMemo]:
    """Every in-process layer run of this worker answered once per content (tests/recordings.py)."""
    memo = ContentMemo(kfvs_run._record_one)  # the one function every `record_stack` goes through
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kfvs_run, "_record_one", memo)
        yield memo


@pytest.fixture(scope="session", autouse=True)
def validation_memo() -> Iterator[ValidationMemo]:
    """Every schema validation of this worker's lints answered once per validator and object (tests/validations.py)."""
    memo = ValidationMemo(lint_schema.errors)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(lint_schema, "errors", memo)
        yield memo


@pytest.fixture(scope="session", autouse=True)
def shared_judgements(
    tmp_path_factory: pytest.TempPathFactory, _forkserver_shares_its_probe: None
) -> Iterator[SharedJudgements]:
    """Every in-process `judge_stack` of this worker answered from, and kept for, the whole run; the `kfvs` runs
    of the fork server share the same folder (tests/recordings.py)."""
    folder = judgements_folder()
    assert folder is not None  # the shared run folder is set
    memo = SharedJudgements(kfvs_run.judge_stack, folder, code_digest(paths.PROJECT_ROOT), paths.PROJECT_ROOT)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kfvs_run, "judge_stack", memo)
        yield memo


@pytest.fixture(autouse=True)
def _memo_stands_aside(
    request: pytest.FixtureRequest, content_memo: ContentMemo, shared_judgements: SharedJudgements
) -> Iterator[None]:
    """No memo for a test marked `fresh_runs`, nor, in this process, for one that may replace what the program
    calls (`monkeypatch`: the `kfvs` processes it starts run their own code, unpatched)."""
    fresh = request.node.get_closest_marker("fresh_runs") is not None
    content_memo.enabled = shared_judgements.enabled = not fresh and "monkeypatch" not in request.fixturenames
    forkserver.SHARING[0] = not fresh
    yield
    content_memo.enabled = shared_judgements.enabled = forkserver.SHARING[0] = True


KfvsRunner = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kfvs(project: Path) -> KfvsRunner:
    """Run `kfvs` as a user would, from the project copy (its own code first on the path)."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_kfvs(project, *args)

    return run


def stack_problems(project: Path, edit: Callable[[dict[str, Any]], None], stack: str = "dev") -> dict[str, list[str]]:
    """Apply `edit` to the stack file's `config` mapping (an environment's: both layers' files, as one); every
    problem validation then reports, by key (a key may have several: none is dropped)."""
    path = project / f"stacks/Pulumi.{stack}.yaml"
    if path.is_file():
        document = yamlio.load(path.read_text())
        edit(document["config"])
        path.write_text(yamlio.dump(document, sort_keys=False))
    else:
        edit_environment(project, stack, edit)
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


SHARED_GIT = paths.PROJECT_ROOT.parent / "shared" / "upstream" / "git"
"""Upstream git snapshots beside the project in this workspace's CI (a user's machine uses GitHub or its mirror)."""


@pytest.fixture(scope="session")
def upstream_mirror(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """../shared/upstream/git as a mirror folder (`<org>/<repo>.git`), or a skip saying why there is none.

    A repository of that folder that git refuses as it stands (its empty `refs/` folder lost in copying) is
    served through a stand-in bare repository that borrows its objects (git alternates) and copies its refs,
    so nothing is copied or written there."""
    if not SHARED_GIT.is_dir():
        pytest.skip(f"no upstream git snapshots at {SHARED_GIT}: kustomize cannot fetch kubeflow/manifests offline")
    if shutil.which("git") is None:
        pytest.skip("git is not installed: kustomize fetches remote directories with it")
    view = tmp_path_factory.mktemp("mirror")
    for repo in sorted(SHARED_GIT.glob("*/*.git")):
        usable = subprocess.run(["git", "--git-dir", str(repo), "rev-parse"], capture_output=True, check=False)
        target = view / repo.parent.name / repo.name
        if usable.returncode == 0:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(repo)
            continue
        (target / "refs").mkdir(parents=True)
        (target / "objects" / "info").mkdir(parents=True)
        (target / "objects" / "info" / "alternates").write_text(f"{(repo / 'objects').resolve()}\n")
        for name in ("HEAD", "config", "packed-refs", "shallow"):
            if (repo / name).is_file():
                shutil.copyfile(repo / name, target / name)
    return view


def _run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of this run's that every xdist worker shares (the parent of each worker's own temporary folder)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return tmp_path_factory.getbasetemp().parent
    return tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session", autouse=True)
def _forkserver_shares_its_probe(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The fork servers of all workers probe once between them (see tests/forkserver.py); where this process has
    tests that may run `kfvs` (they use a project copy), its server starts now, importing and probing while the
    first tests run."""
    os.environ[SHARED_ENV] = str(_run_folder(tmp_path_factory))
    if any("project" in getattr(item, "fixturenames", ()) for item in request.session.items):
        forkserver.start()


@pytest.fixture(scope="session")
def kustomize_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build cache for the whole run, so each upstream URL is built once however many tests render it: under
    xdist, one for all workers (in the run's shared temporary folder; the cache writes each entry atomically)."""
    shared = _run_folder(tmp_path_factory) / "kustomize-cache"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session", autouse=True)
def build_memo(kustomize_cache: Path) -> Iterator[BuildMemo]:
    """This worker's cache entries parsed once, and failed builds of the shared cache met once (tests/builds.py)."""
    with BuildMemo(kustomize_cache).installed() as memo:
        yield memo


class ExampleRenderings:
    """Each example stack rendered at most once per run (`kfvs render --keep-going`)."""

    def __init__(self, mirror: Path, cache: Path) -> None:
        self.mirror, self.cache = mirror, cache
        self._done: dict[str, Rendering] = {}

    def __call__(self, stack: str) -> Rendering:
        if stack not in self._done:
            result = render_stack(stack, mirror_dir=self.mirror, cache_dir=self.cache, keep_going=True)
            self._done[stack] = result
        return self._done[stack]


@pytest.fixture(scope="session")
def example_renderings(upstream_mirror: Path, kustomize_cache: Path) -> ExampleRenderings:
    return ExampleRenderings(upstream_mirror, kustomize_cache)
