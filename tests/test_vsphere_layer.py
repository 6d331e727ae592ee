"""The vSphere layer under mocks: what the dev stack registers, with the inputs the engine would get."""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from pathlib import Path

import jsonschema
import pytest

from components.vsphere.gpu_pool import VM_SERVICE_API
from components.vsphere.virtual_machine import PERPETUAL_DIFFS, mmio_size_gib
from infra.kfvs.plan import build_plan
from infra.kfvs.recorder import SECRET, Recording, Registration
from infra.kfvs.run import record_stack
from policies.usage import VM, VM_CLASS
from policies.usage import VM_SERVICE_VM as VM_SERVICE
from tests import examples, yamlio
from tests.reference import crd_schema


@pytest.fixture(scope="module")
def dev() -> Recording:
    return examples.recording("dev")


def _by_name(rec: Recording, type_: str) -> dict[str, Registration]:
    return {r.name: r for r in rec.of_type(type_)}


def _pool_vms(rec: Recording) -> dict[str, Registration]:
    return {n: r for n, r in _by_name(rec, VM).items() if n.startswith("dev-train-a100-")}


def test_passthrough_vms_get_own_devices_full_reservation_efi_and_mmio(dev: Recording) -> None:
    vms = _pool_vms(dev)
    assert sorted(vms) == ["dev-train-a100-0", "dev-train-a100-1"]
    used: dict[str, list[str]] = defaultdict(list)
    for vm in vms.values():
        inputs = vm.inputs
        assert len(inputs["pciDeviceIds"]) == 2
        used[inputs["hostSystemId"]] += inputs["pciDeviceIds"]
        assert inputs["memoryReservation"] == inputs["memory"] == 262144
        assert inputs["firmware"] == "efi"
        assert inputs["extraConfig"]["pciPassthru.use64bitMMIO"] == "TRUE"
        # 2 A100 40GB: twice 80 GB of framebuffer, rounded up to a power of two.
        assert inputs["extraConfig"]["pciPassthru.64bitMMIOSizeGB"] == "256"
        assert set(vm.ignore_changes) == set(PERPETUAL_DIFFS)
    # Spread: one VM on each host, and no device given twice on a host.
    assert sorted(used) == ["host-esx-gpu-01-dev-example-internal", "host-esx-gpu-02-dev-example-internal"]
    assert all(len(devices) == len(set(devices)) for devices in used.values())


def test_vms_carry_team_and_environment_tags(dev: Recording) -> None:
    tags = {r.id: r.inputs["name"] for r in dev.of_type("vsphere:index/tag:Tag")}
    for vm in _pool_vms(dev).values():
        assert sorted(tags[t] for t in vm.inputs["tags"]) == ["dev", "vision"]


def test_cloud_init_goes_through_guestinfo_base64(dev: Recording) -> None:
    extra = _by_name(dev, VM)["dev-train-a100-0"].inputs["extraConfig"]
    assert extra["guestinfo.userdata.encoding"] == "base64"
    assert extra["guestinfo.metadata.encoding"] == "base64"
    assert base64.b64decode(extra["guestinfo.userdata"]).decode().startswith("#cloud-config\n")
    assert "local-hostname: dev-train-a100-0" in base64.b64decode(extra["guestinfo.metadata"]).decode()


def test_lookups_use_the_right_arguments(dev: Recording) -> None:
    calls = defaultdict(list)
    for call in dev.invocations:
        calls[call.token.rsplit(":", 1)[-1]].append(call.args)
    assert {"name": "esx-gpu-01.dev.example.internal", "datacenterId": "datacenter-dc-lab"} in calls["getHost"]
    # getHostPciDevice returns one device or nothing and never reports passthrough state: it validates
    # nothing, so the program does not pretend it does (a real check is a preflight against vCenter).
    assert "getHostPciDevice" not in calls
    item = calls["getContentLibraryItem"][0]
    # The stack subscribes dlvm-dev: its items are looked up by the library's ID, never by its name (which
    # would run at the first preview, before the library exists: docs/LAYERS.md).
    assert item == {"libraryId": "kubeflow-dev-libraries-dlvm-dev-id", "name": "ubuntu-2204-nvidia", "type": "ovf"}
    assert "getContentLibrary" not in calls
    template = _by_name(dev, VM)["dev-train-a100-0"].inputs["clone"]["templateUuid"]
    assert template == "content-library-item-ubuntu-2204-nvidia"


