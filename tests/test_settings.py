"""The settings loader: valid example stacks load; every kind of bad input is a clear Problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.errors import ConfigError, Problem
from infra.kfvs.run import validate_stack
from infra.stackfile import list_stacks, placeholder, read_stack_config


def _problems(stack: str, root: Path) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        validate_stack(stack, root)
    return caught.value.problems


def test_every_example_stack_and_team_file_is_valid() -> None:
    stacks = list_stacks()
    assert {f"{env}-{layer}" for env in ("dev", "staging", "prod") for layer in ("infra", "platform")} <= set(stacks)
    for stack in stacks:
        settings = validate_stack(stack)
        assert settings.environment.tier in ("dev", "staging", "prod")
        assert len(settings.teams) >= 3
        assert [t.name for t in settings.teams] == sorted(t.name for t in settings.teams)


def test_secure_values_become_secret_placeholders() -> None:
    config, secret = read_stack_config("dev-infra")
    assert config["vsphere:password"] == placeholder("vsphere:password")
    assert secret == {"vsphere:password", "kubeflow-vsphere:supervisorKubeconfig", "kubeflow-vsphere:nlsClientToken"}
    assert config["vsphere:allowUnverifiedSsl"] == "false"
    assert config["kubeflow-vsphere:vsphere"].startswith("{")


def test_unknown_key_in_team_file_names_file_key_and_suggests(project: Path) -> None:
    team = project / "stacks/teams/vision.yaml"
    team.write_text(team.read_text().replace("owners:", "ownerz:"))
    problems = _problems("dev", project)
    unknown = [p for p in problems if p.key == "ownerz"]
    assert unknown, problems
    assert unknown[0].file == "stacks/teams/vision.yaml"
    assert "did you mean 'owners'?" in unknown[0].message
    # The rename also leaves the required key missing: both are reported.
    assert any(p.key == "owners" and "required" in p.message for p in problems)


def test_unknown_nested_key_in_stack_lists_allowed_keys(project: Path) -> None:
    stack = project / "stacks/Pulumi.dev-infra.yaml"
    stack.write_text(stack.read_text().replace("computeCluster:", "computeClustr:"))
    problems = _problems("dev", project)
    keys = {p.key: p.message for p in problems}
    assert "kubeflow-vsphere:vsphere.computeClustr" in keys
    assert "did you mean 'computeCluster'?" in keys["kubeflow-vsphere:vsphere.computeClustr"]
    assert all(p.file == "stacks/Pulumi.dev-infra.yaml" for p in problems)


def test_wrong_type_names_the_list_index(project: Path) -> None:
    team = project / "stacks/teams/nlp.yaml"
    team.write_text(team.read_text().replace("- emil.novak@example.internal", "- 42"))
    problems = _problems("dev", project)
    assert [(p.file, p.key) for p in problems] == [("stacks/teams/nlp.yaml", "owners[1]")]
    assert "42" in problems[0].message


def test_a_second_file_for_one_team_is_named_for_the_mismatch(project: Path) -> None:
    (project / "stacks/teams/vision-copy.yaml").write_text(
        (project / "stacks/teams/vision.yaml").read_text(), encoding="utf-8"
    )
    problems = _problems("dev", project)
    assert [(p.file, p.key) for p in problems] == [("stacks/teams/vision-copy.yaml", "name")]
    assert "named for team 'vision-copy'" in problems[0].message


def test_malformed_yaml_gives_line_and_all_other_problems_too(project: Path) -> None:
    (project / "stacks/teams/recsys.yaml").write_text("name: recsys\nowners: [a@b.io\n")
    team = project / "stacks/teams/vision.yaml"
    team.write_text(team.read_text().replace("name: vision", "name: Vision_Team"))
    problems = _problems("dev", project)
    files = {p.file for p in problems}
    assert files == {"stacks/teams/recsys.yaml", "stacks/teams/vision.yaml"}
    malformed = next(p for p in problems if p.file == "stacks/teams/recsys.yaml")
    assert "malformed YAML" in malformed.message
    assert "line" in malformed.message


def test_missing_stack_lists_the_stacks_there(project: Path) -> None:
    problems = _problems("qa", project)
    assert problems[0].file == "stacks/Pulumi.qa.yaml"
    assert "dev" in problems[0].message
    assert "prod" in problems[0].message


def test_provider_key_typo_and_plaintext_password(project: Path) -> None:
    stack = project / "stacks/Pulumi.dev-infra.yaml"
    text = stack.read_text()
    text = text.replace("vsphere:vsphereServer:", "vsphere:vsphereServr:")
    text = text.replace(
        "  vsphere:password:\n    secure: v1:REPLACE-WITH-pulumi-config-set-secret", "  vsphere:password: hunter2"
    )
    stack.write_text(text)
    problems = {p.key: p.message for p in _problems("dev", project)}
    assert "did you mean 'vsphere:vsphereServer'?" in problems["vsphere:vsphereServr"]
    assert "required" in problems["vsphere:vsphereServer"]
    assert "--secret" in problems["vsphere:password"]


def test_bad_values_inside_the_inventory(project: Path) -> None:
    stack = project / "stacks/Pulumi.dev-infra.yaml"
    text = stack.read_text().replace("tier: dev", "tier: qa").replace("- kubeflow-dev-gold", "[]")
    text = text.replace("storagePolicies:\n      []", "storagePolicies: []")
    stack.write_text(text)
    problems = {p.key: p.message for p in _problems("dev", project)}
    assert "'dev', 'staging' or 'prod'" in problems["kubeflow-vsphere:environment.tier"]
    assert "kubeflow-vsphere:vsphere.storagePolicies" in problems


def test_problem_lines_read_file_key_message() -> None:
    error = ConfigError([Problem("b.yaml", "x", "two"), Problem("a.yaml", "y[0]", "one")])
    assert str(error).splitlines() == [
        "configuration has 2 problems:",
        "  a.yaml: y[0]: one",
        "  b.yaml: x: two",
    ]
