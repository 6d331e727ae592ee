"""Supervisor-side catalog: VM classes, subscribed content libraries and vSphere Namespaces."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_vsphere as vsphere

from policies.conventions import VGPU_MEMORY_RESERVATION


@dataclass(frozen=True, kw_only=True)
class VmClass:
    """One VM class; a class with vGPU devices reserves all its memory whatever `memory_reservation` says."""

    name: str
    cpus: int
    memory_mib: int
    cpu_reservation: int
    memory_reservation: int
    vgpu_devices: Sequence[str]


class VmClassCatalog(pulumi.ComponentResource):
    """The VM classes this environment offers; class IDs by name for namespaces to bind."""

    class_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, classes: Sequence[VmClass], opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:vsphere:VmClassCatalog", name, None, opts)
        self.class_ids = {
            c.name: vsphere.VirtualMachineClass(
                f"{name}-{c.name}",
                name=c.name,
                cpus=c.cpus,
                memory=c.memory_mib,
                cpu_reservation=c.cpu_reservation,
                memory_reservation=VGPU_MEMORY_RESERVATION if c.vgpu_devices else c.memory_reservation,
                vgpu_devices=list(c.vgpu_devices) or None,
                opts=pulumi.ResourceOptions(parent=self),
            ).id
            for c in classes
        }
        self.register_outputs({"classIds": self.class_ids})


@dataclass(frozen=True, kw_only=True)
class SubscribedLibrary:
    """A content library subscribed to a published one."""

    name: str
    subscription_url: str
    on_demand: bool
    automatic_sync: bool


class ContentLibraries(pulumi.ComponentResource):
    """Subscribed libraries (TKR images, deep-learning VM images) on the environment's datastore."""

    library_ids: dict[str, pulumi.Output[str]]

    def __init__(
        self,
        name: str,
        libraries: Sequence[SubscribedLibrary],
        datastore_id: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
        protect: bool = False,
    ) -> None:
        super().__init__("kubeflow-vsphere:vsphere:ContentLibraries", name, None, opts)
        self.library_ids = {
            lib.name: vsphere.ContentLibrary(
                f"{name}-{lib.name}",
                name=lib.name,
                storage_backings=[datastore_id],
                subscription=vsphere.ContentLibrarySubscriptionArgs(
                    subscription_url=lib.subscription_url,
                    on_demand=lib.on_demand,
                    automatic_sync=lib.automatic_sync,
                ),
                opts=pulumi.ResourceOptions(parent=self, protect=protect),
            ).id
            for lib in libraries
        }
        self.register_outputs({"libraryIds": self.library_ids})


@dataclass(frozen=True, kw_only=True)
class SupervisorNamespaceArgs:
    """The namespace's Supervisor and what it binds, as IDs from the catalog and the inventory."""

    supervisor_id: str
    namespace: str
    storage_policy_ids: Sequence[pulumi.Input[str]]
    vm_class_ids: Sequence[pulumi.Input[str]]
    content_library_ids: Sequence[pulumi.Input[str]]
    protect: bool = False
    """Protect the namespace (prod): deleting it deletes the clusters and VMs in it."""


class SupervisorNamespace(pulumi.ComponentResource):
    """A vSphere Namespace. It has no CPU or memory limits of its own: quotas come from policy packs."""

    namespace: vsphere.Namespace

    def __init__(self, name: str, args: SupervisorNamespaceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:vsphere:SupervisorNamespace", name, None, opts)
        self.namespace = vsphere.Namespace(
            f"{name}-namespace",
            supervisor=args.supervisor_id,
            name=args.namespace,
            storage_policies=list(args.storage_policy_ids),
            vm_services=[
                vsphere.NamespaceVmServiceArgs(
                    vm_classes=list(args.vm_class_ids), content_libraries=list(args.content_library_ids)
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        self.register_outputs({"name": self.namespace.name})
