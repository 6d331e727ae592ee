"""Config errors of the clusters section, each naming its key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from components.services.gpu_operator import docker_config
from tests.conftest import only, stack_problems

KEY = "kubeflow-vsphere:clusters[0]"


def _problems(project: Path, edit: Any) -> dict[str, list[str]]:
    return stack_problems(project, edit)


def _cluster(config: dict[str, Any]) -> dict[str, Any]:
    cluster: dict[str, Any] = config["kubeflow-vsphere:clusters"][0]
    return cluster


def test_node_pool_class_not_bound_to_the_namespace(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:vsphere"]["vmClasses"].append({"name": "cpu-16x64", "cpus": 16, "memoryMiB": 65536})
        _cluster(c)["nodePools"][0]["vmClass"] = "cpu-16x64"

    message = only(_problems(project, edit)[f"{KEY}.nodePools[0].vmClass"])
    assert message.startswith("VM class 'cpu-16x64' is not bound to namespace 'kubeflow-dev'; bound: cpu-8x32")


def test_gpu_pool_on_a_class_without_vgpu(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["nodePools"][1]["vmClass"] = "cpu-8x32"

    assert "has no vgpuDevices" in only(_problems(project, edit)[f"{KEY}.nodePools[1].vmClass"])


def test_vgpu_class_on_a_pool_not_marked_gpu(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["nodePools"][1]["gpu"] = False

    assert "set gpu: true" in only(_problems(project, edit)[f"{KEY}.nodePools[1].gpu"])


def test_replicas_below_one_and_names_that_are_not_dns_labels(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["name"] = "Kubeflow_Dev"
        _cluster(c)["nodePools"][0]["replicas"] = 0

    problems = _problems(project, edit)
    assert "is not a DNS label" in only(problems[f"{KEY}.name"])
    assert "greater than or equal to 1" in only(problems[f"{KEY}.nodePools[0].replicas"])


def test_storage_class_must_come_from_the_namespace(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["storageClass"] = "silver"

    message = only(_problems(project, edit)[f"{KEY}.storageClass"])
    assert message == "unknown storage class 'silver' in namespace 'kubeflow-dev'; declared: kubeflow-dev-gold"


def test_gpu_pools_need_the_operator(project: Path) -> None:
    def no_operator(c: dict[str, Any]) -> None:
        del _cluster(c)["gpuOperator"]

    assert "enable gpuOperator" in only(_problems(project, no_operator)[f"{KEY}.gpuOperator"])


def test_the_operator_needs_its_registry_key(project: Path) -> None:
    def no_key(c: dict[str, Any]) -> None:
        del c["kubeflow-vsphere:ngcApiKey"]

    message = only(_problems(project, no_key)["kubeflow-vsphere:ngcApiKey"])
    assert message.startswith("required by the GPU Operator of cluster kubeflow-dev")


def test_bad_tkr_and_cidr(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["tkr"] = "1.31"
        _cluster(c)["network"]["pods"] = ["192.168.0.0/33"]

    problems = _problems(project, edit)
    assert "not a TKR name" in only(problems[f"{KEY}.tkr"])
    assert "not a CIDR block" in only(problems[f"{KEY}.network.pods[0]"])


def test_docker_config_is_what_kubelet_reads() -> None:
    config = json.loads(docker_config("nvcr.io", "abc"))
    entry = config["auths"]["nvcr.io"]
    assert entry["username"] == "$oauthtoken"
    assert entry["password"] == "abc"
    assert entry["auth"] == "JG9hdXRodG9rZW46YWJj"
