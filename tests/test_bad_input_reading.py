"""Class 1, reading files: every input file kind is read bounded and strict, and refused in one clean line.

Duplicate keys, alias bombs, deep nesting, huge files, links out of the repository, FIFOs, directories,
bytes that are not UTF-8, YAML 1.1 booleans and sexagesimals where numbers belong, NaN in JSON, and
anything in stacks/teams/ that is not `<team>.yaml` with that name inside.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.errors import ConfigError, Problem
from infra.kfvs.run import validate_stack
from infra.loading import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_json, load_yaml
from infra.settings import load_settings
from infra.stackfile import read_stack_config
from tests.bad_input import (
    FILE_KINDS,
    POLICY,
    STACK,
    TEAM,
    Case,
    append,
    assert_cli_refused,
    assert_refused,
    cases,
    check_case,
    kfvs,
    refusal,
    replace,
    write,
)

BOMB = "  kubeflow-vsphere:notAKey:\n    a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"    {chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]\n" for i in range(9)
)
"""Ten to the tenth values once expanded, under an unknown key of the stack file (the issue's hang)."""
TEAM_BOMB = "name: vision\nowners: [ana.silva@example.internal]\ndisplayName: &a [x, x, x, x, x, x, x, x, x, x]\n" + (
    "".join(f"d{i}: &d{i} [{', '.join(['*a' if i == 0 else f'*d{i - 1}'] * 10)}]\n" for i in range(9))
)
DEEP = "[" * 20_000 + "]" * 20_000
HUGE = "# padding\n" * (MAX_BYTES // 10 + 1)


@cases(
    # Stack file.
    Case(
        "stack-duplicate-top-key",
        STACK,
        replace(
            STACK,
            "  kubeflow-vsphere:environment:\n",
            "  kubeflow-vsphere:environment: {}\n  kubeflow-vsphere:environment:\n",
        ),
        "kubeflow-vsphere:environment",
        "duplicate key",
    ),
    Case(
        "stack-duplicate-nested-key",
        STACK,
        replace(STACK, "    tier: dev\n", "    tier: dev\n    tier: prod\n"),
        "kubeflow-vsphere:environment.tier",
        "duplicate key (lines 17 and 18)",
    ),
    Case(
        "stack-alias-bomb",
        STACK,
        append(STACK, BOMB),
        "kubeflow-vsphere:notAKey.",
        f"more than {MAX_NODES}",
        key_prefix=True,
    ),
    Case(
        "stack-deep",
        STACK,
        append(STACK, f"  kubeflow-vsphere:deep: {DEEP}\n"),
        "kubeflow-vsphere:deep[0]",
        "nested",
        key_prefix=True,
    ),
    Case("stack-huge", STACK, append(STACK, HUGE), "", "larger than 4 MiB"),
    Case(
        "stack-yes-is-no-number",
        STACK,
        replace(STACK, "        replicas: 2\n        gpusPerVm: 2", "        replicas: yes\n        gpusPerVm: 2"),
        "kubeflow-vsphere:vsphere.gpuPools[0].replicas",
        "got 'yes'",
    ),
    Case(
        "stack-sexagesimal-is-no-number",
        STACK,
        replace(STACK, "        replicas: 2\n        gpusPerVm: 2", "        replicas: 1:20\n        gpusPerVm: 2"),
        "kubeflow-vsphere:vsphere.gpuPools[0].replicas",
        "got '1:20'",
    ),
    Case("stack-not-utf8", STACK, write(STACK, b"config:\n  vsphere:user: \xff\xfe\n"), "", "not UTF-8"),
    Case(
        "stack-truncated", STACK, write(STACK, "config:\n  kubeflow-vsphere:vsphere: {datacenter: [dc"), "", "malformed"
    ),
    Case(
        "stack-python-tag",
        STACK,
        append(STACK, "  kubeflow-vsphere:tagged: !!python/object/apply:os.system [id]\n"),
        "",
        "malformed",
    ),
    # Team file.
    Case(
        "team-second-owners",
        TEAM,
        append(TEAM, "owners:\n  - mallory@example.internal\n"),
        "owners",
        "duplicate key (lines 4 and ",
    ),
    Case(
        "team-duplicate-nested-key",
        TEAM,
        replace(TEAM, "        gpus: 4\n", "        gpus: 4\n        gpus: 40\n"),
        "environments.dev.profile.quota.gpus",
        "duplicate key",
    ),
    Case("team-alias-bomb", TEAM, write(TEAM, TEAM_BOMB), "d", f"more than {MAX_NODES}", key_prefix=True),
    Case(
        "team-deep",
        TEAM,
        write(TEAM, f"name: vision\nowners: {DEEP}\n"),
        "owners[0]",
        f"more than {MAX_DEPTH}",
        key_prefix=True,
    ),
    Case("team-huge", TEAM, write(TEAM, "name: vision\n" + "x" * (50 * 1024 * 1024)), "", "larger than 4 MiB"),
    Case(
        "team-on-is-no-number",
        TEAM,
        replace(TEAM, "      replicas: 1\n", "      replicas: on\n"),
        "environments.dev.gpuNodePool.replicas",
        "got 'on'",
    ),
    Case(
        "team-nan-quota",
        TEAM,
        replace(TEAM, "        cpu: 0.5\n", "        cpu: .nan\n"),
        "environments.dev.profile.notebookDefaults.cpu",
    ),
    Case(
        "team-infinite-quota",
        TEAM,
        replace(TEAM, "        memoryGiB: 2\n", "        memoryGiB: .inf\n"),
        "environments.dev.profile.notebookDefaults.memoryGiB",
    ),
    Case("team-not-utf8", TEAM, write(TEAM, b"name: vision\xff\n"), "", "not UTF-8"),
    Case("team-truncated", TEAM, write(TEAM, "name: vision\nowners: [ana@example.internal\n"), "", "malformed"),
    Case("team-not-a-mapping", TEAM, write(TEAM, "- name: vision\n"), "", "expected a mapping"),
    # Policy config.
    Case(
        "policy-duplicate-key",
        POLICY,
        replace(POLICY, '"environmentGpus": 20,', '"environmentGpus": 20, "environmentGpus": 200,'),
        "team-quotas.environmentGpus",
        "duplicate key",
    ),
    Case("policy-nan", POLICY, replace(POLICY, '"gpus": 10,', '"gpus": NaN,'), "team-quotas.teams.vision.gpus", "NaN"),
    Case(
        "policy-infinity",
        POLICY,
        replace(POLICY, '"environmentGpus": 20,', '"environmentGpus": Infinity,'),
        "team-quotas.environmentGpus",
        "Infinity",
    ),
    Case("policy-truncated", POLICY, write(POLICY, '{"team-quotas": {"environmentGpus": 20,'), "", "malformed JSON"),
    Case("policy-deep", POLICY, write(POLICY, DEEP), "", "nested"),
    Case("policy-huge", POLICY, write(POLICY, '{"team-quotas": "mandatory"}' + " " * (MAX_BYTES + 1)), "", "larger"),
    Case("policy-not-utf8", POLICY, write(POLICY, b'{"team-quotas": "\xff"}'), "", "not UTF-8"),
    Case(
        "policy-boolean-is-no-number",
        POLICY,
        replace(POLICY, '"gpus": 10,', '"gpus": true,'),
        "team-quotas.teams.vision.gpus",
        "not of type 'number'",
    ),
)
def test_each_unreadable_or_ambiguous_file_is_refused_naming_file_and_key(project: Path, case: Case) -> None:
    check_case(project, case)


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_a_link_out_of_the_repository_is_refused(project: Path, tmp_path: Path, kind: str) -> None:
    relative = FILE_KINDS[kind]
    outside = tmp_path / "outside" / Path(relative).name
    outside.parent.mkdir()
    outside.write_bytes((project / relative).read_bytes())
    (project / relative).unlink()
    (project / relative).symlink_to(outside)
    assert_refused(refusal(project), Case(kind, relative, write(relative, ""), "", "symbolic link to outside"))


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_a_link_inside_the_repository_is_read(project: Path, kind: str) -> None:
    relative = FILE_KINDS[kind]
    inside = project / f"kept-{Path(relative).name}"
    (project / relative).rename(inside)
    (project / relative).symlink_to(inside)
    assert validate_stack("dev", project).teams


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_a_directory_in_place_of_a_file_is_refused(project: Path, kind: str) -> None:
    relative = FILE_KINDS[kind]
    (project / relative).unlink()
    (project / relative).mkdir()
    assert_refused(refusal(project), Case(kind, relative, write(relative, ""), "", "is a directory"))


@pytest.mark.parametrize("kind", sorted(FILE_KINDS))
def test_a_fifo_ends_in_an_error_not_a_hang(project: Path, kind: str) -> None:
    relative = FILE_KINDS[kind]
    (project / relative).unlink()
    os.mkfifo(project / relative)
    start = time.monotonic()
    run = kfvs(project, "validate", "dev")  # in-process, a blocking open would hang the test run itself
    assert_cli_refused(run, Case(kind, relative, write(relative, ""), ""))
    assert "not a regular file" in run.stderr
    assert time.monotonic() - start < 60


@pytest.mark.parametrize(
    ("file", "text", "says"),
    [
        pytest.param(STACK, None, f"more than {MAX_NODES}", id="stack-alias-bomb"),
        pytest.param(TEAM, f"name: vision\nowners: {DEEP}\n", "nested", id="team-20000-deep"),
        pytest.param(TEAM, "name: vision\n" + "x" * (50 * 1024 * 1024), "larger", id="team-50-MB"),
        pytest.param(POLICY, DEEP, "nested", id="policy-20000-deep"),
    ],
)
def test_pathological_files_end_through_the_cli_within_seconds(
    project: Path, file: str, text: str | None, says: str
) -> None:
    if text is None:
        append(STACK, BOMB)(project)
    else:
        write(file, text)(project)
    run = kfvs(project, "validate", "dev")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr
    assert any(line.strip().startswith(file) and says in line for line in run.stderr.splitlines()), run.stderr


@cases(
    Case("readme", "stacks/teams/README.md", write("stacks/teams/README.md", "# teams\n"), "", "not a team file"),
    Case("yml", "stacks/teams/ml.yml", write("stacks/teams/ml.yml", "name: ml\n"), "", "not a team file"),
    Case("hidden", "stacks/teams/.vision.yaml.swp", write("stacks/teams/.vision.yaml.swp", ""), "", "not a team"),
    Case("upper", "stacks/teams/Vision.yaml", write("stacks/teams/Vision.yaml", "name: x\n"), "", "no team's"),
    Case("reserved", "stacks/teams/default.yaml", write("stacks/teams/default.yaml", "name: default\n"), "", "no team"),
    Case(
        "name-differs",
        "stacks/teams/vision2.yaml",
        lambda p: (p / "stacks/teams/vision2.yaml").write_text((p / TEAM).read_text()),
        "name",
        "named for team 'vision2'",
    ),
)
def test_everything_in_the_teams_folder_is_a_team_file_named_for_its_team(project: Path, case: Case) -> None:
    check_case(project, case)


def test_a_subfolder_in_the_teams_folder_is_named(project: Path) -> None:
    (project / "stacks/teams/archive").mkdir()
    (project / "stacks/teams/archive/old.yaml").write_text("name: old\n")
    assert_refused(refusal(project), Case("dir", "stacks/teams/archive", write(TEAM, ""), "", "not a team file"))


def test_merge_keys_and_aliases_within_bounds_still_work(project: Path) -> None:
    assert load_yaml("base: &b {cpu: 1}\nx:\n  <<: *b\n  cpu: 2\n", "f.yaml") == {"base": {"cpu": 1}, "x": {"cpu": 2}}


def test_yaml_scalars_resolve_as_yaml_1_2_core() -> None:
    document = load_yaml("a: yes\nb: on\nc: 1:20\nd: 2024-01-01\ne: true\nf: 0o17\ng: 0x1f\nh: ~\ni: 012\n", "f")
    assert document == {"a": "yes", "b": "on", "c": "1:20", "d": "2024-01-01", "e": True, "f": 15, "g": 31}.__or__(
        {"h": None, "i": "012"}
    )


_SCALARS = st.one_of(
    st.integers(), st.booleans(), st.none(), st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]))
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_DOCUMENTS)
def test_any_json_document_loads_as_itself_or_not_at_all(document: object) -> None:
    assert load_json(json.dumps(document), "p.json") == document


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet="[]{}:,-&*!'\"ab\n #|>.0", max_size=80))
def test_arbitrary_yaml_text_loads_or_is_one_clean_problem(text: str) -> None:
    problems: list[Problem] = []
    try:
        load_yaml(text, "f.yaml")
    except ConfigError as error:
        problems = error.problems
    assert len(problems) <= 1
    assert all(p.file == "f.yaml" and "\n" not in str(p) for p in problems)


