"""One program run per layer and per content of the project, for every in-process run of a test worker.

Most of the suite's in-process program runs repeat one another: `kfvs render`, `lint`, `team` and the policy
tests each record the repository's stacks themselves (`record_stack` runs the infra layer again under each
platform layer), and a test's private copy of the project is, until it edits a file, the repository. Measured
over a whole run: 183 in-process layer runs, 66 of them different; of their 51 CPU-seconds, 32 went on repeats.

`ContentMemo` stands in for `infra.kfvs.run._record_one` (every layer run of `record_stack`, whoever calls it)
and answers a run it has seen: the same layer, the same infra outputs given to it, and the same bytes in every
file the run reads from the project folder (`READ`). What it hands out is a deep copy, and so is what it keeps:
a test editing what it was given changes nothing for the next. A run that fails (bad input, a duplicate URN) is
never kept: it runs each time.

A recording names no path of the folder it was planned from (tests/test_recordings.py checks it), so two copies of
the project with the same content share one run. Tests about running twice, determinism or the order files are
listed in (which a content key cannot see) carry `@pytest.mark.fresh_runs`: the memo stands aside for them. So
does any test that replaces a function the program calls (`monkeypatch`), since the key cannot see that either.

`SharedJudgements` does the same for judged runs (`judge_stack`: the program with the policy packs listening),
across processes: every worker and every `kfvs` process the fork server forks (tests/forkserver.py) reads and
writes one folder of the test run, keyed also by the code that runs, since a forked `kfvs` runs its folder's own;
`SharedLayerRuns` shares the layer runs of the forked `kfvs` runs that do not render (76 of them, 43 different).
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.kfvs.recorder import Recording
from infra.settings import Settings

RecordOne = Callable[[str, Path, Recording | None], tuple[Settings, Recording]]
Key = tuple[str, str, str]


READ = ("Pulumi.yaml", "stacks", "policies")
"""What a run reads from its project folder: the project file, the stacks with their team files, and the policy
packs' configuration (budgets). The code it runs is this process's, whatever the folder holds."""


def folder_digest(root: Path) -> str:
    """A digest of every file of ROOT's `READ` (bytecode aside) by relative path and content, in sorted order."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(_files(root)):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _files(root: Path) -> list[Path]:
    files: list[Path] = []
    for name in READ:
        top = root / name
        if top.is_file():
            files.append(top)
        elif top.is_dir():
            files += (p for p in top.rglob("*") if "__pycache__" not in p.parts and p.is_file())
    return files


def _infra_key(infra: Recording | None) -> str:
    if infra is None:
        return ""
    outputs = infra.outputs
    values = {} if outputs is None else outputs.values
    secret = [] if outputs is None else sorted(outputs.secret_names)
    return f"{infra.stack}:{json.dumps([values, secret], sort_keys=True, default=str)}"


class ContentMemo:
    """`_record_one`, answered from an earlier run where the layer, infra outputs and folder content agree."""

    def __init__(self, record_one: RecordOne) -> None:
        self.record_one = record_one
        self.enabled = True
        self.runs: dict[Key, tuple[Settings, Recording]] = {}
        self.hits = 0

    def __call__(self, stack: str, root: Path, infra: Recording | None) -> tuple[Settings, Recording]:
        if not self.enabled:
            return self.record_one(stack, root, infra)
        key = (stack, folder_digest(root), _infra_key(infra))
        if key in self.runs:
            self.hits += 1
        else:
            self.runs[key] = copy.deepcopy(self.record_one(stack, root, infra))
        return copy.deepcopy(self.runs[key])


CODE = ("infra", "components", "policies")
"""The project's packages: the code a run runs (a process's own, wherever the folder it plans). The fork server's
`PROJECT` names them again, since the server must not import this module (it imports the project's)."""


def code_digest(root: Path) -> str:
    """A digest of every Python source of the project's packages under ROOT, by relative path and content."""
    digest = hashlib.blake2b(digest_size=16)
    for package in CODE:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class _SharedRuns:
    """Answers kept as pickles in one folder of the test run, for every process of it, by a key of what the run
    reads and the code that runs it; written whole or not at all, a failed run never kept. A pickle holds data, not
    the program's stack transforms: a kept recording has none, so what is shared is planned and judged, never
    rendered."""

    def __init__(self, folder: Path, code: str) -> None:
        """CODE: the `code_digest` of the code this process runs."""
        self.folder = folder
        self.code = code
        self.enabled = True
        self.hits = 0

    def _answer(self, key: list[str], run: Callable[[], Any], kept: Callable[[Any], Any]) -> Any:
        """The kept answer to KEY, else RUN's, kept as `kept(answer)`."""
        digest = hashlib.blake2b(json.dumps([*key, self.code]).encode(), digest_size=16).hexdigest()
        answer = self.folder / f"{digest}.pickle"
        try:
            data = answer.read_bytes()
        except FileNotFoundError:
            result = run()
            self._keep(answer, kept(result))
            return result
        self.hits += 1
        return pickle.loads(data)

    def _keep(self, answer: Path, value: object) -> None:
        """Written whole or not at all: a parallel reader finds no answer or the whole of it."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".tmp", delete=False) as part:
            pickle.dump(value, part, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part.name, answer)


def _without_transforms(recording: Recording) -> Recording:
    return dataclasses.replace(recording, transforms=[])


JudgeStack = Callable[..., tuple[Settings, Recording, list[Any]]]


class SharedJudgements(_SharedRuns):
    """`infra.kfvs.run.judge_stack`, answered from the judged run of any process of this test run (a worker, or a
    `kfvs` the fork server forked) with the same code, the same stack and the same bytes in what it reads.

    A judged run is the program with both policy packs listening: half a second, and the suite's `kfvs plan`,
    `check` and `pr-comment` runs repeat one another (measured: 66 judged runs, 48 of them different). What
    `judge_stack` answers is planned and judged, never rendered (`kfvs render` and `lint` record with
    `record_stack`)."""

    def __init__(self, judge_stack: JudgeStack, folder: Path, code: str, default_root: Path) -> None:
        super().__init__(folder, code)
        self.judge_stack = judge_stack
        self.default_root = default_root  # judge_stack's own default: the project this process runs

    def __call__(self, stack: str, root: Path | None = None) -> tuple[Settings, Recording, list[Any]]:
        root = self.default_root if root is None else root
        if not self.enabled:
            return self.judge_stack(stack, root)
        answer: tuple[Settings, Recording, list[Any]] = self._answer(
            ["judge_stack", stack, folder_digest(root)],
            lambda: self.judge_stack(stack, root),
            lambda done: (done[0], _without_transforms(done[1]), done[2]),
        )
        return answer


class SharedLayerRuns(_SharedRuns):
    """`infra.kfvs.run._record_one` (one layer's program run), answered across the processes of the test run as
    `SharedJudgements` answers judged runs: for the `kfvs` runs the fork server forks that never render (their
    diffs plan the head and then the base, which most often is the same content again), never for `render` or
    `lint`, which need the stack transforms a pickle leaves out."""

    def __init__(self, record_one: RecordOne, folder: Path, code: str) -> None:
        super().__init__(folder, code)
        self.record_one = record_one

    def __call__(self, stack: str, root: Path, infra: Recording | None) -> tuple[Settings, Recording]:
        if not self.enabled:
            return self.record_one(stack, root, infra)
        answer: tuple[Settings, Recording] = self._answer(
            ["_record_one", stack, folder_digest(root), _infra_key(infra)],
            lambda: self.record_one(stack, root, infra),
            lambda done: (done[0], _without_transforms(done[1])),
        )
        return answer
