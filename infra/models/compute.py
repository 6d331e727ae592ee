"""The vSphere layer's requests: VM classes, Supervisor namespaces, plain VMs and GPU worker pools."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from infra.models.base import DnsLabel, Model, Name, matching
from infra.models.cluster import DriverVersion
from policies.conventions import VGPU_MEMORY_RESERVATION

PciAddress = Annotated[
    str,
    matching(
        r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$",
        "a PCI address such as '0000:3b:00.0' (as vCenter lists passthrough devices)",
    ),
]
VgpuProfile = Annotated[str, matching(r"^grid_[a-z0-9]+-\d+[a-z]$", "a vGPU profile name such as 'grid_a100-40c'")]


class VmClassSettings(Model):
    """A VM class offered by the Supervisor; with vGPU devices it must reserve all memory."""

    name: DnsLabel
    cpus: int = Field(ge=1, le=768)
    memory_mib: int = Field(ge=1024, le=24 * 1024 * 1024)
    cpu_reservation: int = Field(default=0, ge=0, le=100)
    memory_reservation: int | None = Field(default=None, ge=0, le=100)
    vgpu_devices: list[VgpuProfile] = Field(default_factory=list[str])

    @model_validator(mode="after")
    def _vgpu_reserves_memory(self) -> VmClassSettings:
        if self.vgpu_devices and self.memory_reservation not in (None, VGPU_MEMORY_RESERVATION):
            raise ValueError(
                f"VM class '{self.name}' has vGPU devices, so memoryReservation must be {VGPU_MEMORY_RESERVATION} "
                f"(got {self.memory_reservation}); remove the key or set it to {VGPU_MEMORY_RESERVATION}"
            )
        return self

    @property
    def reserved_memory_percent(self) -> int:
        """100 for vGPU classes (vSphere requires it), else what was asked (default none)."""
        return VGPU_MEMORY_RESERVATION if self.vgpu_devices else (self.memory_reservation or 0)

    @property
    def gpus(self) -> int:
        """How many vGPUs one VM of this class carries."""
        return len(self.vgpu_devices)


class NamespaceSettings(Model):
    """A vSphere Namespace on the Supervisor, with the classes, libraries and policies it may use."""

    name: DnsLabel
    team: DnsLabel | None = None
    vm_classes: list[DnsLabel] = Field(min_length=1)
    content_libraries: list[Name] = Field(default_factory=list[str])
    storage_policies: list[Name] = Field(min_length=1)


class TemplateRef(Model):
    """Where a VM is cloned from: a VM template by name, or an item of a content library.

    A library item is an OVF template (`itemType: ovf`) or a vSphere VM template (`vm-template`); the
    provider looks items up by type. Firmware follows a VM template (read from it); a library item does
    not say, so `firmware` states it (default EFI, as NVIDIA's deep-learning VM images are built).
    """

    name: Name
    content_library: Name | None = None
    item_type: Literal["ovf", "vm-template"] = "ovf"
    firmware: Literal["efi", "bios"] | None = None


class CloudInit(Model):
    """cloud-init for a VM, handed over through guestinfo (user data as given, metadata generated)."""

    user_data: Name


class DiskSettings(Model):
    """One virtual disk."""

    size_gib: int = Field(ge=1, le=62 * 1024)
    thin: bool = True


class VmSettings(Model):
    """A plain VM cloned from a template."""

    name: DnsLabel
    team: DnsLabel | None = None
    cpus: int = Field(ge=1, le=768)
    memory_mib: int = Field(ge=1024, le=24 * 1024 * 1024)
    disks: list[DiskSettings] = Field(min_length=1)
    template: TemplateRef
    network: Literal["management", "workload"] = "management"
    cloud_init: CloudInit | None = None


class GpuHost(Model):
    """An ESXi host with NVIDIA GPUs in passthrough mode, and the PCI addresses of those GPUs."""

    name: Name
    devices: list[PciAddress] = Field(min_length=1)


class PassthroughPool(Model):
    """N identical VMs, each given whole GPUs of one host by DirectPath I/O."""

    mode: Literal["passthrough"]
    name: DnsLabel
    team: DnsLabel | None = None
    replicas: int = Field(ge=1, le=1000)
    gpus_per_vm: int = Field(ge=1, le=16)
    gpu_memory_gib: int = Field(ge=1, le=1024, description="framebuffer of one GPU; sizes the 64-bit MMIO window")
    gpu_model: DnsLabel = Field(
        description="the GPUs' board as NVIDIA names it in vGPU profiles (a100, a100d, l40s, ...): the stack's vGPU "
        "profiles and gpuMemoryGiB are checked against it"
    )
    cpus: int = Field(ge=1, le=768)
    memory_mib: int = Field(ge=1024, le=24 * 1024 * 1024)
    disk_gib: int = Field(default=200, ge=20, le=62 * 1024)
    template: TemplateRef
    hosts: list[GpuHost] = Field(min_length=1)
    cloud_init: CloudInit | None = None


class GuestDriver(Model):
    """The NVIDIA vGPU guest driver a VM installs at first boot, licensed with the stack's `nlsClientToken`.

    Leave it out only when `image` is an NVIDIA AI Enterprise deep-learning VM image that carries the
    driver and its licensing: a vGPU VM without a licensed guest driver has no usable GPU.
    """

    url: Annotated[str, Field(pattern=r"^https://\S+\.run$")] = Field(
        description="where the VMs download NVIDIA's Linux guest driver installer (.run), e.g. an internal mirror"
    )
    version: DriverVersion = Field(description="the installer's driver version: on the hosts' vGPU Manager branch")
    license_feature_type: Literal[1, 2, 4] = Field(default=1, description="gridd.conf FeatureType")


class VgpuPool(Model):
    """N VM Service VMs on a vGPU VM class in a Supervisor namespace."""

    mode: Literal["vgpu"]
    name: DnsLabel
    team: DnsLabel | None = None
    replicas: int = Field(ge=1, le=1000)
    namespace: DnsLabel
    vm_class: DnsLabel
    image: DnsLabel = Field(description="VirtualMachineImage name in the namespace, e.g. vmi-0a1b2c3d4e5f")
    storage_class: DnsLabel
    cloud_init: CloudInit | None = None
    guest_driver: GuestDriver | None = None


GpuPoolSettings = Annotated[PassthroughPool | VgpuPool, Field(discriminator="mode")]
