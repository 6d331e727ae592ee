"""A VM cloned from a template, given cloud-init through guestinfo and tagged for its owner."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_vsphere as vsphere

from components.labels import TEAM_EXTRA_CONFIG

# The provider reads these back differently from what it wrote; without this every preview shows a diff.
PERPETUAL_DIFFS = ["hvMode", "eptRviMode", "syncTimeWithHost"]


@dataclass(frozen=True, kw_only=True)
class Template:
    """Clone source: a VM template by name, or an OVF/VM-template item of a content library."""

    name: str
    content_library: str | None = None
    item_type: str = "ovf"
    """The library item's type as the provider filters on it: `ovf` or `vm-template`."""
    firmware: str | None = None
    """A library item's firmware (`efi`/`bios`); a VM template's is read from the template."""
    library_id: pulumi.Input[str] | None = None
    """The library's ID when this stack creates it (`ContentLibraries.library_ids`): a lookup by name would run
    at the first preview, and at `up` before the library exists, and fail (pulumi/pulumi#24040). Without it the
    library is one that exists outside the stack and is looked up by name."""


@dataclass(frozen=True, kw_only=True)
class Placement:
    """Where the VM lives; `host_system_id` pins it to one host (passthrough devices need that)."""

    datacenter_id: pulumi.Input[str]
    resource_pool_id: pulumi.Input[str]
    datastore_id: pulumi.Input[str]
    folder: str
    network_ids: Sequence[pulumi.Input[str]]
    host_system_id: pulumi.Input[str] | None = None


@dataclass(frozen=True, kw_only=True)
class PassthroughGpus:
    """Whole GPUs by DirectPath I/O: their PCI addresses and the 64-bit MMIO window they need."""

    pci_device_ids: Sequence[str]
    mmio_size_gib: int


@dataclass(frozen=True, kw_only=True)
class VirtualMachineArgs:
    """What one VM is: size, disks, source, placement, cloud-init, tags and (optionally) GPUs."""

    cpus: int
    memory_mib: int
    disk_gib: Sequence[int]
    template: Template
    placement: Placement
    tag_ids: Sequence[pulumi.Input[str]]
    user_data: str | None = None
    guest_id: str = "ubuntu64Guest"
    gpus: PassthroughGpus | None = None
    thin_disks: bool = True
    team: str | None = None
    protect: bool = False
    """Protect the VM (prod): its disks hold state."""


def mmio_size_gib(gpus: int, gpu_memory_gib: int) -> int:
    """The 64-bit MMIO window: twice the GPUs' framebuffer, rounded up to a power of two (min 64)."""
    needed = max(64, 2 * gpus * gpu_memory_gib)
    return 1 << (needed - 1).bit_length()


def guestinfo(hostname: str, user_data: str | None) -> dict[str, str]:
    """cloud-init's VMware datasource keys: base64 metadata and user data with their encodings."""
    metadata = f"instance-id: {hostname}\nlocal-hostname: {hostname}\n"
    keys = {"guestinfo.metadata": _b64(metadata), "guestinfo.metadata.encoding": "base64"}
    if user_data is not None:
        keys |= {"guestinfo.userdata": _b64(user_data), "guestinfo.userdata.encoding": "base64"}
    return keys


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class VirtualMachine(pulumi.ComponentResource):
    """One VM; outputs its id, managed object id and first IP address."""

    vm_id: pulumi.Output[str]
    moid: pulumi.Output[str]
    default_ip_address: pulumi.Output[str]

    def __init__(self, name: str, args: VirtualMachineArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:vsphere:VirtualMachine", name, None, opts)
        p = args.placement
        template_uuid, template_firmware = self._template(args.template, p)
        # Passthrough needs EFI (64-bit MMIO for large BARs); otherwise keep the template's firmware, since a
        # BIOS template forced to EFI does not boot.
        firmware: pulumi.Input[str] = "efi" if args.gpus is not None else template_firmware
        extra = guestinfo(name, args.user_data)
        if args.team is not None:
            extra[TEAM_EXTRA_CONFIG] = args.team
        if args.gpus is not None:
            # Passthrough needs all memory reserved and a 64-bit MMIO window for large BARs.
            extra |= {
                "pciPassthru.use64bitMMIO": "TRUE",
                "pciPassthru.64bitMMIOSizeGB": str(args.gpus.mmio_size_gib),
            }
        vm = vsphere.VirtualMachine(
            name,
            name=name,
            resource_pool_id=p.resource_pool_id,
            datastore_id=p.datastore_id,
            folder=p.folder,
            host_system_id=p.host_system_id,
            num_cpus=args.cpus,
            memory=args.memory_mib,
            guest_id=args.guest_id,
            firmware=firmware,
            network_interfaces=[
                vsphere.VirtualMachineNetworkInterfaceArgs(network_id=n, adapter_type="vmxnet3") for n in p.network_ids
            ],
            disks=[
                vsphere.VirtualMachineDiskArgs(
                    label=f"disk{i}", size=size, thin_provisioned=args.thin_disks, unit_number=i
                )
                for i, size in enumerate(args.disk_gib)
            ],
            clone=vsphere.VirtualMachineCloneArgs(template_uuid=template_uuid),
            extra_config=extra,
            tags=list(args.tag_ids),
            pci_device_ids=list(args.gpus.pci_device_ids) if args.gpus else None,
            memory_reservation=args.memory_mib if args.gpus else None,
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=PERPETUAL_DIFFS, protect=args.protect),
        )
        self.vm_id = vm.id
        self.moid = vm.moid
        self.default_ip_address = vm.default_ip_address
        self.register_outputs({"id": self.vm_id, "moid": self.moid, "defaultIpAddress": self.default_ip_address})

    def _template(self, template: Template, placement: Placement) -> tuple[pulumi.Output[str], pulumi.Input[str]]:
        """The clone source's UUID and its firmware."""
        opts = pulumi.InvokeOutputOptions(parent=self)
        if template.content_library is None:
            source = vsphere.get_virtual_machine_output(
                name=template.name, datacenter_id=placement.datacenter_id, opts=opts
            )
            return source.uuid, source.firmware
        library_id = template.library_id
        if library_id is None:
            library_id = vsphere.get_content_library_output(name=template.content_library, opts=opts).id
        # With the created library's ID the item lookup waits for it: unknown at the first preview, so not called.
        item = vsphere.get_content_library_item_output(
            library_id=library_id, name=template.name, type=template.item_type, opts=opts
        )
        return item.id, template.firmware or "efi"
