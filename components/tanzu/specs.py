"""The cluster object's body in either API: Cluster API (ClusterClass) or TanzuKubernetesCluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

UBUNTU = {"run.tanzu.vmware.com/resolve-os-image": "os-name=ubuntu"}
"""GPU nodes run Ubuntu: NVIDIA's vGPU guest drivers are built for it."""

GPU_TAINT = {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}


@dataclass(frozen=True)
class PoolSpec:
    """One node pool, already resolved: volumes include the GPU pool's containerd and kubelet disks."""

    name: str
    replicas: int
    vm_class: str
    storage_class: str
    gpu: bool
    labels: Mapping[str, str]
    taints: Sequence[Mapping[str, str]]
    volumes: Sequence[tuple[str, str, int]]
    """(name, mountPath, GiB)"""


@dataclass(frozen=True)
class ClusterSpec:
    """Everything the cluster object says, independent of the API that carries it."""

    name: str
    namespace: str
    cluster_class: str
    tkr: str
    storage_class: str
    control_plane_replicas: int
    control_plane_vm_class: str
    control_plane_storage_class: str
    pools: Sequence[PoolSpec]
    pods: Sequence[str]
    services: Sequence[str]
    service_domain: str
    trusted_ca_names: Sequence[str] = ()
    proxy: Mapping[str, Any] | None = None
    default_registry_secret: Mapping[str, str] | None = None
    labels: Mapping[str, str] = field(default_factory=dict[str, str])


def _volumes(volumes: Sequence[tuple[str, str, int]], storage_class: str) -> list[dict[str, Any]]:
    return [
        {"name": n, "mountPath": m, "capacity": {"storage": f"{gib}Gi"}, "storageClass": storage_class}
        for n, m, gib in volumes
    ]


def cluster_api_body(spec: ClusterSpec) -> dict[str, Any]:
    """`cluster.x-k8s.io/v1beta1` Cluster on a VMware ClusterClass; per-pool settings as variable overrides."""
    ubuntu = any(p.gpu for p in spec.pools)
    variables: list[dict[str, Any]] = [
        {"name": "vmClass", "value": spec.control_plane_vm_class},
        {"name": "storageClass", "value": spec.storage_class},
        {"name": "defaultStorageClass", "value": spec.storage_class},
    ]
    if spec.trusted_ca_names:
        variables.append(
            {"name": "trust", "value": {"additionalTrustedCAs": [{"name": n} for n in spec.trusted_ca_names]}}
        )
    if spec.proxy:
        variables.append({"name": "proxy", "value": dict(spec.proxy)})
    if spec.default_registry_secret:
        variables.append({"name": "defaultRegistrySecret", "value": dict(spec.default_registry_secret)})
    control_plane: dict[str, Any] = {"replicas": spec.control_plane_replicas}
    if ubuntu:
        control_plane["metadata"] = {"annotations": dict(UBUNTU)}
    return {
        "apiVersion": "cluster.x-k8s.io/v1beta1",
        "kind": "Cluster",
        "spec": {
            "clusterNetwork": {
                "pods": {"cidrBlocks": list(spec.pods)},
                "services": {"cidrBlocks": list(spec.services)},
                "serviceDomain": spec.service_domain,
            },
            "topology": {
                "class": spec.cluster_class,
                "version": spec.tkr,
                "controlPlane": control_plane,
                "workers": {"machineDeployments": [_machine_deployment(p, ubuntu) for p in spec.pools]},
                "variables": variables,
            },
        },
    }


def _machine_deployment(pool: PoolSpec, ubuntu: bool) -> dict[str, Any]:
    overrides: list[dict[str, Any]] = [{"name": "vmClass", "value": pool.vm_class}]
    if pool.volumes:
        overrides.append({"name": "nodePoolVolumes", "value": _volumes(pool.volumes, pool.storage_class)})
    if pool.labels:
        overrides.append(
            {"name": "nodePoolLabels", "value": [{"key": k, "value": v} for k, v in sorted(pool.labels.items())]}
        )
    if pool.taints:
        overrides.append({"name": "nodePoolTaints", "value": [dict(t) for t in pool.taints]})
    deployment: dict[str, Any] = {
        "class": "node-pool",
        "name": pool.name,
        "replicas": pool.replicas,
        "variables": {"overrides": overrides},
    }
    if ubuntu:
        deployment["metadata"] = {"annotations": dict(UBUNTU)}
    return deployment


def tkc_body(spec: ClusterSpec) -> dict[str, Any]:
    """`run.tanzu.vmware.com/v1alpha3` TanzuKubernetesCluster, for Supervisors without ClusterClass support."""
    network: dict[str, Any] = {
        "cni": {"name": "antrea"},
        "pods": {"cidrBlocks": list(spec.pods)},
        "services": {"cidrBlocks": list(spec.services)},
        "serviceDomain": spec.service_domain,
    }
    if spec.proxy:
        network["proxy"] = dict(spec.proxy)
    if spec.trusted_ca_names:
        network["trust"] = {"additionalTrustedCAs": [{"name": n} for n in spec.trusted_ca_names]}
    tkr = {"reference": {"name": spec.tkr}}
    return {
        "apiVersion": "run.tanzu.vmware.com/v1alpha3",
        "kind": "TanzuKubernetesCluster",
        "spec": {
            "topology": {
                "controlPlane": {
                    "replicas": spec.control_plane_replicas,
                    "vmClass": spec.control_plane_vm_class,
                    "storageClass": spec.control_plane_storage_class,
                    "tkr": tkr,
                },
                "nodePools": [
                    {
                        "name": p.name,
                        "replicas": p.replicas,
                        "vmClass": p.vm_class,
                        "storageClass": p.storage_class,
                        "tkr": tkr,
                        **({"labels": dict(p.labels)} if p.labels else {}),
                        **({"taints": [dict(t) for t in p.taints]} if p.taints else {}),
                        **({"volumes": _tkc_volumes(p.volumes)} if p.volumes else {}),
                    }
                    for p in spec.pools
                ],
            },
            "settings": {"storage": {"defaultClass": spec.storage_class}, "network": network},
        },
    }


def tkc_annotations(spec: ClusterSpec) -> dict[str, str]:
    """TanzuKubernetesCluster picks the node OS for the whole cluster from an annotation on the object."""
    return dict(UBUNTU) if any(p.gpu for p in spec.pools) else {}


def _tkc_volumes(volumes: Sequence[tuple[str, str, int]]) -> list[dict[str, Any]]:
    return [{"name": n, "mountPath": m, "capacity": {"storage": f"{gib}Gi"}} for n, m, gib in volumes]
