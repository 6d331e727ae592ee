"""The suite's memo of program runs (tests/recordings.py) keeps to what a run reads, and only to that."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import cast

import pytest

from infra import paths
from infra.kfvs.plan import build_plan, to_json
from infra.kfvs.recorder import Invocation, Recording, StackOutputs
from infra.kfvs.run import record_stack
from infra.settings import Settings
from tests.recordings import ContentMemo


class _Counting:
    """A stand-in for `_record_one` that counts its runs and fails when told to."""

    def __init__(self) -> None:
        self.runs = 0
        self.fail = False

    def __call__(self, stack: str, root: Path, infra: Recording | None) -> tuple[Settings, Recording]:
        self.runs += 1
        if self.fail:
            raise RuntimeError("bad input")
        recording = Recording(project="p", stack=stack)
        recording.invocations.append(Invocation(f"run {self.runs}", {}))
        return cast(Settings, {"stack": stack}), recording


def _memo() -> tuple[ContentMemo, _Counting]:
    inner = _Counting()
    return ContentMemo(inner), inner


def test_the_same_content_runs_once_and_every_caller_gets_its_own_copy(project: Path) -> None:
    memo, inner = _memo()
    first = memo("dev-infra", project, None)
    first[1].invocations.clear()  # what one test does to its copy
    second = memo("dev-infra", project, None)
    assert inner.runs == 1
    assert memo.hits == 1
    assert second[1].invocations == [Invocation("run 1", {})]
    assert second[1] is not first[1]


@pytest.mark.parametrize("edited", ["stacks/teams/vision.yaml", "stacks/Pulumi.dev-infra.yaml", "policies/x.json"])
def test_an_edited_file_the_run_reads_runs_it_again(project: Path, edited: str) -> None:
    memo, _ = _memo()
    memo("dev-infra", project, None)
    path = project / edited
    path.write_text(path.read_text() + "\n# edited\n" if path.is_file() else "{}")
    assert memo("dev-infra", project, None)[1].invocations == [Invocation("run 2", {})]


def test_code_in_the_folder_is_not_part_of_the_key_since_the_run_uses_the_processs(project: Path) -> None:
    memo, inner = _memo()
    memo("dev-infra", project, None)
    (project / "infra" / "program.py").write_text("raise SystemExit\n")
    memo("dev-infra", project, None)
    assert inner.runs == 1


def test_another_layer_or_other_infra_outputs_run_again(project: Path) -> None:
    memo, inner = _memo()
    infra = Recording(project="p", stack="dev-infra", outputs=StackOutputs({"a": 1}, frozenset()))
    memo("dev-platform", project, infra)
    memo("dev-platform", project, infra)
    assert inner.runs == 1
    memo("dev-infra", project, None)
    infra.outputs = StackOutputs({"a": 2}, frozenset())
    memo("dev-platform", project, infra)
    assert inner.runs == 3


def test_a_failed_run_is_not_kept_and_a_disabled_memo_always_runs(project: Path) -> None:
    memo, inner = _memo()
    inner.fail = True
    for _ in range(2):
        with pytest.raises(RuntimeError):
            memo("dev-infra", project, None)
    assert inner.runs == 2
    inner.fail = False
    memo.enabled = False
    memo("dev-infra", project, None)
    memo("dev-infra", project, None)
    assert inner.runs == 4
    assert memo.runs == {}


def test_the_suites_memo_answers_record_stack(content_memo: ContentMemo) -> None:
    record_stack("dev-infra")
    hits = content_memo.hits
    record_stack("dev-infra")
    assert content_memo.hits == hits + 1


@pytest.mark.fresh_runs
@pytest.mark.parametrize("environment", paths.list_environments())
def test_no_recording_names_the_folder_it_was_planned_from(project: Path, environment: str) -> None:
    # What lets two copies of the project with one content share a run.
    settings, recording = record_stack(environment, project)
    written = to_json(build_plan(recording, [t.name for t in settings.teams]))
    for text in (written, repr(settings), repr(recording.outputs), repr(recording.invocations)):
        assert str(project) not in text


def test_a_copy_of_a_recording_shares_its_transforms_and_copies_its_data() -> None:
    _, original = record_stack("dev-platform")
    assert original.transforms
    copied = copy.deepcopy(original)
    assert copied.transforms == original.transforms
    assert all(c is o for c, o in zip(copied.transforms, original.transforms, strict=True))
    assert copied.resources == original.resources
    assert copied.resources is not original.resources
    assert copied.outputs == original.outputs
