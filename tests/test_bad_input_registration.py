"""Class 2: nothing is registered before an error, and the recorder is as strict as the engine.

Everything the program derives from configuration is validated before the first registration: a
config accepted by `kfvs validate` plans completely, and a refused one registers nothing (not even the
first of 21 resources, as a 59-character team name with a GPU node pool once did). Two resources with
one URN fail `kfvs` as they fail the engine, naming both.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pulumi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import infra.settings
from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs.recorder import DuplicateUrnError, Registration, record
from infra.kfvs.run import infra_references, record_stack, validate_stack
from infra.models.team import TEAM_NAME_MAX
from infra.program import main
from infra.stackfile import read_stack_config
from tests import yamlio
from tests.bad_input import POLICY, STACK, TEAM, Case, cases, kfvs, replace, stack_config, team_doc

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def _rename_team(project: Path, name: str, *, gpu_vms: bool = False) -> None:
    """The vision team under another name (file and name inside), asking for a GPU node pool in dev."""
    document = yamlio.load((project / TEAM).read_text())
    document["name"] = name
    if gpu_vms:
        document["environments"]["dev"]["gpuVms"] = {
            "namespace": "kubeflow-dev",
            "vmClass": "gpu-l40s-48c-16x96",
            "image": "vmi-7c2d1e9f0a3b4c5d6",
            "storageClass": "kubeflow-dev-gold",
            "replicas": 12,
        }
    (project / TEAM).unlink()
    (project / f"stacks/teams/{name}.yaml").write_text(yamlio.dump(document, sort_keys=False))
    for path in (project / "policies/quotas/config").glob("*.json"):
        path.write_text(path.read_text().replace('"vision"', f'"{name}"'))
    for path in (project / "stacks").glob("Pulumi.*.yaml"):
        path.write_text(path.read_text().replace("team: vision", f"team: {name}"))


def _registrations(project: Path) -> tuple[ConfigError | None, list[Registration]]:
    """Run the real program under the recorder, each layer of dev as `pulumi up` would: the first config error
    it raised and what it registered before."""
    seen: list[Registration] = []
    caught: list[ConfigError] = []

    def program() -> None:
        try:
            main(project)
        except ConfigError as error:
            caught.append(error)

    config, secret = read_stack_config("dev-infra", project)
    record(program, paths.PROJECT_NAME, "dev-infra", config, secret, on_register=seen.append)
    if not caught:  # the deploy workflow runs the platform layer only after the infra layer succeeded
        config, secret = read_stack_config("dev-platform", project)
        try:
            references = infra_references(validate_stack("dev-platform", project), project)
        except ConfigError:
            references = {}
        record(
            program, paths.PROJECT_NAME, "dev-platform", config, secret, on_register=seen.append, references=references
        )
    return (caught[0] if caught else None), seen


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.one_of(
        st.sampled_from(["a" * TEAM_NAME_MAX, "a" * (TEAM_NAME_MAX + 1), "t" * 59, "x" * 63]),
        st.text(_ALPHABET, min_size=TEAM_NAME_MAX - 3, max_size=TEAM_NAME_MAX + 9),
    ),
    gpu_vms=st.booleans(),
)
def test_a_team_name_is_either_refused_at_validation_or_planned_completely(
    project: Path, name: str, gpu_vms: bool
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "project"
        shutil.copytree(project, copy)  # each example starts from the untouched project
        _rename_team(copy, name, gpu_vms=gpu_vms)
        problems = _problems(copy)
        if problems:
            file = f"stacks/teams/{name}.yaml"
            assert all(p.file == file for p in problems), problems
            assert {p.key for p in problems} <= {"", "name", "environments.dev", "environments.dev.gpuVms"}
            error, seen = _registrations(copy)
            assert error is not None
            assert seen == []  # refused before the first registration
            return
        assert len(name) <= TEAM_NAME_MAX
        _, recording = record_stack("dev", copy)  # accepted: the whole program runs
        assert any(f"team-{name}" in str(r.inputs) for r in recording.resources.values())


def _problems(project: Path) -> list[Problem]:
    try:
        validate_stack("dev", project)
    except ConfigError as error:
        return error.problems
    return []


@cases(
    Case(
        "team-59-characters-with-gpu-pool",
        "stacks/teams/" + "t" * 59 + ".yaml",
        lambda project: _rename_team(project, "t" * 59),
        "",
        f"at most {TEAM_NAME_MAX}",
    ),
    Case(
        "stack-pool-vms-too-long",
        STACK,
        replace(STACK, "name: dev-train-a100", "name: " + "p" * 62),
        "kubeflow-vsphere:vsphere.gpuPools[0].name",
        "host names of at most 63",
    ),
    Case(
        "stack-vm-named-like-a-pool-vm",
        STACK,
        replace(STACK, "name: dev-bastion", "name: dev-train-a100-1"),
        "kubeflow-vsphere:vsphere.gpuPools[0].name",
        "as does VM 'dev-train-a100-1'",
    ),
    Case(
        "policy-nan-budget",
        POLICY,
        replace(POLICY, '"environmentGpus": 20,', '"environmentGpus": NaN,'),
        "team-quotas.environmentGpus",
        "NaN",
    ),
    Case(
        "team-two-emails-one-binding",
        TEAM,
        team_doc(lambda d: d["members"]["users"].extend(["ben-okafor@example.internal"])),
        "members.users[2]",
        "KFAM RoleBinding 'user-ben-okafor-example-internal-clusterrole-edit'",
    ),
)
def test_a_refused_config_registers_nothing(project: Path, case: Case) -> None:
    case.edit(project)
    error, seen = _registrations(project)
    assert error is not None, "accepted"
    assert seen == []
    assert any(case.names(p) and case.says in p.message for p in error.problems), error.problems
    run = kfvs(project, "plan", "dev")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stderr


def _twice() -> None:
    class Box(pulumi.ComponentResource):
        def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
            super().__init__("test:index:Box", name, None, opts)
            self.register_outputs({})

    first, second = Box("left"), Box("right")
    Box("same", pulumi.ResourceOptions(parent=first))
    Box("same", pulumi.ResourceOptions(parent=second))


def test_the_recorder_refuses_a_duplicate_urn_naming_both() -> None:
    with pytest.raises(DuplicateUrnError) as caught:
        record(_twice, "proj", "st", {}, frozenset())
    [problem] = caught.value.problems
    assert problem.key == "same"
    assert "urn:pulumi:st::proj::test:index:Box$test:index:Box::same" in problem.message
    assert "under left" in problem.message
    assert "under right" in problem.message


def test_a_collision_validation_missed_still_stops_kfvs(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Two e-mails KFAM maps to one RoleBinding; with the settings check switched off, the recorder catches it.
    team_doc(lambda d: d["members"]["users"].append("ben-okafor@example.internal"))(project)
    monkeypatch.setattr(infra.settings, "check_team_identity", lambda team, file: [])
    with pytest.raises(DuplicateUrnError) as caught:
        record_stack("dev", project)
    assert any("user-ben-okafor-example-internal-clusterrole-edit" in p.key for p in caught.value.problems)


@cases(
    Case(
        "stack-unknown-section",
        STACK,
        stack_config(lambda c: c.update({"kubeflow-vsphere:vsphereTypo": {}})),
        "kubeflow-vsphere:vsphereTypo",
    ),
)
def test_check_and_plan_refuse_before_any_pack_judges(project: Path, case: Case) -> None:
    case.edit(project)
    for command in ("check", "plan"):
        run = kfvs(project, command, "dev")
        assert run.returncode == 1, run.stdout + run.stderr
        assert "Traceback" not in run.stderr
        assert f"{case.file}: {case.key}" in run.stderr
