"""GPU worker pools: N identical GPU VMs, by DirectPath passthrough or as VM Service VMs on vGPU classes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vsphere as vsphere

from components.vsphere.allocation import GpuAssignment, HostDevices, allocate
from components.vsphere.guest_driver import GuestDriverSpec, guest_cloud_init
from components.vsphere.virtual_machine import (
    PassthroughGpus,
    Placement,
    Template,
    VirtualMachine,
    VirtualMachineArgs,
    mmio_size_gib,
)

VM_SERVICE_API = "vmoperator.vmware.com/v1alpha3"
"""VM Operator API served by vSphere 8.0 U3 Supervisors and later (see the CRD in shared reference)."""


@dataclass(frozen=True, kw_only=True)
class GpuPoolArgs:
    """What every GPU pool takes: how many VMs, their cloud-init, and whether they are protected."""

    replicas: int
    user_data: str | None = None
    protect: bool = False
    """Protect the VMs (prod): their disks hold state."""


@dataclass(frozen=True, kw_only=True)
class PassthroughPoolArgs(GpuPoolArgs):
    """A pool of passthrough GPU VMs spread over the listed hosts, in one placement (each VM is pinned to the host
    its GPUs are on, so `placement.host_system_id` is left unset)."""

    hosts: Sequence[HostDevices]
    gpus_per_vm: int
    gpu_memory_gib: int
    cpus: int
    memory_mib: int
    disk_gib: int
    template: Template
    placement: Placement
    tag_ids: Sequence[pulumi.Input[str]]
    team: str | None = None


@dataclass(frozen=True, kw_only=True)
class VgpuPoolArgs(GpuPoolArgs):
    """A pool of VM Service VMs on a vGPU VM class, applied through the Supervisor's Kubernetes API."""

    namespace: pulumi.Input[str]
    vm_class: str
    image: str
    storage_class: str
    provider: pulumi.ProviderResource
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    guest_driver: GuestDriverSpec | None = None
    """Install and license the guest driver at first boot (None: the image carries both)."""
    licence_token: pulumi.Input[str] | None = None
    """The NLS client configuration token, written into the VMs' cloud-init (a Pulumi secret)."""


class GpuWorkerPool(pulumi.ComponentResource):
    """What both kinds of pool share: `replicas` VMs named `<pool>-<i>` (`vm_names`, in order) and the type token.

    Both kinds keep the token `kubeflow-vsphere:vsphere:GpuWorkerPool` they had as one component: the token names
    what the resource is (a pool of GPU VMs), the subclass says how its VMs get GPUs, and every pool already
    deployed keeps its URN and those of its VMs with no alias. Built only through a subclass."""

    vm_names: list[str]

    def __init__(self, name: str, args: GpuPoolArgs, opts: pulumi.ResourceOptions | None) -> None:
        super().__init__("kubeflow-vsphere:vsphere:GpuWorkerPool", name, None, opts)
        self.vm_names = [f"{name}-{i}" for i in range(args.replicas)]


class PassthroughGpuPool(GpuWorkerPool):
    """N VMs with whole GPUs by DirectPath passthrough; `assignments[i]` is VM i's host and devices."""

    assignments: list[GpuAssignment]

    def __init__(self, name: str, args: PassthroughPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
        # Hosts are looked up by name (a wrong name fails the preview). Whether the listed PCI addresses are
        # NVIDIA GPUs in passthrough mode is not checked: no provider lookup reports passthrough state, so
        # that takes a preflight against vCenter.
        invoke = pulumi.InvokeOutputOptions(parent=self)
        datacenter_id = args.placement.datacenter_id
        host_ids = {
            host.host: vsphere.get_host_output(name=host.host, datacenter_id=datacenter_id, opts=invoke).id
            for host in args.hosts
        }
        self.assignments = allocate(args.hosts, args.replicas, args.gpus_per_vm)
        for vm_name, assignment in zip(self.vm_names, self.assignments, strict=True):
            VirtualMachine(
                vm_name,
                VirtualMachineArgs(
                    cpus=args.cpus,
                    memory_mib=args.memory_mib,
                    disk_gib=[args.disk_gib],
                    template=args.template,
                    placement=replace(args.placement, host_system_id=host_ids[assignment.host]),
                    tag_ids=args.tag_ids,
                    user_data=args.user_data,
                    team=args.team,
                    gpus=PassthroughGpus(
                        pci_device_ids=assignment.devices,
                        mmio_size_gib=mmio_size_gib(args.gpus_per_vm, args.gpu_memory_gib),
                    ),
                    protect=args.protect,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        # No anti-affinity rule: each VM is pinned to its host (host_system_id) and passthrough devices rule
        # out vMotion, so DRS could not act on one; the spread comes from the assignment itself.
        self.register_outputs({"vmNames": self.vm_names})


class VgpuGpuPool(GpuWorkerPool):
    """N VM Service VMs on a vGPU VM class in a Supervisor namespace, with their cloud-init in one Secret."""

    def __init__(self, name: str, args: VgpuPoolArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(name, args, opts)
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
        self.register_outputs({"vmNames": self.vm_names})
