"""Each policy, through the engine's own path: the pack's __main__ served over the Analyzer protocol."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from google.protobuf import json_format, struct_pb2

from components import labels
from infra.kfvs.check import Verdict, check
from infra.kfvs.recorder import Recording, Registration
from infra.kfvs.run import judge_stack, record_stack
from policies import conventions
from tests.conftest import KfvsRunner
from tests.reference import crd_schema

VM = "vsphere:index/virtualMachine:VirtualMachine"
VM_CLASS = "vsphere:index/virtualMachineClass:VirtualMachineClass"
PROFILE = "kubernetes:kubeflow.org/v1:Profile"
CHART = "kubernetes:helm.sh/v4:Chart"
TEAM = labels.TEAM_LABEL


def _reg(type_: str, name: str, inputs: dict[str, Any], protect: bool = False) -> Registration:
    raw = json_format.ParseDict(inputs, struct_pb2.Struct())
    urn = f"urn:pulumi:dev::kubeflow-vsphere::{type_}::{name}"
    return Registration(urn, f"{name}-id", type_, name, None, True, inputs, (), None, protect, (), {}, raw)


def _recording(stack: str, *regs: Registration) -> Recording:
    return Recording("kubeflow-vsphere", stack, {r.urn: r for r in regs})


def _profile(
    team: str,
    *,
    gpus: str | None = "1",
    cpu: str = "4",
    memory: str = "16Gi",
    label: bool = True,
    protect: bool = False,
) -> Registration:
    hard = {"requests.cpu": cpu, "requests.memory": memory, "requests.storage": "10Gi"}
    if gpus is not None:
        hard["requests.nvidia.com/gpu"] = gpus
    metadata: dict[str, Any] = {"name": team, "labels": {TEAM: team} if label else {}}
    return _reg(
        PROFILE,
        f"profile-{team}",
        {
            "apiVersion": "kubeflow.org/v1",
            "kind": "Profile",
            "metadata": metadata,
            "spec": {"resourceQuotaSpec": {"hard": hard}},
        },
        protect,
    )


def _gpu_vm(team: str, reserved: int, memory: int = 65536, protect: bool = False, disk_gib: int = 100) -> Registration:
    return _reg(
        VM,
        f"vm-{team}-{reserved}",
        {
            "numCpus": 16,
            "memory": memory,
            "memoryReservation": reserved,
            "pciDeviceIds": ["0000:3b:00.0"],
            "extraConfig": {conventions.TEAM_EXTRA_CONFIG: team},
            "disks": [{"size": disk_gib}],
        },
        protect,
    )


def _pool_cluster(team: str, vm_class: str, replicas: int, protect: bool = False) -> Registration:
    overrides = [
        {"name": "vmClass", "value": vm_class},
        {"name": "nodePoolLabels", "value": [{"key": TEAM, "value": team}]},
    ]
    md = {"class": "node-pool", "name": f"team-{team}", "replicas": replicas, "variables": {"overrides": overrides}}
    return _reg(
        "kubernetes:cluster.x-k8s.io/v1beta1:Cluster",
        "cluster",
        {"spec": {"topology": {"workers": {"machineDeployments": [md]}}}},
        protect,
    )


def _class(name: str, cpus: int, memory: int, vgpu: list[str], reservation: int = 100) -> Registration:
    return _reg(
        VM_CLASS,
        f"class-{name}",
        {"name": name, "cpus": cpus, "memory": memory, "vgpuDevices": vgpu, "memoryReservation": reservation},
    )


def _gateway(https: bool, redirect: bool) -> Registration:
    servers: list[dict[str, Any]] = [
        {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"], "tls": {"httpsRedirect": redirect}}
    ]
    if https:
        servers.append(
            {
                "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                "hosts": ["*"],
                "tls": {"mode": "SIMPLE", "credentialName": "kubeflow-ingress-tls"},
            }
        )
    return _reg("kubernetes:networking.istio.io/v1:GatewayPatch", "gw", {"spec": {"servers": servers}})


FAILING = _recording(
    "prod",
    _class("gpu-big", 64, 524288, ["grid_h100-80c"], reservation=50),
    _class("gpu-a100-40c-16x128", 16, 131072, ["grid_a100-40c"]),
    _gpu_vm("vision", reserved=1024, disk_gib=9000),
    _pool_cluster("recsys", "gpu-big", 6),
    _profile("vision", gpus="60"),
    _profile("nlp", gpus=None, cpu="400", memory="4000Gi", label=False),
    _reg(
        "kubernetes:core/v1:ConfigMap",
        "leak",
        {"metadata": {"namespace": "nlp", "name": "leak"}, "data": {"clientSecret": "hunter2", "password": "12341234"}},
    ),
    _reg(CHART, "gateway", {"chart": "gateway", "version": "1.30.3"}),
    _reg(CHART, "floating", {"chart": "dex", "version": "latest"}),
    _reg(
        "kubernetes:kustomize/v2:Directory",
        "head",
        {"directory": "https://github.com/kubeflow/manifests/apps?ref=master"},
    ),
    _reg("vsphere:index/contentLibrary:ContentLibrary", "lib", {"name": "tkr"}),
    _gateway(https=False, redirect=False),
)

PASSING = _recording(
    "prod",
    _class("gpu-a100-40c-16x128", 16, 131072, ["grid_a100-40c"]),
    _gpu_vm("vision", reserved=65536, protect=True),
    _pool_cluster("nlp", "gpu-a100-40c-16x128", 1, protect=True),
    _profile("recsys", protect=True),
    _reg(
        "kubernetes:core/v1:Secret",
        "creds",
        {
            "metadata": {"namespace": "recsys", "name": "c", "labels": {TEAM: "recsys"}},
            "stringData": {"password": "from-a-stack-secret"},
        },
    ),
    _reg(CHART, "gateway", {"chart": "gateway", "version": "1.30.3"}),
    _reg(
        "kubernetes:kustomize/v2:Directory",
        "pinned",
        {"directory": "https://github.com/kubeflow/manifests/apps?ref=26.03"},
    ),
    _reg("vsphere:index/contentLibrary:ContentLibrary", "lib", {"name": "tkr"}, protect=True),
    _gateway(https=True, redirect=True),
)

POLICIES = [
    "team-quotas",
    "no-literal-credentials",
    "ingress-tls",
    "stateful-resources-protected",
    "gpu-memory-reserved",
    "charts-pinned",
    "profile-gpu-quota",
]

QUOTA_FINDINGS = [
    "team 'vision' asks for 61 GPUs but its budget is 24 GPUs",
    "team 'nlp' asks for 400 vCPU but its budget is 256 vCPU",
    "team 'nlp' asks for 4000 GiB of memory but its budget is 1536 GiB of memory",
    "team 'vision' asks for 9010 GiB of storage but its budget is 8000 GiB of storage",
    "team 'recsys' uses VM class 'gpu-big', which it is not allowed; allowed: cpu-8x32",
    "team 'recsys' uses vGPU profile 'grid_h100-80c', which it is not allowed; allowed: none",
    "teams ask for 67 GPUs in all (recsys 6, vision 61) but the environment has 48",
    "kubernetes:kubeflow.org/v1:Profile 'profile-nlp' belongs to team 'nlp' but lacks the label",
]


@pytest.fixture(scope="module")
def tripped() -> list[Verdict]:
    return check(FAILING)


@pytest.fixture(scope="module")
def passed() -> list[Verdict]:
    return check(PASSING)


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_trips(policy: str, tripped: list[Verdict]) -> None:
    hits = [v for v in tripped if v.policy == policy]
    assert hits, f"{policy} did not trip"
    assert all(v.level == "mandatory" for v in hits)


@pytest.mark.parametrize("policy", POLICIES)
def test_policy_passes(policy: str, passed: list[Verdict]) -> None:
    assert [v for v in passed if v.policy == policy] == []


@pytest.mark.parametrize("finding", QUOTA_FINDINGS)
def test_each_quota_check_trips(finding: str, tripped: list[Verdict]) -> None:
    assert [v for v in tripped if v.policy == "team-quotas" and finding in v.message], finding


def test_messages_name_team_budget_and_ask(tripped: list[Verdict]) -> None:
    messages = {(v.policy, v.message) for v in tripped}
    assert (
        "team-quotas",
        "team 'nlp' asks for 400 vCPU but its budget is 256 vCPU; lower the request in its "
        "team file or ask the platform team for more budget",
    ) in messages
    assert any(p == "no-literal-credentials" and "data.clientSecret" in m for p, m in messages)
    assert any(p == "no-literal-credentials" and "default credential" in m for p, m in messages)


def test_protection_is_only_enforced_where_configured() -> None:
    dev = Recording("kubeflow-vsphere", "dev", dict(FAILING.resources))
    assert not [v for v in check(dev) if v.policy == "stateful-resources-protected"]


def test_conventions_match_the_components() -> None:
    assert conventions.TEAM_LABEL == labels.TEAM_LABEL
    assert conventions.TEAM_EXTRA_CONFIG == labels.TEAM_EXTRA_CONFIG


def _set_quota(project: Path, team: str, **quota: int) -> None:
    path = project / f"stacks/teams/{team}.yaml"
    document = yaml.safe_load(path.read_text())
    document["environments"]["dev"]["profile"]["quota"].update(quota)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def test_team_file_over_budget_fails_check_naming_team_budget_and_ask(kfvs: KfvsRunner, project: Path) -> None:
    _set_quota(project, "vision", gpus=40)
    _set_quota(project, "nlp", cpu=500, memoryGiB=4000)
    recsys = project / "stacks/teams/recsys.yaml"
    document = yaml.safe_load(recsys.read_text())
    document["environments"]["dev"]["gpuNodePool"] = {"vmClass": "gpu-a100-40c-16x128", "replicas": 1}
    recsys.write_text(yaml.safe_dump(document, sort_keys=False))
    run = kfvs("check", "dev")
    assert run.returncode == 3, run.stdout + run.stderr
    out = run.stdout
    assert "team-quotas: team 'vision' asks for 45 GPUs but its budget is 10 GPUs" in out
    assert "team-quotas: team 'nlp' asks for 548 vCPU but its budget is 96 vCPU" in out
    assert "team-quotas: team 'nlp' asks for 4288 GiB of memory but its budget is 512 GiB of memory" in out
    assert "team-quotas: team 'recsys' uses VM class 'gpu-a100-40c-16x128'" in out


def test_teams_within_budget_but_over_capacity_trip_the_capacity_policy(kfvs: KfvsRunner, project: Path) -> None:
    path = project / "policies/quotas/config/dev.json"
    config = json.loads(path.read_text())
    config["team-quotas"]["environmentGpus"] = 8
    path.write_text(json.dumps(config))
    run = kfvs("check", "dev")
    assert run.returncode == 3
    assert (
        "team-quotas: teams ask for 15 GPUs in all (nlp 5, recsys 1, vision 9) but the environment has 8" in run.stdout
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


def test_generated_tenancy_objects_validate_against_real_schemas() -> None:
    rec = record_stack("dev")[1]
    profile_schema = crd_schema("kubeflow.org_profiles.yaml", "v1")
    poddefault_schema = crd_schema("kubeflow.org_poddefaults.yaml", "v1alpha1")
    profiles = rec.of_type(PROFILE)
    poddefaults = rec.of_type("kubernetes:kubeflow.org/v1alpha1:PodDefault")
    assert len(profiles) == 3
    assert poddefaults
    for r in profiles:
        jsonschema.validate({k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}, profile_schema)
        quota = {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": {"name": "kf-resource-quota"},
            "spec": r.inputs["spec"]["resourceQuotaSpec"],
        }
        kubernetes_validate.validate(quota, "1.31", strict=True)
    for r in poddefaults:
        jsonschema.validate({k: r.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}, poddefault_schema)
    for r in rec.of_type("kubernetes:core/v1:LimitRange"):
        body = {"apiVersion": "v1", "kind": "LimitRange", "metadata": r.inputs["metadata"], "spec": r.inputs["spec"]}
        kubernetes_validate.validate(body, "1.31", strict=True)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_every_example_stack_passes_every_pack(stack: str) -> None:
    assert check(record_stack(stack)[1]) == []


def test_packs_analysing_during_the_program_agree_with_judging_after_it(project: Path) -> None:
    _set_quota(project, "vision", gpus=40)
    # Dev's resources are unprotected: with the rule enforced, every stateful one is a per-resource finding.
    (project / "policies/guardrails/config/dev.json").write_text('{"stateful-resources-protected": "mandatory"}')
    _, recording, streamed = judge_stack("dev", project)
    assert {v.policy for v in streamed} == {"team-quotas", "stateful-resources-protected"}
    assert streamed == check(recording, project)


def test_a_pack_that_cannot_start_is_named_without_a_traceback(kfvs: KfvsRunner, project: Path) -> None:
    rules = project / "policies/guardrails/rules.py"
    rules.write_text(rules.read_text() + '\nraise RuntimeError("broken pack")\n')
    run = kfvs("check", "dev")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "policies/guardrails: policy pack did not start:" in run.stderr
    assert "RuntimeError: broken pack" in run.stderr
    assert "Traceback (most recent call last)" not in run.stderr.split("policy pack did not start")[0]
