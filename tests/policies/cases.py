"""What every policy suite shares: registrations as the engine sends them, one passing baseline, a case as
the baseline with one change, and the exact messages a policy reports on it."""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import json_format, struct_pb2

from infra.kfvs.check import Verdict
from infra.kfvs.recorder import Recording, Registration
from policies import conventions
from policies.usage import CAPI_CLUSTER, PROFILE, VM, VM_CLASS
from tests import yamlio

CHART = "kubernetes:helm.sh/v4:Chart"
KUSTOMIZE = "kubernetes:kustomize/v2:Directory"
CONTENT_LIBRARY = "vsphere:index/contentLibrary:ContentLibrary"
SECRET = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
GATEWAY_PATCH = "kubernetes:networking.istio.io/v1:GatewayPatch"
TEAM = conventions.TEAM_LABEL


def reg(type_: str, name: str, inputs: dict[str, Any], protect: bool = False, stack: str = "prod") -> Registration:
    """A registration with its inputs as the engine receives them (a protobuf Struct)."""
    raw = json_format.ParseDict(inputs, struct_pb2.Struct())
    urn = f"urn:pulumi:{stack}::kubeflow-vsphere::{type_}::{name}"
    return Registration(urn, f"{name}-id", type_, name, None, True, inputs, (), None, protect, (), {}, raw)


def recording(stack: str, *regs: Registration) -> Recording:
    return Recording("kubeflow-vsphere", stack, {r.urn: r for r in regs})


def profile(team: str, *, gpus: str | None = "1", cpu: str = "4", memory: str = "16Gi", **kw: Any) -> Registration:
    hard = {"requests.cpu": cpu, "requests.memory": memory, "requests.storage": "10Gi"}
    if gpus is not None:
        hard["requests.nvidia.com/gpu"] = gpus
    labels = {TEAM: team} if kw.pop("label", True) else {}
    body = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "Profile",
        "metadata": {"name": team, "labels": labels},
        "spec": {"resourceQuotaSpec": {"hard": hard}},
    }
    return reg(PROFILE, f"profile-{team}", body, **kw)


def gpu_vm(team: str, reserved: int, memory: int = 65536, disk_gib: int = 100, **kw: Any) -> Registration:
    inputs = {
        "numCpus": 16,
        "memory": memory,
        "memoryReservation": reserved,
        "pciDeviceIds": ["0000:3b:00.0"],
        "extraConfig": {conventions.TEAM_EXTRA_CONFIG: team},
        "disks": [{"size": disk_gib}],
    }
    return reg(VM, kw.pop("name", f"vm-{team}-{reserved}"), inputs | kw.pop("inputs", {}), **kw)


def pool_cluster(team: str, vm_class: str, replicas: int, protect: bool = False) -> Registration:
    overrides = [
        {"name": "vmClass", "value": vm_class},
        {"name": "nodePoolLabels", "value": [{"key": TEAM, "value": team}]},
    ]
    md = {"class": "node-pool", "name": f"team-{team}", "replicas": replicas, "variables": {"overrides": overrides}}
    return reg(CAPI_CLUSTER, "cluster", {"spec": {"topology": {"workers": {"machineDeployments": [md]}}}}, protect)


def vm_class(name: str, cpus: int, memory: int, vgpu: list[str], reservation: int = 100) -> Registration:
    inputs = {"name": name, "cpus": cpus, "memory": memory, "vgpuDevices": vgpu, "memoryReservation": reservation}
    return reg(VM_CLASS, f"class-{name}", inputs)


def gateway(https: bool = True, redirect: bool = True, type_: str = GATEWAY_PATCH, name: str = "gw") -> Registration:
    servers: list[dict[str, Any]] = [
        {"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": ["*"], "tls": {"httpsRedirect": redirect}}
    ]
    if https:
        tls = {"mode": "SIMPLE", "credentialName": "kubeflow-ingress-tls"}
        servers.append({"port": {"number": 443, "name": "https", "protocol": "HTTPS"}, "hosts": ["*"], "tls": tls})
    return reg(type_, name, {"spec": {"servers": servers}})


def secret(team: str, data: dict[str, str]) -> Registration:
    metadata = {"namespace": team, "name": "creds", "labels": {TEAM: team}}
    return reg(SECRET, "creds", {"metadata": metadata, "stringData": data})


def config_map(team: str, data: dict[str, str], name: str = "settings", label: bool = True) -> Registration:
    metadata = {"namespace": team, "name": name, "labels": {TEAM: team} if label else {}}
    return reg(CONFIG_MAP, name, {"metadata": metadata, "data": data})


BASELINE = recording(
    "prod",
    vm_class("gpu-a100-40c-16x128", 16, 131072, ["grid_a100-40c"]),
    gpu_vm("vision", reserved=65536, name="vm-vision", protect=True),
    pool_cluster("nlp", "gpu-a100-40c-16x128", 1, protect=True),
    profile("recsys", protect=True),
    secret("recsys", {"password": "from-a-stack-secret"}),
    config_map("recsys", {"password": "", "endpoint": "https://example.internal"}),
    reg(CHART, "gateway", {"chart": "gateway", "version": "1.30.3"}),
    reg(KUSTOMIZE, "pinned", {"directory": "https://github.com/kubeflow/manifests/apps?ref=26.03"}),
    reg(KUSTOMIZE, "local", {"directory": "manifests/overlays/vsphere"}),
    reg(CONTENT_LIBRARY, "lib", {"name": "tkr"}, protect=True),
    gateway(),
)
"""The prod stack (where protection is enforced) in a shape that passes every policy of every pack."""


def changed(*regs: Registration, drop: Iterable[str] = (), base: Recording = BASELINE) -> Recording:
    """The baseline with one change: `regs` replace the registrations of the same URN (or are added), and the
    registrations named in `drop` are left out."""
    gone = set(drop)
    kept = {urn: r for urn, r in base.resources.items() if r.name not in gone}
    return Recording(base.project, base.stack, kept | {r.urn: r for r in regs})


@dataclass(frozen=True)
class Case:
    """One change to the baseline and every message the policy under test reports on it, exactly, in order
    (empty: the change must pass)."""

    name: str
    recording: Recording
    messages: list[str] = field(default_factory=list[str])


def messages(verdicts: Iterable[Verdict], policy: str) -> list[str]:
    """What `policy` reports; each finding must be mandatory, as every policy here is."""
    found = [v for v in verdicts if v.policy == policy]
    assert all(v.level == "mandatory" for v in found), found
    return [v.message for v in found]


def template_pattern(template: str) -> re.Pattern[str]:
    """A str.format template as a pattern that a message it produced matches in full."""
    parts = [
        re.escape(literal) + ("(.+?)" if name is not None else "")
        for literal, name, _, _ in string.Formatter().parse(template)
    ]
    return re.compile("".join(parts))


def set_quota(project: Path, team: str, **quota: int) -> None:
    """Change a team's dev profile quota in a copy of the project."""
    path = project / f"stacks/teams/{team}.yaml"
    document = yamlio.load(path.read_text())
    document["environments"]["dev"]["profile"]["quota"].update(quota)
    path.write_text(yamlio.dump(document, sort_keys=False))
