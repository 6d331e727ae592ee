"""What VMware and NVIDIA accept together, refused in config: NVAIE versions, ClusterClasses, vGPU profiles."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.catalog import NVAIE_RELEASES, VGPU_GUEST_DRIVER_REPOSITORY
from components.vsphere.gpu_pool import VgpuGpuPool, VgpuPoolArgs
from components.vsphere.guest_driver import GuestDriverSpec, guest_cloud_init
from infra.kfvs.recorder import SECRET
from infra.kfvs.run import record_stack
from policies.usage import VM_SERVICE_VM
from tests import examples, yamlio
from tests.conftest import only, stack_problems
from tests.environment_files import edit_environment

CLUSTER = "kubeflow-vsphere:clusters[0]"
OPERATOR = f"{CLUSTER}.gpuOperator"
VSPHERE = "kubeflow-vsphere:vsphere"


def _cluster(config: dict[str, Any]) -> dict[str, Any]:
    cluster: dict[str, Any] = config["kubeflow-vsphere:clusters"][0]
    return cluster


def _operator(config: dict[str, Any]) -> dict[str, Any]:
    operator: dict[str, Any] = _cluster(config)["gpuOperator"]
    return operator


def test_every_nvaie_row_cites_nvidia_and_derives_the_image_nvidia_publishes() -> None:
    assert [r.major for r in NVAIE_RELEASES] == sorted({r.major for r in NVAIE_RELEASES})
    for release in NVAIE_RELEASES:
        assert re.search(r"https://docs\.nvidia\.com/\S+", release.source), release
        assert release.guest_driver_image == f"vgpu-guest-driver-{release.major}"
        assert release.vgpu_software == release.major + 12  # NVAIE 5 <-> vGPU 17.x, ... (NVIDIA's pairing)
    five = next(r for r in NVAIE_RELEASES if r.major == 5)
    assert five.branch == 550
    assert VGPU_GUEST_DRIVER_REPOSITORY == "nvcr.io/nvidia/vgpu"


def test_guest_driver_off_the_releases_branch(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _operator(c)["nvaieRelease"] = "5"
        _operator(c)["hostVgpuManager"] = "550.144.02"

    message = only(stack_problems(project, edit)[f"{OPERATOR}.driver.version"])
    assert message.startswith("guest driver 580.95.05 is on the R580 branch, but NVAIE 5 ships R550 (NVIDIA vGPU 17.x)")
    assert "set a 550.x guest driver" in message


def test_host_vgpu_manager_of_another_branch(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _operator(c)["hostVgpuManager"] = "550.144.02"

    problems = stack_problems(project, edit)
    message = only(problems[f"{OPERATOR}.hostVgpuManager"])
    assert "Virtual GPU Manager 550.144.02 is on the R550 branch" in message
    assert "upgrade the hosts' vGPU Manager to a 580.x release" in message
    assert f"{OPERATOR}.driver.version" not in problems


def test_nvaie_release_not_in_the_table(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _operator(c)["nvaieRelease"] = 3

    message = only(stack_problems(project, edit)[f"{OPERATOR}.nvaieRelease"])
    assert "NVIDIA AI Enterprise 3 is not in the compatibility table" in message
    assert "NVAIE_RELEASES: 4, 5, 6, 7" in message


def test_driver_image_is_derived_and_a_wrong_one_refused(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _operator(c)["driver"]["image"] = "vgpu-guest-driver-5"

    message = only(stack_problems(project, edit)[f"{OPERATOR}.driver.image"])
    assert message.startswith("NVAIE 7's guest driver image is 'vgpu-guest-driver-7', not 'vgpu-guest-driver-5'")


def test_nvaie_and_host_manager_are_required(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        del _operator(c)["nvaieRelease"]
        del _operator(c)["hostVgpuManager"]

    problems = stack_problems(project, edit)
    assert only(problems[f"{OPERATOR}.nvaieRelease"]) == "required key is missing: add it"
    assert only(problems[f"{OPERATOR}.hostVgpuManager"]) == "required key is missing: add it"


def test_unknown_cluster_class_is_refused(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["clusterClass"] = "builtin-generic-v3.9.0"

    message = only(stack_problems(project, edit)[f"{CLUSTER}.clusterClass"])
    assert message.startswith("unknown ClusterClass 'builtin-generic-v3.9.0'")
    assert "builtin-generic-v3.1.0, builtin-generic-v3.2.0" in message


def test_default_registry_secret_on_a_class_without_it(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["clusterClass"] = "builtin-generic-v3.2.0"
        _cluster(c)["defaultRegistrySecret"] = {"name": "reg", "namespace": "kubeflow-dev", "data": "x"}

    message = only(stack_problems(project, edit)[f"{CLUSTER}.defaultRegistrySecret"])
    assert "defines no defaultRegistrySecret variable" in message


def test_vgpu_profile_of_another_board_than_the_stacks_gpus(project: Path) -> None:
    """`grid_a100-40c` next to 80 GB A100s: the A100 80GB's profiles are `grid_a100d-*`."""

    def edit(c: dict[str, Any]) -> None:
        pool = c[VSPHERE]["gpuPools"][0]
        pool["gpuModel"], pool["gpuMemoryGiB"] = "a100d", 80

    message = only(stack_problems(project, edit)[f"{VSPHERE}.vmClasses[1].vgpuDevices[0]"])
    assert "'grid_a100-40c' is a profile of the A100 40GB" in message
    assert "declares this stack's A100 GPUs as A100 80GB: use the grid_a100d-... profiles" in message


