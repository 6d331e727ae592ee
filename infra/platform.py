"""The composition root: builds the layers in order from Settings and wires their outputs."""

from __future__ import annotations

import pulumi

from components.vsphere.inventory import Inventory, InventoryArgs, lookup_inventory
from components.vsphere.tags import Tags, TagsArgs
from infra.settings import Settings


class Platform(pulumi.ComponentResource):
    """The whole environment; every layer's components are its children."""

    inventory: Inventory
    tags: Tags

    def __init__(self, name: str, settings: Settings, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:index:Platform", name, None, opts)
        vs = settings.vsphere
        networks = {"management": vs.networks.management}
        if vs.networks.workload:
            networks["workload"] = vs.networks.workload
        self.inventory = lookup_inventory(
            InventoryArgs(
                datacenter=vs.datacenter,
                compute_cluster=vs.compute_cluster,
                datastore=vs.datastore,
                networks=networks,
                storage_policies=list(vs.storage_policies),
                resource_pool=vs.resource_pool,
            ),
            parent=self,
        )
        self.tags = Tags(
            f"{name}-tags",
            TagsArgs(environment=settings.stack, teams=[t.name for t in settings.teams]),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"datacenterId": self.inventory.datacenter_id})


def build_platform(settings: Settings) -> Platform:
    """One Platform per stack, named for the environment."""
    return Platform(f"kubeflow-{settings.stack}", settings)
