"""Generated bad input ends in a plan or a clean error; plans are deterministic; secrets never leak."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra import paths
from infra.errors import ConfigError
from infra.kfvs.plan import to_json
from infra.kfvs.run import plan_stack, validate_stack
from infra.stackfile import placeholder
from tests.conftest import KfvsRunner
from tests.environment_files import read_environment, write_environment

BASE = {"config": read_environment(paths.PROJECT_ROOT, "dev")}
"""The dev environment's configuration, both layers' files as one (tests/environment_files.py)."""


def _key_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _key_paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _key_paths(v, (*prefix, i))
    return out


PATHS = _key_paths(BASE["config"])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
    st.sampled_from(["ünïcødé-名前", "UPPER_case", "", "a" * 300, "-leading-dash", "0000:zz:00.0"]),
)


def _mutate(config: dict[str, Any], path: tuple[Any, ...], op: str, value: Any) -> None:
    parent: Any = config
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if op == "delete":
        if isinstance(parent, dict):
            parent.pop(last, None)
        else:
            parent.pop(last)
    elif op == "unknown" and isinstance(parent, dict):
        parent[f"{last}Typo"] = value
    elif op == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[last]))
    else:
        parent[last] = value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    mutations=st.lists(
        st.tuples(st.sampled_from(PATHS), st.sampled_from(["delete", "set", "unknown", "duplicate"]), VALUES),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_stack_files_end_in_a_plan_or_a_clean_error(
    project: Path, mutations: list[tuple[tuple[Any, ...], str, Any]]
) -> None:
    document = copy.deepcopy(BASE)
    for path, op, value in mutations:
        try:
            _mutate(document["config"], path, op, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    write_environment(project, "dev", document["config"])
    problems = []
    try:
        validate_stack("dev", project)
    except ConfigError as error:
        problems = error.problems
    if not problems:  # valid after all: it must plan completely
        assert plan_stack("dev", project)["resources"]
    assert all(p.file.startswith("stacks/") and p.message for p in problems)


@pytest.mark.fresh_runs
@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "sandbox"])
def test_plans_are_identical_twice_and_whatever_the_team_file_order(stack: str, project: Path) -> None:
    first = to_json(plan_stack(stack, project))
    assert to_json(plan_stack(stack, project)) == first
    teams = project / "stacks" / "teams"
    files = {path.name: path.read_bytes() for path in teams.glob("*.yaml")}
    for name in files:
        (teams / name).unlink()
    for name in sorted(files, reverse=True):  # recreated in reverse: the directory lists them in another order
        (teams / name).write_bytes(files[name])
    assert to_json(plan_stack(stack, project)) == first


def test_no_secret_value_reaches_plan_diff_or_check(kfvs: KfvsRunner, project: Path) -> None:
    secrets = [
        placeholder(k)
        for k in (
            "vsphere:password",
            "kubeflow-vsphere:supervisorKubeconfig",
            "kubeflow-vsphere:ngcApiKey",
            "kubeflow-vsphere:nlsClientToken",
        )
    ]
    outputs = [
        kfvs("plan", "dev", "--json").stdout,
        kfvs("plan", "dev", "--markdown").stdout,
        kfvs("check", "dev").stdout,
    ]
    for stack in ("staging", "prod"):
        outputs.append(kfvs("plan", stack, "--json").stdout)
    assert all(outputs)
    for text in outputs:
        for secret in secrets:
            assert secret not in text
    assert '"kubeconfig": "[secret]"' in outputs[0]  # the secret is there, masked
