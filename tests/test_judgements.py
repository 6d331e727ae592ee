"""The suite's judged and layer runs shared across its processes (tests/recordings.py `SharedJudgements`)."""

from __future__ import annotations

import inspect
import shutil
from pathlib import Path
from typing import Any

import pytest

from infra import paths
from infra.kfvs import cli
from infra.kfvs import run as kfvs_run
from infra.kfvs.recorder import Invocation, Recording, StackOutputs
from infra.kfvs.run import plan_of
from tests import forkserver
from tests.forkserver import run_kfvs
from tests.recordings import SharedJudgements, SharedLayerRuns, code_digest


class _Judge:
    """A stand-in for `judge_stack`: counts its runs, fails when told to, records a transform."""

    def __init__(self) -> None:
        self.runs = 0
        self.fail = False

    def __call__(self, stack: str, root: Path) -> tuple[Any, Recording, list[Any]]:
        self.runs += 1
        if self.fail:
            raise RuntimeError("bad input")
        recording = Recording(project="p", stack=stack, transforms=[print])
        recording.invocations.append(Invocation(f"run {self.runs}", {}))
        return {"stack": stack}, recording, [f"verdict of run {self.runs}"]


def _shared(tmp_path: Path, code_root: Path = paths.PROJECT_ROOT) -> tuple[SharedJudgements, _Judge]:
    judge = _Judge()
    return SharedJudgements(judge, tmp_path / "judgements", code_digest(code_root), paths.PROJECT_ROOT), judge


def test_the_same_stack_code_and_content_is_judged_once_and_kept_without_transforms(
    tmp_path: Path, project: Path
) -> None:
    shared, judge = _shared(tmp_path)
    first = shared("dev", project)
    assert first[1].transforms == [print]  # the caller that judged gets the whole run
    again = shared("dev", project)
    assert (judge.runs, shared.hits) == (1, 1)
    assert (again[0], again[1], again[2]) == first
    assert again[1].transforms == []  # a pickle holds data, not the program's callables
    assert again[1] is not shared("dev", project)[1]  # every answer its own copy


def test_another_stack_data_or_code_is_judged_again(tmp_path: Path, project: Path) -> None:
    shared, judge = _shared(tmp_path)
    shared("dev", project)
    shared("prod", project)
    team = project / "stacks" / "teams" / "vision.yaml"
    team.write_text(team.read_text() + "\n")
    shared("dev", project)
    assert judge.runs == 3
    code = tmp_path / "code"
    for package in ("infra", "components", "policies"):
        shutil.copytree(paths.PROJECT_ROOT / package, code / package)
    (code / "infra" / "extra.py").write_text("")
    assert code_digest(code) != code_digest(paths.PROJECT_ROOT)
    other, other_judge = _shared(tmp_path, code_root=code)
    other("dev", project)
    assert other_judge.runs == 1  # the same folder planned by other code


def test_a_failed_run_is_not_kept_and_a_disabled_one_always_runs(tmp_path: Path, project: Path) -> None:
    shared, judge = _shared(tmp_path)
    judge.fail = True
    for _ in range(2):
        with pytest.raises(RuntimeError, match="bad input"):
            shared("dev", project)
    judge.fail = False
    shared.enabled = False
    shared("dev", project)
    shared("dev", project)
    assert (judge.runs, shared.hits) == (4, 0)
    assert not (tmp_path / "judgements").exists()


def test_a_kfvs_run_and_this_process_share_one_judgement(project: Path, shared_judgements: SharedJudgements) -> None:
    assert kfvs_run.judge_stack is shared_judgements
    (project / "stacks" / "teams" / "vision.yaml").write_text(
        (project / "stacks" / "teams" / "vision.yaml").read_text() + "# a content of this test's own\n"
    )
    assert run_kfvs(project, "check", "dev").returncode == 0
    hits = shared_judgements.hits
    settings, recording, verdicts = kfvs_run.judge_stack("dev", project)
    # A content only this test has: the forked run kept the answer this process reads.
    assert shared_judgements.hits == hits + 1
    assert plan_of(settings, recording, verdicts)["resources"]


def _layer(tmp_path: Path) -> tuple[SharedLayerRuns, list[str]]:
    runs: list[str] = []

    def record_one(stack: str, root: Path, infra: Recording | None) -> tuple[Any, Recording]:
        runs.append(stack)
        return {"stack": stack}, Recording(project="p", stack=stack, transforms=[print])

    return SharedLayerRuns(record_one, tmp_path / "judgements", code_digest(paths.PROJECT_ROOT)), runs


def test_a_layer_run_is_kept_by_its_content_and_the_infra_outputs_it_was_given(tmp_path: Path, project: Path) -> None:
    shared, runs = _layer(tmp_path)
    infra = Recording(project="p", stack="dev-infra", outputs=StackOutputs({"cluster": "a"}, frozenset()))
    other = Recording(project="p", stack="dev-infra", outputs=StackOutputs({"cluster": "b"}, frozenset()))
    first = shared("dev-platform", project, infra)
    again = shared("dev-platform", project, infra)
    shared("dev-platform", project, other)
    shared("dev-infra", project, None)
    assert runs == ["dev-platform", "dev-platform", "dev-infra"]
    assert (again[0], again[1]) == first
    assert (first[1].transforms, again[1].transforms) == ([print], [])


def test_every_command_that_renders_records_its_own_layer_runs() -> None:
    """A kept layer run has no stack transforms: a command that renders must not be answered from one."""
    rendering = {
        command.name or command.callback.__name__
        for command in cli.app.registered_commands
        if command.callback is not None and "render_stack" in inspect.getsource(command.callback)
    }
    assert rendering == {"render", "lint"}
    assert rendering <= forkserver.RENDERING
