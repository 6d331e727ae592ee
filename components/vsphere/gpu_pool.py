"""GPU worker pools: N identical GPU VMs, by DirectPath passthrough or as VM Service VMs on vGPU classes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vsphere as vsphere

from components.vsphere.allocation import HostDevices, Placement, allocate
from components.vsphere.guest_driver import GuestDriverSpec, guest_cloud_init
from components.vsphere.virtual_machine import (
    PassthroughGpus,
    Template,
    VirtualMachine,
    VirtualMachineArgs,
    mmio_size_gib,
)
from components.vsphere.virtual_machine import Placement as VmPlacement

VM_SERVICE_API = "vmoperator.vmware.com/v1alpha3"
"""VM Operator API served by vSphere 8.0 U3 Supervisors and later (see the CRD in shared reference)."""


@dataclass(frozen=True)
class PassthroughPoolArgs:
    """A pool of passthrough GPU VMs spread over the listed hosts."""

    hosts: Sequence[HostDevices]
    replicas: int
    gpus_per_vm: int
    gpu_memory_gib: int
    cpus: int
    memory_mib: int
    disk_gib: int
    template: Template
    datacenter_id: pulumi.Input[str]
    resource_pool_id: pulumi.Input[str]
    datastore_id: pulumi.Input[str]
    folder: str
    network_ids: Sequence[pulumi.Input[str]]
    tag_ids: Sequence[pulumi.Input[str]]
    user_data: str | None = None
    team: str | None = None
    protect: bool = False


@dataclass(frozen=True)
class VgpuPoolArgs:
    """A pool of VM Service VMs on a vGPU VM class, applied through the Supervisor's Kubernetes API."""

    replicas: int
    namespace: pulumi.Input[str]
    vm_class: str
    image: str
    storage_class: str
    provider: pulumi.ProviderResource
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    user_data: str | None = None
    protect: bool = False
    guest_driver: GuestDriverSpec | None = None
    """Install and license the guest driver at first boot (None: the image carries both)."""
    licence_token: pulumi.Input[str] | None = None
    """The NLS client configuration token, written into the VMs' cloud-init (a Pulumi secret)."""


class GpuWorkerPool(pulumi.ComponentResource):
    """N GPU VMs for a team or the platform; `vm_names` lists them in order."""

    vm_names: list[str]
    placements: list[Placement]

    def __init__(
        self, name: str, args: PassthroughPoolArgs | VgpuPoolArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("kubeflow-vsphere:vsphere:GpuWorkerPool", name, None, opts)
        self.vm_names = [f"{name}-{i}" for i in range(args.replicas)]
        self.placements = []
        if isinstance(args, PassthroughPoolArgs):
            self._passthrough(args)
        else:
            self._vgpu(name, args)
        self.register_outputs({"vmNames": self.vm_names})

    def _passthrough(self, args: PassthroughPoolArgs) -> None:
        # Hosts are looked up by name (a wrong name fails the preview). Whether the listed PCI addresses are
        # NVIDIA GPUs in passthrough mode is not checked: no provider lookup reports passthrough state, so
        # that takes a preflight against vCenter.
        invoke = pulumi.InvokeOutputOptions(parent=self)
        host_ids = {
            host.host: vsphere.get_host_output(name=host.host, datacenter_id=args.datacenter_id, opts=invoke).id
            for host in args.hosts
        }
        self.placements = allocate(args.hosts, args.replicas, args.gpus_per_vm)
        for vm_name, placement in zip(self.vm_names, self.placements, strict=True):
            VirtualMachine(
                vm_name,
                VirtualMachineArgs(
                    cpus=args.cpus,
                    memory_mib=args.memory_mib,
                    disk_gib=[args.disk_gib],
                    template=args.template,
                    placement=VmPlacement(
                        datacenter_id=args.datacenter_id,
                        resource_pool_id=args.resource_pool_id,
                        datastore_id=args.datastore_id,
                        folder=args.folder,
                        network_ids=args.network_ids,
                        host_system_id=host_ids[placement.host],
                    ),
                    tag_ids=args.tag_ids,
                    user_data=args.user_data,
                    team=args.team,
                    gpus=PassthroughGpus(
                        pci_device_ids=placement.devices,
                        mmio_size_gib=mmio_size_gib(args.gpus_per_vm, args.gpu_memory_gib),
                    ),
                    protect=args.protect,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        # No anti-affinity rule: each VM is pinned to its host (host_system_id) and passthrough devices rule
        # out vMotion, so DRS could not act on one; the spread comes from the placement itself.

    def _vgpu(self, name: str, args: VgpuPoolArgs) -> None:
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        metadata_labels = dict(args.labels)
        bootstrap: dict[str, object] = {}
        user_data: pulumi.Input[str] | None = args.user_data
        driver, token = args.guest_driver, args.licence_token
        if driver is not None:
            if token is None:
                raise ValueError(f"pool {name}: a guest driver install needs the NLS licence token")
            plain = args.user_data
            user_data = pulumi.Output.secret(token).apply(lambda t: guest_cloud_init(plain, driver, t))
        if user_data is not None:
            secret = k8s.core.v1.Secret(
                f"{name}-cloud-init",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"{name}-cloud-init", namespace=args.namespace, labels=metadata_labels
                ),
                string_data={"user-data": user_data},
                opts=child,
            )
            bootstrap = {"cloudInit": {"rawCloudConfig": {"name": secret.metadata.name, "key": "user-data"}}}
        for vm_name in self.vm_names:
            k8s.apiextensions.CustomResource(
                vm_name,
                api_version=VM_SERVICE_API,
                kind="VirtualMachine",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=vm_name, namespace=args.namespace, labels=metadata_labels),
                spec={
                    "className": args.vm_class,
                    "imageName": args.image,
                    "storageClass": args.storage_class,
                    "powerState": "PoweredOn",
                    **({"bootstrap": bootstrap} if bootstrap else {}),
                },
                opts=pulumi.ResourceOptions(parent=self, provider=args.provider, protect=args.protect),
            )
