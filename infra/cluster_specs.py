"""Settings of a workload cluster -> the component's ClusterSpec, with the GPU pool conventions applied."""

from __future__ import annotations

from components.labels import ENVIRONMENT_LABEL, GPU_POOL_LABEL, GPU_TAINT, TEAM_LABEL
from components.tanzu.specs import ClusterSpec, PoolSpec
from infra.models.cluster import ClusterSettings, NodePool


def cluster_spec(cluster: ClusterSettings, environment: str) -> ClusterSpec:
    """The cluster as the Tanzu component takes it."""
    return ClusterSpec(
        name=cluster.name,
        namespace=cluster.namespace,
        cluster_class=cluster.cluster_class,
        tkr=cluster.tkr,
        storage_class=cluster.storage_class,
        control_plane_replicas=cluster.control_plane.replicas,
        control_plane_vm_class=cluster.control_plane.vm_class,
        control_plane_storage_class=cluster.control_plane.storage_class or cluster.storage_class,
        pools=[pool_spec(p, cluster.storage_class) for p in cluster.node_pools],
        pods=list(cluster.network.pods),
        services=list(cluster.network.services),
        service_domain=cluster.network.service_domain,
        trusted_cas={ca.name: ca.pem for ca in cluster.trusted_cas},
        proxy=cluster.proxy.model_dump(by_alias=True) if cluster.proxy else None,
        default_registry_secret=cluster.default_registry_secret.model_dump(by_alias=True)
        if cluster.default_registry_secret
        else None,
        labels={ENVIRONMENT_LABEL: environment},
    )


def pool_spec(pool: NodePool, default_storage_class: str) -> PoolSpec:
    """A GPU pool gets big containerd/kubelet disks (CUDA images are large), the GPU taint and pool labels."""
    labels = {**pool.labels}
    taints = [t.model_dump() for t in pool.taints]
    volumes = [(v.name, v.mount_path, v.capacity_gib) for v in pool.volumes]
    if pool.gpu:
        labels[GPU_POOL_LABEL] = pool.name
        taints = [dict(GPU_TAINT), *taints]
        volumes = [
            ("containerd", "/var/lib/containerd", pool.containerd_gib),
            ("kubelet", "/var/lib/kubelet", pool.kubelet_gib),
            *volumes,
        ]
    if pool.team:
        labels[TEAM_LABEL] = pool.team
    return PoolSpec(
        name=pool.name,
        replicas=pool.replicas,
        vm_class=pool.vm_class,
        storage_class=pool.storage_class or default_storage_class,
        gpu=pool.gpu,
        labels=labels,
        taints=taints,
        volumes=volumes,
    )
