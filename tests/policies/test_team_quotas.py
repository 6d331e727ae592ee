"""`team-quotas`: each team within its budget, all teams within the environment's GPUs, every object in a team's
namespace labelled; each finding names the file to edit and whose it is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.kfvs.check import Verdict
from infra.kfvs.recorder import Registration
from policies.usage import CAPI_CLUSTER, VM, VM_SERVICE_VM
from tests import yamlio
from tests.conftest import KfvsRunner
from tests.policies.cases import (
    CHART,
    Case,
    changed,
    config_map,
    gateway,
    gpu_vm,
    messages,
    pool_cluster,
    profile,
    recording,
    reg,
    set_quota,
    vm_class,
)
from tests.policies.conftest import Judge

POLICY = "team-quotas"

TEMPLATES = {
    "no-budget": "team '{team}' has no budget in this environment; to fix, the platform team adds teams.{key} to "
    "{budgets} (the platform team's budgets); it asks for {asks}",
    "over-budget": "team '{team}' asks for {asked} {unit} ({sources}) but its budget is {allowed} {unit2}; to fix, "
    "{lower}, or raise teams.{key} in {budgets} (the platform team's budgets)",
    "not-allowed": "team '{team}' uses {what} '{item}' ({sources}), which its budget does not allow (allowed: "
    "{allowed}); to fix, {pick}, or add it to teams.{key} in {budgets} (the platform team's budgets)",
    "environment": "the plan holds {total} GPUs in all ({parts}) but the environment has {capacity}; to fix, lower "
    "the requests in {where}, or raise environmentGpus in {budgets} (the platform team's budgets) if the hosts have "
    "the GPUs",
    "unlabelled": "{type} '{name}' belongs to team '{team}' but lacks the label {label}={owner}; to fix, set the label "
    "where the program creates it (the component named in its URN, under components/: the platform team's code)",
}
"""The findings the pack can report. The quota pack keeps its messages inline, so they are listed here to give
each a case; a pack that names its templates (the guardrails' MESSAGES) is read directly."""


def _shared_pool(replicas: int) -> Registration:
    """A shared GPU node pool (no team label), as the stack file declares `gpu-a100`, in a cluster of its own."""
    overrides = [{"name": "vmClass", "value": "gpu-a100-40c-16x128"}, {"name": "nodePoolLabels", "value": []}]
    md = {"class": "node-pool", "name": "gpu-a100", "replicas": replicas, "variables": {"overrides": overrides}}
    return reg(CAPI_CLUSTER, "shared", {"spec": {"topology": {"workers": {"machineDeployments": [md]}}}})


def _platform_vm(gpus: int) -> Registration:
    """A VM with passthrough GPUs and no team in its extraConfig: the platform's."""
    inputs = {"name": "platform-gpu", "numCpus": 8, "memory": 65536, "pciDeviceIds": ["0000:3b:00.0"] * gpus}
    return reg(VM, "platform-gpu", inputs)


def _unlabelled_vm_service_vm() -> Registration:
    """A VM Service VM on a vGPU class without the team label."""
    inputs = {
        "metadata": {"name": "infer-0", "namespace": "kubeflow-prod"},
        "spec": {"className": "gpu-a100-40c-16x128"},
    }
    return reg(VM_SERVICE_VM, "infer-0", inputs)


BUDGETS = "policies/quotas/config/prod.json (the platform team's budgets)"
RECSYS = "stacks/teams/recsys.yaml (the team's file)"
STACK_POOLS = "stacks/Pulumi.prod.yaml (pools the stack assigns to the team)"

CASES = [
    Case(
        "a team within budget on a class it may use",
        changed(pool_cluster("vision", "gpu-a100-40c-16x128", 2, protect=True)),
    ),
    Case(
        "a team over its vCPU",
        changed(profile("recsys", cpu="100", protect=True)),
        [
            "team 'recsys' asks for 100 vCPU (profile quota 100) but its budget is 64 vCPU; to fix, lower the request "
            f"in {RECSYS}, or raise teams.recsys.vcpu in {BUDGETS}"
        ],
    ),
    Case(
        "a team over its storage, through pools the stack assigns",
        changed(gpu_vm("vision", reserved=65536, name="vm-vision", protect=True, disk_gib=9000)),
        [
            "team 'vision' asks for 9000 GiB of storage (stack-level pools 9000) but its budget is 8000 GiB of "
            f"storage; to fix, lower the request in {STACK_POOLS}, or raise teams.vision.storageGiB in {BUDGETS}"
        ],
    ),
    Case(
        "a team on a VM class and vGPU profile it may not use",
        changed(pool_cluster("recsys", "gpu-a100-40c-16x128", 1, protect=True)),
        [
            "team 'recsys' uses VM class 'gpu-a100-40c-16x128' (GPU node pool), which its budget does not allow "
            f"(allowed: cpu-8x32); to fix, pick an allowed one in {RECSYS}, or add it to teams.recsys.vmClasses in "
            f"{BUDGETS}",
            "team 'recsys' uses vGPU profile 'grid_a100-40c' (GPU node pool), which its budget does not allow "
            f"(allowed: none); to fix, pick an allowed one in {RECSYS}, or add it to teams.recsys.vgpuProfiles in "
            f"{BUDGETS}",
        ],
    ),
    Case(
        "a team without a budget",
        changed(profile("speech", gpus="0", protect=True)),
        [
            "team 'speech' has no budget in this environment; to fix, the platform team adds teams.speech to "
            f"{BUDGETS}; it asks for 0 GPUs, 4 vCPU, 16 GiB of memory, 10 GiB of storage"
        ],
    ),
    Case(
        "teams over the environment's GPUs",
        changed(profile("vision", gpus="48", protect=True)),
        [
            "team 'vision' asks for 49 GPUs (profile quota 48, stack-level pools 1) but its budget is 24 GPUs; to fix, "
            "lower the request in stacks/teams/vision.yaml (the team's file) or in stacks/Pulumi.prod.yaml (pools the "
            f"stack assigns to the team), or raise teams.vision.gpus in {BUDGETS}",
            "the plan holds 51 GPUs in all (nlp 1, recsys 1, vision 49) but the environment has 48; to fix, lower the "
            "requests in the teams' files (stacks/teams/<team>.yaml) or stacks/Pulumi.prod.yaml (pools the stack "
            f"assigns to teams), or raise environmentGpus in {BUDGETS} if the hosts have the GPUs",
        ],
    ),
    Case(
        "only a node pool no team owns over the environment's GPUs",
        changed(_shared_pool(46)),
        [
            "the plan holds 49 GPUs in all (nlp 1, recsys 1, vision 1, no team's 46) but the environment has 48; to "
            "fix, lower the requests in the teams' files (stacks/teams/<team>.yaml) or stacks/Pulumi.prod.yaml (pools "
            "the stack assigns to teams) or stacks/Pulumi.prod.yaml (GPUs no team owns: node pool gpu-a100 46), or "
            f"raise environmentGpus in {BUDGETS} if the hosts have the GPUs",
        ],
    ),
    Case("a node pool no team owns that fills the environment's GPUs exactly", changed(_shared_pool(45))),
    Case(
        "a platform VM and a VM Service VM no team owns over the environment's GPUs",
        changed(_platform_vm(45), _unlabelled_vm_service_vm()),
        [
            "the plan holds 49 GPUs in all (nlp 1, recsys 1, vision 1, no team's 46) but the environment has 48; to "
            "fix, lower the requests in the teams' files (stacks/teams/<team>.yaml) or stacks/Pulumi.prod.yaml (pools "
            "the stack assigns to teams) or stacks/Pulumi.prod.yaml (GPUs no team owns: VM infer-0 1, VM "
            f"platform-gpu 45), or raise environmentGpus in {BUDGETS} if the hosts have the GPUs",
        ],
    ),
    Case(
        "an unlabelled object in a team's namespace",
        changed(config_map("recsys", {"a": "b"}, label=False)),
        [
            "kubernetes:core/v1:ConfigMap 'settings' belongs to team 'recsys' but lacks the label "
            "kubeflow-vsphere.io/team=recsys; to fix, set the label where the program creates it (the component "
            "named in its URN, under components/: the platform team's code)"
        ],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages


FAILING = recording(
    "prod",
    vm_class("gpu-big", 64, 524288, ["grid_h100-80c"], reservation=50),
    vm_class("gpu-a100-40c-16x128", 16, 131072, ["grid_a100-40c"]),
    gpu_vm("vision", reserved=1024, disk_gib=9000),
    pool_cluster("recsys", "gpu-big", 6),
    profile("vision", gpus="60"),
    profile("nlp", gpus=None, cpu="400", memory="4000Gi", label=False),
    reg(
        "kubernetes:core/v1:ConfigMap",
        "leak",
        {"metadata": {"namespace": "nlp", "name": "leak"}, "data": {"clientSecret": "hunter2", "password": "12341234"}},
    ),
    reg(CHART, "gateway", {"chart": "gateway", "version": "1.30.3"}),
    reg(CHART, "floating", {"chart": "dex", "version": "latest"}),
    reg(
        "kubernetes:kustomize/v2:Directory",
        "head",
        {"directory": "https://github.com/kubeflow/manifests/apps?ref=master"},
    ),
    reg("vsphere:index/contentLibrary:ContentLibrary", "lib", {"name": "tkr"}),
    gateway(https=False, redirect=False),
)

QUOTA_FINDINGS = [
    "team 'vision' asks for 61 GPUs (profile quota 60, stack-level pools 1) but its budget is 24 GPUs",
    "team 'nlp' asks for 400 vCPU (profile quota 400) but its budget is 256 vCPU",
    "team 'nlp' asks for 4000 GiB of memory (profile quota 4000) but its budget is 1536 GiB of memory",
    "team 'vision' asks for 9010 GiB of storage (profile quota 10, stack-level pools 9000) but its budget is 8000 GiB",
    "team 'recsys' uses VM class 'gpu-big' (GPU node pool), which its budget does not allow (allowed: cpu-8x32)",
    "team 'recsys' uses vGPU profile 'grid_h100-80c' (GPU node pool), which its budget does not allow (allowed: none)",
    "the plan holds 67 GPUs in all (recsys 6, vision 61) but the environment has 48",
    "kubernetes:kubeflow.org/v1:Profile 'profile-nlp' belongs to team 'nlp' but lacks the label",
]


@pytest.fixture(scope="module")
def tripped(judge: Judge) -> list[Verdict]:
    return judge(FAILING)


@pytest.mark.parametrize("finding", QUOTA_FINDINGS)
def test_each_quota_check_trips(finding: str, tripped: list[Verdict]) -> None:
    assert [v for v in tripped if v.policy == "team-quotas" and finding in v.message], finding


def test_messages_name_team_budget_and_ask(tripped: list[Verdict]) -> None:
    assert (
        "team 'nlp' asks for 400 vCPU (profile quota 400) but its budget is 256 vCPU; to fix, lower the request in "
        "stacks/teams/nlp.yaml (the team's file), or raise teams.nlp.vcpu in policies/quotas/config/prod.json "
        "(the platform team's budgets)"
    ) in messages(tripped, POLICY)


def _quota_findings(verdicts: list[Verdict]) -> list[str]:
    return [v.message for v in verdicts if v.policy == "team-quotas"]


def test_quota_findings_are_ordered_by_team_then_dimension(tripped: list[Verdict]) -> None:
    """Not as text: 'GPUs' before 'vCPU' before 'memory' before 'storage', classes, profiles, labels."""
    order = [
        "team 'nlp' asks for 400 vCPU",
        "team 'nlp' asks for 4000 GiB of memory",
        "ConfigMap 'leak' belongs to team 'nlp'",
        "Profile 'profile-nlp' belongs to team 'nlp'",
        "team 'recsys' asks for 6 GPUs",
        "team 'recsys' asks for 384 vCPU",
        "team 'recsys' asks for 3072 GiB of memory",
        "team 'recsys' uses VM class 'gpu-big'",
        "team 'recsys' uses vGPU profile 'grid_h100-80c'",
        "team 'vision' asks for 61 GPUs",
        "team 'vision' asks for 9010 GiB of storage",
        "the plan holds 67 GPUs in all",
    ]
    messages = _quota_findings(tripped)
    assert len(messages) == len(order)
    for expected, message in zip(order, messages, strict=True):
        assert expected in message, (expected, messages)


def test_every_quota_finding_names_the_file_to_edit_and_whose_it_is(tripped: list[Verdict]) -> None:
    for message in _quota_findings(tripped):
        assert "; to fix, " in message, message
        fix = message.split("; to fix, ", 1)[1]
        team = message.split("team '", 1)[1].split("'", 1)[0] if "team '" in message else None
        if "lacks the label" in message:
            assert "under components/: the platform team's code" in fix
            continue
        assert "policies/quotas/config/prod.json (the platform team's budgets)" in fix, message
        if message.startswith("the plan holds"):
            assert "stacks/teams/<team>.yaml" in fix
            assert "stacks/Pulumi.prod.yaml" in fix
        else:
            assert f"stacks/teams/{team}.yaml (the team's file)" in fix, message
    # Usage the stack file assigns to a team is fixed there, not in the team file.
    (storage,) = [m for m in _quota_findings(tripped) if "9010 GiB of storage" in m]
    assert "stacks/Pulumi.prod.yaml (pools the stack assigns to the team)" in storage
    (recsys_class,) = [m for m in _quota_findings(tripped) if "VM class 'gpu-big'" in m]
    assert "stacks/Pulumi.prod.yaml" not in recsys_class


def test_a_team_without_a_budget_gets_one_finding_naming_the_stacks_budget_file(judge: Judge) -> None:
    """The budgets file is named after the stack the engine says it judges (PULUMI_STACK), here staging."""
    staging = recording(
        "staging",
        vm_class("gpu-a100-40c-16x128", 16, 131072, ["grid_a100-40c"]),
        profile("speech", gpus="2"),
        pool_cluster("speech", "gpu-a100-40c-16x128", 1),
    )
    assert _quota_findings(judge(staging)) == [
        "team 'speech' has no budget in this environment; to fix, the platform team adds teams.speech to "
        "policies/quotas/config/staging.json (the platform team's budgets); it asks for 3 GPUs, 20 vCPU, "
        "144 GiB of memory, 10 GiB of storage, VM classes gpu-a100-40c-16x128, vGPU profiles grid_a100-40c"
    ]


def test_team_file_over_budget_fails_check_naming_team_budget_and_ask(kfvs: KfvsRunner, project: Path) -> None:
    set_quota(project, "vision", gpus=40)
    set_quota(project, "nlp", cpu=500, memoryGiB=4000)
    recsys = project / "stacks/teams/recsys.yaml"
    document = yamlio.load(recsys.read_text())
    document["environments"]["dev"]["gpuNodePool"] = {"vmClass": "gpu-a100-40c-16x128", "replicas": 1}
    recsys.write_text(yamlio.dump(document, sort_keys=False))
    run = kfvs("check", "dev")
    assert run.returncode == 3, run.stdout + run.stderr
    out = run.stdout
    # Use by source: what the team file asks for, and what the stack file assigns to the team.
    assert (
        "team-quotas: team 'vision' asks for 45 GPUs (profile quota 40, GPU node pool 1, stack-level pools 4) "
        "but its budget is 10 GPUs; to fix, lower the request in stacks/teams/vision.yaml (the team's file) or in "
        "stacks/Pulumi.dev-infra.yaml (pools the stack assigns to the team), or raise teams.vision.gpus in "
        "policies/quotas/config/dev.json (the platform team's budgets)" in out
    )
    assert (
        "team-quotas: team 'nlp' asks for 548 vCPU (profile quota 500, GPU VMs 16, stack-level pools 32) "
        "but its budget is 96 vCPU" in out
    )
    assert (
        "team-quotas: team 'nlp' asks for 4288 GiB of memory (profile quota 4000, GPU VMs 96, stack-level pools 192) "
        "but its budget is 512 GiB of memory" in out
    )
    assert "team-quotas: team 'recsys' uses VM class 'gpu-a100-40c-16x128'" in out


def test_teams_within_budget_but_over_capacity_trip_the_capacity_policy(kfvs: KfvsRunner, project: Path) -> None:
    path = project / "policies/quotas/config/dev.json"
    config = json.loads(path.read_text())
    config["team-quotas"]["environmentGpus"] = 8
    path.write_text(json.dumps(config))
    run = kfvs("check", "dev")
    assert run.returncode == 3
    assert (
        "team-quotas: the plan holds 17 GPUs in all (nlp 5, recsys 1, vision 9, no team's 2) but the environment "
        "has 8; to fix, lower the requests in the teams' files (stacks/teams/<team>.yaml) or "
        "stacks/Pulumi.dev-infra.yaml (pools the stack assigns to teams) or stacks/Pulumi.dev-infra.yaml (GPUs no "
        "team owns: node pool gpu-a100 2)" in run.stdout
    )
    assert "asks for" not in run.stdout


def test_bad_policy_config_is_a_config_error(kfvs: KfvsRunner, project: Path) -> None:
    path = project / "policies/quotas/config/dev.json"
    config = json.loads(path.read_text())
    config["team-quotas"]["teams"]["vision"]["gpus"] = "lots"
    config["team-quotas"]["teams"]["nlp"]["gpu"] = 4
    config["team-qoutas"] = "mandatory"
    path.write_text(json.dumps(config))
    run = kfvs("check", "dev")
    assert run.returncode == 1
    file = "policies/quotas/config/dev.json"
    assert f"{file}: team-quotas.teams.vision.gpus: 'lots' is not of type 'number'" in run.stderr
    assert f"{file}: team-quotas.teams.nlp: Additional properties are not allowed ('gpu' was unexpected)" in run.stderr
    assert f"{file}: team-qoutas: no such policy" in run.stderr
