"""Settings -> what the Jupyter spawner offers: the images, and the Kubeflow cluster's GPU pools as notebooks see them.

Works in either layer (docs/LAYERS.md): it reads only settings (the cluster's node pools, the VM classes, the team
pools already resolved into the cluster), never a resource of the infra layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from components import catalog
from components.kubeflow.spawner import Culling, GpuPoolOffer, SpawnerSettings
from components.mirror import RegistryMirror
from components.vsphere.gpus import board_of, gpu_board
from infra.cluster_specs import pool_spec
from infra.models.cluster import ClusterSettings
from infra.models.compute import VmClassSettings

if TYPE_CHECKING:
    from infra.settings import Settings


def gpu_pool_offers(cluster: ClusterSettings, vm_classes: Sequence[VmClassSettings]) -> list[GpuPoolOffer]:
    """Every GPU node pool of `cluster` (team pools included), with the labels and taints its nodes get and what
    its VM class carries. A class the settings do not declare leaves the hardware unknown, not an error."""
    classes = {c.name: c for c in vm_classes}
    operator = cluster.gpu_operator
    slicing = operator.time_slicing if operator is not None and operator.enabled else None
    offers = []
    for pool in cluster.node_pools:
        if not pool.gpu:
            continue
        spec = pool_spec(pool, cluster.storage_class)
        vm_class = classes.get(pool.vm_class)
        profiles = list(dict.fromkeys(vm_class.vgpu_devices)) if vm_class else []
        models = list(dict.fromkeys(_model(p) for p in profiles))
        offers.append(
            GpuPoolOffer(
                pool=pool.name,
                vm_class=pool.vm_class,
                gpus=vm_class.gpus if vm_class else 0,
                gpu_model=" + ".join(m for m in models if m) or None,
                vgpu_profiles=profiles,
                time_slices=slicing.replicas if slicing else 1,
                labels=dict(spec.labels),
                taints=[dict(t) for t in spec.taints],
                team=pool.team,
            )
        )
    return offers


def _model(profile: str) -> str:
    """`grid_a100-40c` -> `A100 40GB`; the board name itself for a board components/vsphere/gpus.py does not list."""
    board = board_of(profile)
    if board is None:
        return ""
    known = gpu_board(board.name)
    return known.display if known else board.name.upper()


def spawner_settings(settings: Settings) -> SpawnerSettings | None:
    """The spawner of the stack's Kubeflow cluster: its images (the pinned ones through the registry mirror, when there
    is one), GPU pools and culling; None without Kubeflow."""
    kf = settings.kubeflow
    if kf is None:
        return None
    cluster = next(c for c in settings.clusters if c.name == kf.cluster)
    mirror = settings.registry_mirror
    through = (
        RegistryMirror(host=mirror.host, manifests=str(mirror.manifests), pull_secret=mirror.pull_secret).image
        if mirror
        else str
    )
    pinned = {i.ref for i in catalog.NOTEBOOK_IMAGES}

    def rewrite(image: str) -> str:
        """The pinned images through the mirror; those the stack names itself are pulled as written."""
        return through(image) if image in pinned else image

    def group(name: str) -> list[str]:
        return [rewrite(i.ref) for i in catalog.NOTEBOOK_IMAGES if i.group == name]

    culling = kf.notebooks.culling
    return SpawnerSettings(
        images=[rewrite(i) for i in kf.notebooks.images.offered()],
        group_one=group("imageGroupOne"),
        group_two=group("imageGroupTwo"),
        pools=gpu_pool_offers(cluster, settings.vsphere.vm_classes),
        culling=Culling(
            enabled=culling.enabled,
            idle_minutes=culling.idle_minutes,
            check_period_minutes=culling.check_period_minutes,
        ),
    )
