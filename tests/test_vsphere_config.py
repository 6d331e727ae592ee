"""Config errors of the vSphere section: each names the key and says what is wrong, in numbers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import only, stack_problems

Edit = Callable[[dict[str, Any]], None]


def _problems(project: Path, edit: Edit) -> dict[str, list[str]]:
    return stack_problems(project, edit)


def _vs(config: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = config["kubeflow-vsphere:vsphere"]
    return section


def test_vgpu_class_with_partial_memory_reservation(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _vs(c)["vmClasses"][1]["memoryReservation"] = 50

    problems = _problems(project, edit)
    assert "memoryReservation must be 100 (got 50)" in only(problems["kubeflow-vsphere:vsphere.vmClasses[1]"])


def test_more_gpus_than_the_hosts_carry(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _vs(c)["gpuPools"][0]["replicas"] = 5

    message = only(_problems(project, edit)["kubeflow-vsphere:vsphere.gpuPools[0].replicas"])
    assert message.startswith("pool 'dev-train-a100' asks for 5 VMs x 2 GPUs = 10 GPUs")
    assert "esx-gpu-01.dev.example.internal (4 GPUs), esx-gpu-02.dev.example.internal (4 GPUs)" in message
    assert "room for 4 such VMs (8 GPUs)" in message


def test_device_listed_twice_and_shared_between_pools(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        pools = _vs(c)["gpuPools"]
        pools[0]["hosts"][0]["devices"].append("0000:3b:00.0")
        pools.append({**pools[0], "name": "dev-train-b", "replicas": 1})

    problems = _problems(project, edit)
    assert "listed 2 times" in only(problems["kubeflow-vsphere:vsphere.gpuPools[0].hosts[0].devices"])
    # One problem per device the copy shares, each naming its host: none folded into another.
    shared = problems["kubeflow-vsphere:vsphere.gpuPools[2].hosts"]
    assert len(set(shared)) == len(shared) > 1
    assert all("is already given to pool 'dev-train-a100'" in m for m in shared)


def test_a_content_library_declared_twice_is_refused_before_the_program_runs(project: Path) -> None:
    # Found by test_mutated_stack_files_end_in_a_plan_or_a_clean_error: two libraries of one name validated, then
    # registered one URN twice.
    def edit(c: dict[str, Any]) -> None:
        libraries = _vs(c)["contentLibraries"]
        libraries.append(dict(libraries[1]))

    message = only(_problems(project, edit)["kubeflow-vsphere:vsphere.contentLibraries"])
    assert message == "name 'dlvm-dev' is used 2 times; names must be unique"


def test_vgpu_pool_on_a_class_without_vgpu_and_not_bound(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        vs = _vs(c)
        vs["vmClasses"].append({"name": "cpu-4x16", "cpus": 4, "memoryMiB": 16384})
        vs["gpuPools"][1]["vmClass"] = "cpu-4x16"

    assert _problems(project, edit)["kubeflow-vsphere:vsphere.gpuPools[1].vmClass"] == [
        "VM class 'cpu-4x16' has no vgpuDevices; a vGPU pool needs a vGPU class",
        "VM class 'cpu-4x16' is not bound to namespace 'kubeflow-dev'; add it to its vmClasses",
    ]


def test_unknown_references_list_what_is_declared(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        vs = _vs(c)
        vs["namespaces"][0]["contentLibraries"].append("nope")
        vs["gpuPools"][0]["team"] = "ghosts"
        vs["gpuPools"][1]["namespace"] = "elsewhere"

    problems = _problems(project, edit)
    assert only(problems["kubeflow-vsphere:vsphere.namespaces[0].contentLibraries[2]"]) == (
        "unknown content library 'nope'; declared: dlvm-dev, tkr-dev"
    )
    assert (
        only(problems["kubeflow-vsphere:vsphere.gpuPools[0].team"])
        == "unknown team 'ghosts'; declared: nlp, recsys, vision"
    )
    assert "unknown namespace 'elsewhere'" in only(problems["kubeflow-vsphere:vsphere.gpuPools[1].namespace"])


def test_tagged_union_errors_use_the_file_keys(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _vs(c)["gpuPools"][0]["gpuMemoryGB"] = 80
        _vs(c)["gpuPools"][1]["mode"] = "mig"

    problems = _problems(project, edit)
    assert "did you mean 'gpuMemoryGiB'?" in only(problems["kubeflow-vsphere:vsphere.gpuPools[0].gpuMemoryGB"])
    assert "'passthrough', 'vgpu'" in only(problems["kubeflow-vsphere:vsphere.gpuPools[1]"])


def test_vgpu_pools_need_the_supervisor_kubeconfig_as_a_secret(project: Path) -> None:
    def drop(c: dict[str, Any]) -> None:
        del c["kubeflow-vsphere:supervisorKubeconfig"]

    assert "required by vGPU pool dev-infer-l40s, cluster kubeflow-dev" in only(
        _problems(project, drop)["kubeflow-vsphere:supervisorKubeconfig"]
    )

    def plain(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:supervisorKubeconfig"] = "apiVersion: v1"

    assert "--secret" in only(_problems(project, plain)["kubeflow-vsphere:supervisorKubeconfig"])


def test_bad_pci_address_and_vgpu_profile(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _vs(c)["gpuPools"][0]["hosts"][0]["devices"][0] = "3b:00.0"
        _vs(c)["vmClasses"][1]["vgpuDevices"] = ["a100-40c"]

    problems = _problems(project, edit)
    assert "not a PCI address" in only(problems["kubeflow-vsphere:vsphere.gpuPools[0].hosts[0].devices[0]"])
    assert "not a vGPU profile name" in only(problems["kubeflow-vsphere:vsphere.vmClasses[1].vgpuDevices[0]"])