def test_pool_parents_and_no_anti_affinity_over_host_pinned_vms(dev: Recording) -> None:
    vm = _by_name(dev, VM)["dev-train-a100-0"]
    assert vm.parent is not None
    assert vm.parent.endswith(
        "kubeflow-vsphere:vsphere:GpuWorkerPool$kubeflow-vsphere:vsphere:VirtualMachine::dev-train-a100-0"
    )
    # Passthrough VMs are pinned to their hosts and cannot vMotion: DRS could not act on an anti-affinity rule.
    assert dev.of_type("vsphere:index/computeClusterVmAntiAffinityRule:ComputeClusterVmAntiAffinityRule") == []
    hosts = {v.inputs["hostSystemId"] for v in _pool_vms(dev).values()}
    assert len(hosts) == 2


def test_vgpu_classes_reserve_all_memory(dev: Recording) -> None:
    classes = {r.inputs["name"]: r.inputs for r in dev.of_type(VM_CLASS)}
    assert classes["gpu-a100-40c-16x128"]["vgpuDevices"] == ["grid_a100-40c"]
    assert classes["gpu-a100-40c-16x128"]["memoryReservation"] == 100
    assert classes["gpu-l40s-48c-16x96"]["memoryReservation"] == 100
    assert "vgpuDevices" not in classes["cpu-8x32"]
    assert classes["cpu-8x32"]["memoryReservation"] == 0


def test_namespace_binds_classes_libraries_and_policies(dev: Recording) -> None:
    ns = dev.of_type("vsphere:index/namespace:Namespace")[0].inputs
    assert ns["supervisor"] == "supervisor-gpu-lab-01"
    assert ns["storagePolicies"] == ["policy-kubeflow-dev-gold"]
    services = ns["vmServices"][0]
    assert services["vmClasses"] == [
        "kubeflow-dev-vm-classes-cpu-8x32-id",
        "kubeflow-dev-vm-classes-gpu-a100-40c-16x128-id",
        "kubeflow-dev-vm-classes-gpu-l40s-48c-16x96-id",
    ]
    assert services["contentLibraries"] == ["kubeflow-dev-libraries-tkr-dev-id", "kubeflow-dev-libraries-dlvm-dev-id"]


def test_vm_service_vms_validate_against_the_vm_operator_crd(dev: Recording) -> None:
    schema = crd_schema("vmoperator.vmware.com_virtualmachines.yaml", VM_SERVICE_API.split("/")[1])
    vms = [r for r in dev.of_type(VM_SERVICE) if r.name.startswith("dev-infer-l40s-")]
    assert len(vms) == 2
    provider = next(p for p in dev.of_type("pulumi:providers:kubernetes") if p.name == "kubeflow-dev-supervisor")
    assert provider.inputs["kubeconfig"] == SECRET
    for vm in vms:
        body = {k: v for k, v in vm.inputs.items() if k in ("apiVersion", "kind", "metadata", "spec")}
        jsonschema.validate(body, schema)
        assert vm.inputs["spec"]["className"] == "gpu-l40s-48c-16x96"
        assert vm.inputs["metadata"]["labels"]["kubeflow-vsphere.io/team"] == "nlp"
        assert vm.provider is not None
        assert vm.provider.startswith(provider.urn)


