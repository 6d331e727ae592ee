"""Lookups of the existing vSphere inventory a stack builds on: nothing here is created."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_vsphere as vsphere


@dataclass(frozen=True, kw_only=True)
class InventoryArgs:
    """Names of existing vCenter objects, as the stack file gives them."""

    datacenter: str
    compute_cluster: str
    datastore: str
    networks: dict[str, str]
    storage_policies: list[str]
    resource_pool: str | None = None


@dataclass(frozen=True, kw_only=True)
class Inventory:
    """IDs of the looked-up objects, for the layers that place things in them."""

    datacenter_id: pulumi.Output[str]
    compute_cluster_id: pulumi.Output[str]
    resource_pool_id: pulumi.Output[str]
    datastore_id: pulumi.Output[str]
    network_ids: dict[str, pulumi.Output[str]]
    storage_policy_ids: dict[str, pulumi.Output[str]]


def lookup_inventory(args: InventoryArgs, parent: pulumi.Resource) -> Inventory:
    """Look each object up by name; the resource pool defaults to the cluster's root pool."""
    opts = pulumi.InvokeOutputOptions(parent=parent)
    dc = vsphere.get_datacenter_output(name=args.datacenter, opts=opts).id
    cluster = vsphere.get_compute_cluster_output(name=args.compute_cluster, datacenter_id=dc, opts=opts)
    pool = (
        vsphere.get_resource_pool_output(name=args.resource_pool, datacenter_id=dc, opts=opts).id
        if args.resource_pool
        else cluster.resource_pool_id
    )
    return Inventory(
        datacenter_id=dc,
        compute_cluster_id=cluster.id,
        resource_pool_id=pool,
        datastore_id=vsphere.get_datastore_output(name=args.datastore, datacenter_id=dc, opts=opts).id,
        network_ids={
            role: vsphere.get_network_output(name=name, datacenter_id=dc, opts=opts).id
            for role, name in sorted(args.networks.items())
        },
        storage_policy_ids={
            name: vsphere.get_policy_output(name=name, opts=opts).id for name in sorted(args.storage_policies)
        },
    )