def test_gpu_model_and_framebuffer_must_agree(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c[VSPHERE]["gpuPools"][0]["gpuMemoryGiB"] = 80

    message = only(stack_problems(project, edit)[f"{VSPHERE}.gpuPools[0].gpuMemoryGiB"])
    assert message.startswith("the A100 40GB has 40 GB, not 80")


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("grid_l40s-96c", "'grid_l40s-96c' asks for 96 GB of a L40S, which has 48 GB"),
        ("grid_x900-8c", "'grid_x900-8c' is not a vGPU profile of a GPU this program knows"),
    ],
)
def test_vgpu_profile_must_fit_a_known_board(project: Path, profile: str, expected: str) -> None:
    def edit(c: dict[str, Any]) -> None:
        c[VSPHERE]["vmClasses"][2]["vgpuDevices"] = [profile]

    assert only(stack_problems(project, edit)[f"{VSPHERE}.vmClasses[2].vgpuDevices[0]"]).startswith(expected)


def test_passthrough_from_a_bios_template_is_refused(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c[VSPHERE]["gpuPools"][0]["template"]["firmware"] = "bios"

    assert "need EFI firmware" in only(stack_problems(project, edit)[f"{VSPHERE}.gpuPools[0].template.firmware"])


def test_team_gpu_vms_are_built_without_kubeflow(project: Path) -> None:
    """Team requests are resolved into pools in settings: with Kubeflow off, the VMs are still in the plan."""
    edit_environment(project, "dev", lambda config: config.pop("kubeflow-vsphere:kubeflow"))
    for team_file in (project / "stacks/teams").glob("*.yaml"):
        team = yamlio.load(team_file.read_text())
        dev = team.get("environments", {}).get("dev", {})
        for key in ("profile", "gpuNodePool"):
            dev.pop(key, None)
        team_file.write_text(yamlio.dump(team))
    rec = record_stack("dev", project)[1]
    vms = list(rec.of_type(VM_SERVICE_VM))
    team_vms = [r for r in vms if r.name.startswith("dev-nlp-gpu-vms-")]
    assert [r.name for r in team_vms] == ["dev-nlp-gpu-vms-0"]
    (vm,) = team_vms
    assert vm.inputs["metadata"]["labels"]["kubeflow-vsphere.io/team"] == "nlp"
    assert vm.parent is not None
    assert vm.parent.endswith("kubeflow-vsphere:vsphere:GpuWorkerPool::dev-nlp-gpu-vms")


def test_only_settings_reads_configuration() -> None:
    """Secrets were read twice (validated in settings, then again from pulumi.Config): settings carries them."""
    root = Path(__file__).resolve().parents[1]
    readers = [
        str(path.relative_to(root))
        for folder in ("infra", "components")
        for path in sorted((root / folder).rglob("*.py"))
        if "pulumi.Config(" in path.read_text(encoding="utf-8") and "kfvs" not in path.parts
    ]
    assert readers == []


def test_vgpu_vm_cloud_init_installs_and_licenses_the_guest_driver() -> None:
    user = "#cloud-config\npackages: [nvidia-container-toolkit]\nruncmd:\n  - [echo, user]\n"
    merged = yamlio.load(
        guest_cloud_init(user, GuestDriverSpec(url="https://m.example/d.run", feature_type=1), "TOKEN")
    )
    assert merged["packages"] == ["nvidia-container-toolkit"]
    files = {f["path"]: f for f in merged["write_files"]}
    assert files["/etc/nvidia/ClientConfigToken/client_configuration_token.tok"]["content"] == "TOKEN"
    assert files["/etc/nvidia/ClientConfigToken/client_configuration_token.tok"]["permissions"] == "0744"
    assert files["/etc/nvidia/gridd.conf"]["content"] == "FeatureType=1\n"
    commands = merged["runcmd"]
    assert commands[0][-1] == "https://m.example/d.run"
    assert commands[1][:2] == ["sh", "/opt/nvidia/vgpu-guest-driver.run"]
    assert commands[2] == ["systemctl", "restart", "nvidia-gridd"]
    assert commands[-1] == ["echo", "user"]  # the user's commands run once the GPU works


def test_vgpu_vms_get_the_licensed_driver_through_a_secret_cloud_init() -> None:
    rec = examples.recording("dev")
    secret = next(r for r in rec.of_type("kubernetes:core/v1:Secret") if r.name == "dev-infer-l40s-cloud-init")
    assert secret.inputs["stringData"] == SECRET  # the licence token is in it: the whole map stays secret
    vm = next(r for r in rec.of_type(VM_SERVICE_VM))
    assert vm.inputs["spec"]["bootstrap"]["cloudInit"]["rawCloudConfig"]["key"] == "user-data"


def test_guest_driver_of_another_branch_than_the_hosts(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c[VSPHERE]["gpuPools"][1]["guestDriver"]["version"] = "550.144.03"

    message = only(stack_problems(project, edit)[f"{VSPHERE}.gpuPools[1].guestDriver.version"])
    assert "guest driver 550.144.03 is on the R550 branch, but the hosts' vGPU Manager is 580.95.02" in message


def test_guest_driver_needs_cloud_config_and_the_licence_token(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c[VSPHERE]["gpuPools"][1]["cloudInit"]["userData"] = "#!/bin/sh\necho hi\n"
        del _cluster(c)["gpuOperator"]
        _cluster(c)["nodePools"] = [p for p in _cluster(c)["nodePools"] if not p.get("gpu")]
        del c["kubeflow-vsphere:nlsClientToken"]

    problems = stack_problems(project, edit)
    assert "must be a '#cloud-config' mapping" in only(problems[f"{VSPHERE}.gpuPools[1].cloudInit.userData"])
    assert only(problems["kubeflow-vsphere:nlsClientToken"]).startswith(
        "required by the guest driver of vGPU pool dev-infer-l40s"
    )


def test_default_registry_secret_on_a_tanzu_kubernetes_cluster(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        _cluster(c)["api"] = "tanzuKubernetesCluster"
        _cluster(c)["defaultRegistrySecret"] = {"name": "reg", "namespace": "kubeflow-dev", "data": "x"}

    message = only(stack_problems(project, edit)[f"{CLUSTER}.defaultRegistrySecret"])
    assert message.startswith("a TanzuKubernetesCluster has no defaultRegistrySecret")


class _Capture(pulumi.runtime.Mocks):
    """Mocks that keep every resource's inputs as the provider would receive them (secrets unwrapped)."""

    def __init__(self) -> None:
        self.inputs: dict[str, Any] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[Any, Any]]:
        self.inputs[args.name] = args.inputs
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


def test_the_pool_puts_the_licence_token_into_its_cloud_init() -> None:
    capture = _Capture()
    pulumi.runtime.set_mocks(capture, project="t", stack="t", preview=False)

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def build() -> pulumi.Output[None]:
        provider = k8s.Provider("supervisor", kubeconfig="kubeconfig")
        args = VgpuPoolArgs(
            replicas=1,
            namespace="ns",
            vm_class="gpu-class",
            image="vmi-1",
            storage_class="gold",
            provider=provider,
            user_data="#cloud-config\npackages: [jq]\n",
            guest_driver=GuestDriverSpec(url="https://mirror.example/driver.run"),
            licence_token=pulumi.Output.secret("THE-TOKEN"),
        )
        VgpuGpuPool("pool", args)
        return pulumi.Output.from_input(None)

    build()
    string_data = capture.inputs["pool-cloud-init"]["stringData"]
    string_data = string_data.get("value", string_data)  # a secret arrives wrapped: {<secret sig>, value}
    user_data = yamlio.load(string_data["user-data"])
    tokens = [f["content"] for f in user_data["write_files"] if f["path"].endswith("client_configuration_token.tok")]
    assert tokens == ["THE-TOKEN"]
    assert user_data["packages"] == ["jq"]
