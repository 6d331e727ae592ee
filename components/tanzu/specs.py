"""The cluster object's body in either API: Cluster API (ClusterClass) or TanzuKubernetesCluster.

A Cluster on a ClusterClass carries only the variables that class defines (components/tanzu/classes.py):
the legacy set for `tanzukubernetescluster` and `builtin-generic-v3.1.0`, the generic set (`node`,
`osConfiguration`, `volumes`, `vsphereOptions`) from `builtin-generic-v3.2.0` on.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.tanzu.classes import cluster_class

UBUNTU = {"run.tanzu.vmware.com/resolve-os-image": "os-name=ubuntu"}
"""GPU nodes run Ubuntu: NVIDIA's vGPU guest drivers are built for it."""


@dataclass(frozen=True, kw_only=True)
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


@dataclass(frozen=True, kw_only=True)
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
    trusted_cas: Mapping[str, str] = field(default_factory=dict[str, str])
    """CA name -> PEM (public certificates, not secrets)."""
    proxy: Mapping[str, Any] | None = None
    """`httpProxy`, `httpsProxy`, `noProxy`."""
    default_registry_secret: Mapping[str, str] | None = None
    labels: Mapping[str, str] = field(default_factory=dict[str, str])

    @property
    def trusted_ca_secret(self) -> str:
        """The Secret in the vSphere Namespace that holds the CAs, named as TKG expects it."""
        return f"{self.name}-user-trusted-ca-secret"

    @property
    def gpu_taints(self) -> list[Mapping[str, str]]:
        """Every taint the cluster puts on a GPU node: what the GPU Operator's pods must tolerate."""
        return [t for p in self.pools if p.gpu for t in p.taints]


def cluster_api_body(spec: ClusterSpec) -> dict[str, Any]:
    """`cluster.x-k8s.io/v1beta1` Cluster on a VMware ClusterClass, in the variables of that class."""
    ubuntu = any(p.gpu for p in spec.pools)
    legacy = cluster_class(spec.cluster_class).schema == "legacy"
    control_plane: dict[str, Any] = {"replicas": spec.control_plane_replicas}
    if ubuntu:
        control_plane["metadata"] = {"annotations": dict(UBUNTU)}
    deployments = [_machine_deployment(p, ubuntu, legacy) for p in spec.pools]
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
                "workers": {"machineDeployments": deployments},
                "variables": _legacy_variables(spec) if legacy else _generic_variables(spec),
            },
        },
    }


def _legacy_variables(spec: ClusterSpec) -> list[dict[str, Any]]:
    """`tanzukubernetescluster` / `builtin-generic-v3.1.0`: CAs by name from the trusted-CA Secret."""
    variables: list[dict[str, Any]] = [
        {"name": "vmClass", "value": spec.control_plane_vm_class},
        {"name": "storageClass", "value": spec.storage_class},
        {"name": "defaultStorageClass", "value": spec.storage_class},
    ]
    if spec.trusted_cas:
        variables.append({"name": "trust", "value": {"additionalTrustedCAs": [{"name": n} for n in spec.trusted_cas]}})
    if spec.proxy:
        variables.append({"name": "proxy", "value": dict(spec.proxy)})
    if spec.default_registry_secret:
        variables.append({"name": "defaultRegistrySecret", "value": dict(spec.default_registry_secret)})
    return variables


def _generic_variables(spec: ClusterSpec) -> list[dict[str, Any]]:
    """`builtin-generic-v3.2.0` and later: storage under `vsphereOptions`, trust and proxy under `osConfiguration`."""
    classes = sorted({spec.storage_class, *(p.storage_class for p in spec.pools)})
    variables: list[dict[str, Any]] = [
        {"name": "vmClass", "value": spec.control_plane_vm_class},
        {"name": "storageClass", "value": spec.storage_class},
        {
            "name": "vsphereOptions",
            "value": {
                "persistentVolumes": {"availableStorageClasses": classes, "defaultStorageClass": spec.storage_class}
            },
        },
    ]
    os_configuration: dict[str, Any] = {}
    if spec.trusted_cas:
        os_configuration["trust"] = {
            "additionalTrustedCAs": [
                {"caCert": {"secretRef": {"name": spec.trusted_ca_secret, "key": n}}} for n in spec.trusted_cas
            ]
        }
    if spec.proxy:
        os_configuration["systemProxy"] = {
            "http": spec.proxy["httpProxy"],
            "https": spec.proxy["httpsProxy"],
            "noProxy": list(spec.proxy.get("noProxy", [])),
        }
    if os_configuration:
        variables.append({"name": "osConfiguration", "value": os_configuration})
    return variables


def _machine_deployment(pool: PoolSpec, ubuntu: bool, legacy: bool) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "class": "node-pool",
        "name": pool.name,
        "replicas": pool.replicas,
        "variables": {"overrides": _legacy_overrides(pool) if legacy else _generic_overrides(pool)},
    }
    if ubuntu:
        deployment["metadata"] = {"annotations": dict(UBUNTU)}
    return deployment


def _legacy_overrides(pool: PoolSpec) -> list[dict[str, Any]]:
    overrides: list[dict[str, Any]] = [{"name": "vmClass", "value": pool.vm_class}]
    if pool.volumes:
        volumes = [
            {"name": n, "mountPath": m, "capacity": {"storage": f"{gib}Gi"}, "storageClass": pool.storage_class}
            for n, m, gib in pool.volumes
        ]
        overrides.append({"name": "nodePoolVolumes", "value": volumes})
    if pool.labels:
        overrides.append(
            {"name": "nodePoolLabels", "value": [{"key": k, "value": v} for k, v in sorted(pool.labels.items())]}
        )
    if pool.taints:
        overrides.append({"name": "nodePoolTaints", "value": [dict(t) for t in pool.taints]})
    return overrides


def _generic_overrides(pool: PoolSpec) -> list[dict[str, Any]]:
    overrides: list[dict[str, Any]] = [{"name": "vmClass", "value": pool.vm_class}]
    if pool.volumes:
        volumes = [
            {"name": n, "mountPath": m, "capacity": f"{gib}Gi", "storageClass": pool.storage_class}
            for n, m, gib in pool.volumes
        ]
        overrides.append({"name": "volumes", "value": volumes})
    node: dict[str, Any] = {}
    if pool.labels:
        node["labels"] = dict(sorted(pool.labels.items()))
    if pool.taints:
        node["taints"] = [dict(t) for t in pool.taints]
    if node:
        overrides.append({"name": "node", "value": node})
    return overrides


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
    if spec.trusted_cas:
        # v1alpha3 carries each CA inline: `name` and `data`, the PEM base64-encoded once.
        network["trust"] = {
            "additionalTrustedCAs": [{"name": n, "data": _b64(pem)} for n, pem in spec.trusted_cas.items()]
        }
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


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
