"""The VMware ClusterClasses this program can write a Cluster for, and the variables each defines.

Cluster API rejects a `Cluster` that sets a variable its class does not define, and the VMware classes
changed their variables at `builtin-generic-v3.2.0`: `tanzukubernetescluster` and
`builtin-generic-v3.1.0` define the legacy set (`nodePoolVolumes`, `trust`, `proxy`, ...), later classes
define `node`, `osConfiguration`, `volumes`, `vsphereOptions`, `kubernetes` instead. Each class is known
here with the shape of every variable the program emits, so a class the program does not know is refused
(a config error) rather than sent with variables it would reject.

Source: VMware vSphere Kubernetes Service, "Cluster Configuration Variables"
(https://developer.broadcom.com/xapis/vmware-vsphere-kubernetes-service/latest/variable-docs.html), the
sections for `builtin-generic-v3.4.0`, `v3.3.0`, `v3.2.0` and for `tanzukubernetescluster` /
`builtin-generic-v3.1.0`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Shape = Any
"""A variable value's shape: a dict of key -> shape (an object with only those keys), a one-item list
(a list of that shape), `str`, `int` or `bool` (a scalar), or `dict` (a free-form string map)."""

_TAINT = {"key": str, "value": str, "effect": str}

LEGACY_VARIABLES: Mapping[str, Shape] = {
    "clusterEncryptionConfigYaml": str,
    "controlPlaneCertificateRotation": {"activate": bool, "daysBefore": int},
    "controlPlaneVolumes": [{"name": str, "mountPath": str, "storageClass": str, "capacity": {"storage": str}}],
    "defaultRegistrySecret": {"name": str, "namespace": str, "data": str},
    "defaultStorageClass": str,
    "defaultVolumeSnapshotClass": str,
    "kubeAPIServerFQDNs": [str],
    "nodePoolLabels": [{"key": str, "value": str}],
    "nodePoolTaints": [{**_TAINT, "timeAdded": int}],
    "nodePoolVolumes": [{"name": str, "mountPath": str, "storageClass": str, "capacity": {"storage": str}}],
    "ntp": str,
    "podSecurityStandard": dict,
    "proxy": {"httpProxy": str, "httpsProxy": str, "noProxy": [str]},
    "storageClass": str,
    "storageClasses": [str],
    "trust": {"additionalTrustedCAs": [{"name": str}]},
    "user": dict,
    "vmClass": str,
    "volumeSnapshotClasses": [str],
}
"""`tanzukubernetescluster` and `builtin-generic-v3.1.0`."""

GENERIC_VARIABLES: Mapping[str, Shape] = {
    "kubernetes": dict,
    "node": {"labels": dict, "taints": [_TAINT]},
    "osConfiguration": {
        "ntp": {"servers": [str]},
        "systemProxy": {"http": str, "https": str, "noProxy": [str]},
        "trust": {"additionalTrustedCAs": [{"caCert": {"secretRef": {"name": str, "key": str}, "content": str}}]},
        "user": dict,
    },
    "resourceConfiguration": dict,
    "storageClass": str,
    "vmClass": str,
    "volumes": [{"name": str, "mountPath": str, "storageClass": str, "capacity": str}],
    "vsphereOptions": {
        "persistentVolumes": {
            "availableStorageClasses": [str],
            "availableVolumeSnapshotClasses": [str],
            "defaultStorageClass": str,
            "defaultVolumeSnapshotClass": str,
        }
    },
}
"""`builtin-generic-v3.2.0` through `v3.4.0` (3.3.0 and 3.4.0 add keys the program does not emit)."""


@dataclass(frozen=True)
class ClusterClass:
    """A ClusterClass the program knows: which variable schema it has."""

    name: str
    schema: Literal["legacy", "generic"]

    @property
    def variables(self) -> Mapping[str, Shape]:
        """Every variable this class defines, with the shape of its value."""
        return LEGACY_VARIABLES if self.schema == "legacy" else GENERIC_VARIABLES


CLUSTER_CLASSES: Mapping[str, ClusterClass] = {
    c.name: c
    for c in (
        ClusterClass("tanzukubernetescluster", "legacy"),
        ClusterClass("builtin-generic-v3.1.0", "legacy"),
        ClusterClass("builtin-generic-v3.2.0", "generic"),
        ClusterClass("builtin-generic-v3.3.0", "generic"),
        ClusterClass("builtin-generic-v3.4.0", "generic"),
    )
}


def cluster_class(name: str) -> ClusterClass:
    """The known class by name; ValueError naming the known ones otherwise (settings check first)."""
    try:
        return CLUSTER_CLASSES[name]
    except KeyError:
        raise ValueError(f"unknown ClusterClass '{name}'; known: {', '.join(sorted(CLUSTER_CLASSES))}") from None


def mismatches(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Where `value` leaves `shape`: keys the shape does not have, wrong kinds. Empty when it conforms."""
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return [f"{path}: expected an object"]
        out = [f"{path}.{k}: not defined" for k in value if k not in shape]
        return out + [m for k, v in value.items() if k in shape for m in mismatches(v, shape[k], f"{path}.{k}")]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{path}: expected a list"]
        return [m for i, item in enumerate(value) for m in mismatches(item, shape[0], f"{path}[{i}]")]
    if shape is dict:
        ok = isinstance(value, dict)
    elif shape is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    else:
        ok = isinstance(value, shape)
    return [] if ok else [f"{path}: expected {shape.__name__}"]