def test_totals_count_pools_per_team() -> None:
    settings, rec = examples.recorded("dev")
    totals = build_plan(rec, [t.name for t in settings.teams])["totals"]
    # vision: 2 passthrough VMs (32 vCPU, 256 GiB, 2 GPUs, 500 GiB each) + its node pool (1 x 16 vCPU,
    # 128 GiB, 1 vGPU, 300 GiB volumes) + its profile quota (32 vCPU, 128 GiB, 4 GPUs, 1000 GiB).
    assert totals["vision"] == {"vcpu": 112, "memoryGiB": 768, "gpus": 9, "storageGiB": 2300}
    # nlp: the vGPU pool (2 x 16 vCPU, 96 GiB, 1 vGPU) + its GPU VM (1 more) + its profile (24, 96, 2, 500).
    assert totals["nlp"] == {"vcpu": 72, "memoryGiB": 384, "gpus": 5, "storageGiB": 500}
    assert totals["recsys"] == {"vcpu": 16, "memoryGiB": 64, "gpus": 1, "storageGiB": 300}


def test_mmio_window_is_a_power_of_two_covering_twice_the_framebuffer() -> None:
    assert mmio_size_gib(1, 16) == 64
    assert mmio_size_gib(1, 40) == 128
    assert mmio_size_gib(2, 40) == 256
    assert mmio_size_gib(2, 80) == 512
    assert mmio_size_gib(8, 80) == 2048


def test_plain_vm_clones_a_vm_template_looked_up_by_name(dev: Recording) -> None:
    bastion = _by_name(dev, VM)["dev-bastion"].inputs
    lookup = next(i for i in dev.invocations if i.token.endswith("getVirtualMachine"))
    assert lookup.args == {"name": "ubuntu-2204-template", "datacenterId": "datacenter-dc-lab"}
    assert bastion["clone"]["templateUuid"] == str(uuid.uuid5(uuid.NAMESPACE_DNS, "template.ubuntu-2204-template"))
    assert "pciDeviceIds" not in bastion
    assert "memoryReservation" not in bastion
    assert bastion["disks"] == [{"label": "disk0", "size": 40, "thinProvisioned": True, "unitNumber": 0}]
    assert bastion["networkInterfaces"] == [{"adapterType": "vmxnet3", "networkId": "network-pg-dev-mgmt"}]
    tags = {r.id: r.inputs["name"] for r in dev.of_type("vsphere:index/tag:Tag")}
    assert [tags[t] for t in bastion["tags"]] == ["dev"]


def test_plain_vm_keeps_its_templates_firmware(dev: Recording) -> None:
    """EFI is forced only on passthrough VMs: a BIOS template cloned as EFI does not boot."""
    bastion = _by_name(dev, VM)["dev-bastion"].inputs
    # The VM template's firmware comes from its lookup (the mock lookup reports none, so nothing is sent).
    assert "firmware" not in bastion


def test_library_vm_template_is_looked_up_by_its_type_and_keeps_bios(project: Path) -> None:
    path = project / "stacks/Pulumi.dev-infra.yaml"
    document = yamlio.load(path.read_text())
    vs = document["config"]["kubeflow-vsphere:vsphere"]
    vs["vms"].append(
        {
            "name": "dev-legacy",
            "cpus": 2,
            "memoryMiB": 4096,
            "disks": [{"sizeGiB": 40}],
            "template": {
                "name": "rhel-bios",
                "contentLibrary": "dlvm-dev",
                "itemType": "vm-template",
                "firmware": "bios",
            },
        }
    )
    path.write_text(yamlio.dump(document))
    rec = record_stack("dev", project)[1]
    assert _by_name(rec, VM)["dev-legacy"].inputs["firmware"] == "bios"
    items = [i.args for i in rec.invocations if i.token.endswith("getContentLibraryItem")]
    assert {"libraryId": "kubeflow-dev-libraries-dlvm-dev-id", "name": "rhel-bios", "type": "vm-template"} in items
