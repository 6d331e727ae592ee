"""Team files: per-environment requests checked against what the stack offers, errors in the team's file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.tenancy import kfam_name
from infra.errors import ConfigError
from infra.kfvs.run import validate_stack
from policies.usage import CAPI_CLUSTER, PROFILE
from tests import examples, yamlio


def _edit_team(project: Path, team: str, edit: Any) -> dict[str, str]:
    path = project / f"stacks/teams/{team}.yaml"
    document = yamlio.load(path.read_text())
    edit(document)
    path.write_text(yamlio.dump(document, sort_keys=False))
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev", project)
    assert {p.file for p in caught.value.problems} == {f"stacks/teams/{team}.yaml"}
    return {p.key: p.message for p in caught.value.problems}


def test_unknown_environment_in_a_team_file(project: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["environments"]["qa"] = d["environments"]["dev"]

    message = _edit_team(project, "vision", edit)["environments.qa"]
    assert message == "unknown environment (a stack under stacks/) 'qa'; declared: dev, prod, sandbox, staging"


def test_team_gpu_pool_needs_a_bound_vgpu_class(project: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["environments"]["dev"]["gpuNodePool"]["vmClass"] = "cpu-8x32"

    message = _edit_team(project, "vision", edit)["environments.dev.gpuNodePool.vmClass"]
    assert "has no vgpuDevices" in message


def test_team_gpu_vms_need_a_known_namespace(project: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["environments"]["dev"]["gpuVms"]["namespace"] = "elsewhere"

    message = _edit_team(project, "nlp", edit)["environments.dev.gpuVms.namespace"]
    assert message == "unknown namespace 'elsewhere'; declared: kubeflow-dev"


def test_quota_values_are_validated(project: Path) -> None:
    def edit(d: dict[str, Any]) -> None:
        d["environments"]["dev"]["profile"]["quota"]["gpus"] = -1
        d["environments"]["dev"]["profile"]["quota"]["gpu"] = 1

    problems = _edit_team(project, "recsys", edit)
    assert "greater than or equal to 0" in problems["environments.dev.profile.quota.gpus"]
    assert "did you mean 'gpus'?" in problems["environments.dev.profile.quota.gpu"]


def test_tenancy_objects_for_each_team() -> None:
    rec = examples.recording("dev")
    by_type: dict[str, list[Any]] = {}
    for r in rec.resources.values():
        if "TeamTenancy$" in r.urn:
            by_type.setdefault(r.type, []).append(r)
    vision = next(r for r in by_type[PROFILE] if r.inputs["metadata"]["name"] == "vision")
    assert vision.inputs["spec"]["owner"]["name"] == "ana.silva@example.internal"
    assert vision.inputs["spec"]["resourceQuotaSpec"]["hard"]["requests.nvidia.com/gpu"] == "4"
    assert vision.inputs["metadata"]["labels"]["kubeflow-vsphere.io/team"] == "vision"
    namespace = next(r for r in by_type["kubernetes:core/v1:Namespace"] if r.inputs["metadata"]["name"] == "vision")
    assert namespace.inputs["metadata"]["annotations"] == {"owner": "ana.silva@example.internal"}
    assert namespace.urn in vision.dependencies
    bindings = {r.inputs["metadata"]["name"]: r for r in by_type["kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"]}
    editor = bindings[kfam_name("ben.okafor@example.internal", "edit")]
    assert editor.inputs["metadata"]["annotations"] == {"user": "ben.okafor@example.internal", "role": "edit"}
    assert editor.inputs["roleRef"]["name"] == "kubeflow-edit"
    assert all(not name.startswith("group-") for name in bindings), "groups are refused: no group binding"
    defaults = [
        r
        for r in by_type["kubernetes:kubeflow.org/v1alpha1:PodDefault"]
        if r.inputs["metadata"]["namespace"] == "vision"
    ]
    own = next(r for r in defaults if r.inputs["metadata"]["name"] == "gpu-team-vision")
    assert {
        "key": "kubeflow-vsphere.io/team",
        "operator": "Equal",
        "value": "vision",
        "effect": "NoSchedule",
    } in own.inputs["spec"]["tolerations"]
    limits = next(r for r in by_type["kubernetes:core/v1:LimitRange"] if r.inputs["metadata"]["namespace"] == "vision")
    assert limits.inputs["spec"]["limits"][0]["defaultRequest"] == {"cpu": "500m", "memory": "2048Mi"}


def test_team_node_pool_joins_the_kubeflow_cluster_tainted_for_the_team() -> None:
    rec = examples.recording("dev")
    cluster = next(r for r in rec.resources.values() if r.type == CAPI_CLUSTER)
    pools = {md["name"]: md for md in cluster.inputs["spec"]["topology"]["workers"]["machineDeployments"]}
    overrides = {o["name"]: o["value"] for o in pools["team-vision"]["variables"]["overrides"]}
    assert {"key": "kubeflow-vsphere.io/team", "value": "vision", "effect": "NoSchedule"} in overrides["nodePoolTaints"]
    assert {"key": "kubeflow-vsphere.io/team", "value": "vision"} in overrides["nodePoolLabels"]
    assert "team-nlp" not in pools