@pytest.mark.parametrize("filler", ["a.", "a://", "-----BEGIN "])
def test_megabytes_of_one_value_are_checked_in_linear_time(project: Path, filler: str) -> None:
    """Just under the size bound, in a field every check walks: the run ends (a quadratic scan would not)."""
    text = (project / TEAM).read_text().replace("displayName: Computer Vision", f"displayName: '{filler * 900_000}'")
    (project / TEAM).write_text(text)
    run = kfvs(project, "validate", "dev")
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode in (0, 1), run.stderr


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 50_000 + "]" * 50_000, id="deep"),
        pytest.param('{"datacenter": "a", "datacenter": "b"}', id="duplicate-key"),
        pytest.param('{"datacenter": NaN}', id="nan"),
    ],
)
def test_config_as_the_engine_hands_it_over_is_bounded_too(text: str) -> None:
    """Under `pulumi up` the engine passes structured config as JSON text: the same bounds apply to it."""
    config, secret = read_stack_config("dev-infra")
    config["kubeflow-vsphere:vsphere"] = text
    with pytest.raises(ConfigError) as caught:
        load_settings("dev-infra", config, secret)
    assert [p.key for p in caught.value.problems] == ["kubeflow-vsphere:vsphere"]
    assert all("\n" not in str(p) for p in caught.value.problems)
