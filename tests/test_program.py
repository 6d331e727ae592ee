"""The program itself: bad configuration stops it before anything is registered, without a traceback."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs.recorder import record
from infra.kfvs.run import validate_stack
from infra.program import main
from infra.stackfile import read_stack_config
from tests import yamlio


def test_config_error_registers_nothing_but_the_stack(project: Path) -> None:
    (project / "stacks/teams/vision.yaml").write_text("name: vision\n")
    config, secret = read_stack_config("dev-platform", project)
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            main(project)
        except ConfigError as error:
            caught.append(error)

    rec = record(program, paths.PROJECT_NAME, "dev-platform", config, secret)
    assert [p.key for p in caught[0].problems] == ["owners"]
    assert [r.type for r in rec.resources.values()] == ["pulumi:pulumi:Stack"]


def test_entry_point_turns_config_errors_into_a_clean_run_error() -> None:
    # RunError is how a Pulumi program stops with a message and no traceback under the engine.
    def entry_point() -> None:
        runpy.run_module("infra", run_name="__main__")

    with pytest.raises(pulumi.RunError, match=r"configuration has \d+ problems"):
        record(entry_point, paths.PROJECT_NAME, "dev", {}, frozenset())


_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.text(max_size=12),
    st.lists(st.text(max_size=6), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)
_keys = st.sampled_from(["name", "displayName", "owners", "members", "Owners", "ünïcode", "extra"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutations=st.lists(st.tuples(_keys, _values, st.booleans()), min_size=1, max_size=4))
def test_mutated_team_files_end_in_settings_or_a_clean_error(
    project: Path, mutations: list[tuple[str, Any, bool]]
) -> None:
    path = project / "stacks/teams/vision.yaml"
    document = yamlio.load((paths.TEAMS_DIR / "vision.yaml").read_text())
    for key, value, delete in mutations:
        if delete:
            document.pop(key, None)
        else:
            document[key] = value
    path.write_text(yamlio.dump(document, allow_unicode=True))
    problems: list[Problem] = []
    try:
        settings_ = validate_stack("dev", project)
    except ConfigError as error:
        problems = error.problems
    if not problems:
        assert any(t.name == document["name"] for t in settings_.teams)
    assert all(p.file in ("stacks/teams/vision.yaml", "stacks/Pulumi.dev-infra.yaml") and p.message for p in problems)
