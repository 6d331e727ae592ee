"""Class 3, names and identity: reserved and overlong names, trailing newlines, names two inputs derive alike,
wildcard and system identities, and a team reaching for another team's namespace; each refused where written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.tenancy import kfam_name
from infra.models.team import (
    GROUPS_UNSUPPORTED,
    PLATFORM_NAMESPACES,
    RESERVED_TEAM_PREFIXES,
    TEAM_NAME_MAX,
    team_name_problem,
)
from tests import examples
from tests.bad_input import POLICY, STACK, TEAM, Case, cases, check_case, refusal, replace, stack_config, team_doc


def _set(path: list[Any], value: Any) -> Any:
    def change(document: dict[str, Any]) -> None:
        node = document
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return change


def _team_vms(namespace: str) -> Any:
    return _set(
        ["environments", "dev", "gpuVms"],
        {
            "namespace": namespace,
            "vmClass": "gpu-l40s-48c-16x96",
            "image": "vmi-7c2d1e9f0a3b4c5d6",
            "storageClass": "kubeflow-dev-gold",
            "replicas": 1,
        },
    )


def _nlp_namespace(config: dict[str, Any]) -> None:
    namespaces = config["kubeflow-vsphere:vsphere"]["namespaces"]
    namespaces.append({**namespaces[0], "name": "nlp-private", "team": "nlp"})


_RESERVED = ["default", "kube-system", "kube-anything", "kubeflow", "istio-system", "auth", "cert-manager"]


@cases(
    *(
        Case(f"team-named-{n}", TEAM, replace(TEAM, "name: vision", f"name: {n}"), "name", "pick a name")
        for n in _RESERVED
    ),
    Case("team-name-trailing-newline", TEAM, replace(TEAM, "name: vision", 'name: "vision\\n"'), "name"),
    Case(
        "team-name-too-long",
        TEAM,
        replace(TEAM, "name: vision", "name: " + "v" * (TEAM_NAME_MAX + 1)),
        "name",
        f"at most {TEAM_NAME_MAX}",
    ),
    Case("email-trailing-newline", TEAM, team_doc(_set(["owners", 0], "ana@example.internal\n")), "owners[0]"),
    Case("user-wildcard", TEAM, team_doc(_set(["members", "users", 0], "*@example.internal")), "members.users[0]"),
    Case("user-system", TEAM, team_doc(_set(["members", "users", 0], "system:anonymous")), "members.users[0]"),
    Case("user-empty", TEAM, team_doc(_set(["members", "users", 0], "")), "members.users[0]"),
    *(
        Case(
            f"groups-{label}", TEAM, team_doc(_set(["members", "groups"], value)), "members.groups", GROUPS_UNSUPPORTED
        )
        for label, value in (
            ("directory-group", ["ml-vision"]),
            ("wildcard", ["*"]),
            ("system-authenticated", ["system:authenticated"]),
            ("empty-list", []),
            ("null", None),
        )
    ),
    Case(
        "two-emails-one-binding",
        TEAM,
        team_doc(lambda d: d["members"]["users"].append("chen-li@example.internal")),
        "members.users[2]",
        "as does 'chen.li@example.internal' (stacks/teams/vision.yaml: members.users[1])",
    ),
    Case(
        "one-person-twice",
        TEAM,
        team_doc(lambda d: d["members"]["users"].append("Ana.Silva@example.internal")),
        "members.users[2]",
        "listed already, as 'ana.silva@example.internal' (stacks/teams/vision.yaml: owners[0])",
    ),
    Case(
        "another-teams-namespace",
        TEAM,
        lambda p: (stack_config(_nlp_namespace)(p), team_doc(_team_vms("nlp-private"))(p)),
        "environments.dev.gpuVms.namespace",
        "belongs to team 'nlp'",
    ),
    Case(
        "team-vms-named-like-a-stack-vm",
        TEAM,
        lambda p: (
            replace(STACK, "name: dev-bastion", "name: dev-vision-gpu-vms-0")(p),
            team_doc(_team_vms("kubeflow-dev"))(p),
        ),
        "environments.dev.gpuVms",
        "as does VM 'dev-vision-gpu-vms-0' (stacks/Pulumi.dev-infra.yaml: kubeflow-vsphere:vsphere.vms[0].name)",
    ),
    Case(
        "team-vms-pool-named-like-a-stack-pool",
        TEAM,
        lambda p: (
            replace(STACK, "name: dev-infer-l40s", "name: dev-vision-gpu-vms")(p),
            team_doc(_team_vms("kubeflow-dev"))(p),
        ),
        "environments.dev.gpuVms",
        "derives the pool name 'dev-vision-gpu-vms', as does pool 'dev-vision-gpu-vms'",
    ),
    Case(
        "team-pool-named-like-a-stack-pool",
        TEAM,
        replace(STACK, "        - name: cpu\n", "        - name: team-vision\n"),
        "environments.dev.gpuNodePool",
        "team-vision",
    ),
    Case(
        "stack-pool-claims-a-team-pool-name",
        STACK,
        replace(STACK, "        - name: cpu\n", "        - name: team-nlp\n"),
        "kubeflow-vsphere:clusters[0].nodePools[0].name",
        "would count against that team",
    ),
    Case(
        "stack-pool-claims-a-teams-gpu-vms",
        STACK,
        replace(STACK, "name: dev-train-a100", "name: dev-nlp-gpu-vms"),
        "kubeflow-vsphere:vsphere.gpuPools[0].name",
        "named like team 'nlp''s GPU VMs",
    ),
    Case(
        "shared-gpu-pool-selector-too-long",
        STACK,
        replace(STACK, "        - name: gpu-a100\n", "        - name: " + "g" * 61 + "\n"),
        "kubeflow-vsphere:clusters[0].nodePools[1].name",
        "PodDefault label",
    ),
    Case(
        "stack-label-trailing-newline",
        STACK,
        replace(STACK, "      - name: cpu-8x32\n", '      - name: "cpu-8x32\\n"\n'),
        "kubeflow-vsphere:vsphere.vmClasses[0].name",
    ),
    Case(
        "stack-pool-vm-names-too-long",
        STACK,
        replace(STACK, "name: dev-infer-l40s", "name: " + "i" * 62),
        "kubeflow-vsphere:vsphere.gpuPools[1].name",
        f"'{'i' * 62}-1' (64 characters)",
    ),
    Case(
        "stack-vm-named-like-a-pool-vm",
        STACK,
        replace(STACK, "name: dev-bastion", "name: dev-infer-l40s-0"),
        "kubeflow-vsphere:vsphere.gpuPools[1].name",
        "as does VM 'dev-infer-l40s-0'",
    ),
    Case(
        "policy-unknown-policy-name",
        POLICY,
        replace(POLICY, '"team-quotas"', '"team-quota"'),
        "team-quota",
        "no such policy",
    ),
)
def test_each_bad_name_or_identity_is_refused_where_it_is_written(project: Path, case: Case) -> None:
    check_case(project, case)


@given(
    name=st.from_regex(r"[a-z0-9]([-a-z0-9]{0,70}[a-z0-9])?", fullmatch=True)
    | st.sampled_from(sorted(PLATFORM_NAMESPACES))
    | st.builds(
        lambda p, s: p + s, st.sampled_from(RESERVED_TEAM_PREFIXES), st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True)
    )
)
def test_the_team_naming_rule_accepts_exactly_the_short_unreserved_labels(name: str) -> None:
    reserved = name in PLATFORM_NAMESPACES or name.startswith(RESERVED_TEAM_PREFIXES)
    assert (team_name_problem(name) is None) == (len(name) <= TEAM_NAME_MAX and not reserved)
    assert team_name_problem(name + "\n") is not None


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "sandbox"])
def test_every_namespace_the_program_creates_is_reserved(stack: str) -> None:
    """The reserved list is checked against the program: a component adding a namespace must add it there."""
    settings, recording = examples.recorded(stack)
    teams = {t.name for t in settings.teams}
    found = set()
    for r in recording.resources.values():
        if r.provider and "supervisor" in r.provider.rsplit("::", 2)[-2]:
            continue  # Supervisor namespaces live on the Supervisor, not in the workload cluster
        metadata = r.inputs.get("metadata") or {}
        if r.type == "kubernetes:core/v1:Namespace":
            found.add(metadata.get("name"))
        if isinstance(metadata.get("namespace"), str):
            found.add(metadata["namespace"])
        if isinstance(r.inputs.get("namespace"), str):
            found.add(r.inputs["namespace"])
    assert found - teams
    assert found - teams <= PLATFORM_NAMESPACES


def test_the_derived_binding_names_are_the_ones_the_program_registers() -> None:
    settings, recording = examples.recorded("dev")
    registered = {
        r.inputs["metadata"]["name"]
        for r in recording.resources.values()
        if r.type == "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
    }
    for team in settings.teams:
        assert {kfam_name(e, "edit") for e in team.members.users} <= registered


def test_a_team_file_with_groups_is_refused_with_one_line_naming_file_key_reason_and_fix(project: Path) -> None:
    """KFAM v1.10.0 has no group model and the web apps' access review sends the user only: nothing to grant."""
    team_doc(_set(["members", "groups"], ["ml-vision"]))(project)
    assert [str(p) for p in refusal(project)] == [
        "stacks/teams/vision.yaml: members.groups: directory groups are not supported: KFAM v1.10.0 (Kubeflow 26.03) "
        "grants access to users only and the Kubeflow web apps' access review sends the user, not the groups, so a "
        "group would reach nothing; list the people under members.users"
    ]


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_no_group_binding_or_groups_header_policy_is_registered(stack: str) -> None:
    """Every contributor RoleBinding binds a User, and no AuthorizationPolicy matches on `kubeflow-groups`."""
    recording = examples.recording(stack)
    bindings = [
        r for r in recording.resources.values() if r.type == "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
    ]
    assert bindings
    subjects = [s for r in bindings for s in r.inputs.get("subjects") or []]
    assert not [s for s in subjects if s.get("kind") == "Group"]
    policies = [r for r in recording.resources.values() if r.type.endswith("security.istio.io/v1:AuthorizationPolicy")]
    assert policies
    assert not [r.urn for r in policies if "kubeflow-groups" in repr(r.inputs.get("spec"))]
