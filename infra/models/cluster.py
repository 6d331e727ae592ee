"""Tanzu (TKG Service) workload clusters and the services each one runs for GPUs."""

from __future__ import annotations

import ipaddress
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from components.catalog import VGPU_GUEST_DRIVER_REPOSITORY
from infra.models.base import DnsLabel, Model, Name, matching


def _cidr(value: str) -> str:
    try:
        ipaddress.ip_network(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a CIDR block such as '192.168.0.0/16'") from None
    return value


Cidr = Annotated[str, AfterValidator(_cidr)]
Tkr = Annotated[
    str, matching(r"^v\d+\.\d+\.\d+---vmware\.[0-9a-z.\-]+$", "a TKR name such as 'v1.31.4---vmware.1-fips-vkr.3'")
]
LabelKey = Annotated[
    str,
    matching(
        r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$",
        "a Kubernetes label key such as 'example.com/team'",
    ),
]


class Taint(Model):
    """A node taint, as Kubernetes writes it."""

    key: LabelKey
    value: str = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"


class Volume(Model):
    """An extra disk on every node of a pool, mounted at `mountPath`."""

    name: DnsLabel
    mount_path: Annotated[str, Field(pattern=r"^/[^\s]*$")]
    capacity_gib: int = Field(ge=1, le=16384)


class ControlPlane(Model):
    """The cluster's control plane: one or three replicas for etcd quorum."""

    replicas: Literal[1, 3] = 3
    vm_class: DnsLabel
    storage_class: DnsLabel | None = None


class NodePool(Model):
    """Worker nodes of one VM class. A GPU pool gets Ubuntu, big containerd/kubelet volumes and a taint."""

    name: DnsLabel
    replicas: int = Field(ge=1, le=1000)
    vm_class: DnsLabel
    storage_class: DnsLabel | None = None
    gpu: bool = False
    team: DnsLabel | None = None
    labels: dict[LabelKey, str] = Field(default_factory=dict[str, str])
    taints: list[Taint] = Field(default_factory=list[Taint])
    volumes: list[Volume] = Field(default_factory=list[Volume])
    containerd_gib: int = Field(default=200, ge=20, le=4096, description="GPU pools: /var/lib/containerd size")
    kubelet_gib: int = Field(default=100, ge=10, le=4096, description="GPU pools: /var/lib/kubelet size")


class ClusterNetwork(Model):
    """Pod and service ranges; they must not overlap the Supervisor's networks."""

    pods: list[Cidr] = Field(default_factory=lambda: ["192.168.0.0/16"], min_length=1)
    services: list[Cidr] = Field(default_factory=lambda: ["10.96.0.0/12"], min_length=1)
    service_domain: Name = "cluster.local"


class TrustedCa(Model):
    """A CA certificate the nodes trust (a private registry's, a proxy's): public, not a secret."""

    name: DnsLabel
    pem: Annotated[str, Field(pattern=r"-----BEGIN CERTIFICATE-----")]


class Proxy(Model):
    """Outbound proxy for the nodes."""

    http_proxy: Name
    https_proxy: Name
    no_proxy: list[Name] = Field(default_factory=list[str])


class RegistrySecret(Model):
    """The Supervisor's embedded-registry CA, handed to the cluster (ClusterClass `defaultRegistrySecret`)."""

    name: DnsLabel
    namespace: DnsLabel
    data: Name


def _as_text(value: object) -> object:
    """YAML reads `7` and `580.95` as numbers; a version is text either way."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


DriverVersion = Annotated[
    str,
    BeforeValidator(_as_text),
    matching(r"^\d{3}\.\d{1,3}(\.\d{1,3})?$", "an NVIDIA driver version such as '580.95.05'"),
]
NvaieVersion = Annotated[
    str,
    BeforeValidator(_as_text),
    matching(r"^\d{1,2}(\.\d{1,2})?$", "an NVIDIA AI Enterprise release such as '7' or '7.2'"),
]


class DriverImage(Model):
    """The vGPU guest driver image NVIDIA AI Enterprise publishes (private: needs a pull secret).

    The image name is derived from the NVAIE release (`vgpu-guest-driver-<major>`); `repository` moves
    it to a mirror that keeps NVIDIA's path.
    """

    repository: Name = VGPU_GUEST_DRIVER_REPOSITORY
    version: DriverVersion = Field(description="the guest driver version, on the NVAIE release's branch")
    image: Name | None = Field(default=None, description="derived from nvaieRelease; only to confirm it")
    registry: Name | None = Field(default=None, description="the pull secret's registry; default: repository's host")

    @property
    def registry_host(self) -> str:
        """The registry the pull secret authenticates to: the first path element of the repository."""
        return self.registry or self.repository.split("/", 1)[0]


class TimeSlicing(Model):
    """Share each GPU between `replicas` pods (no memory isolation: for notebooks and light inference)."""

    replicas: int = Field(ge=2, le=64)


class GpuOperatorSettings(Model):
    """NVIDIA GPU Operator in vGPU mode: licensed guest driver, MIG strategy, optional time-slicing.

    `nvaieRelease` and `hostVgpuManager` (the NVIDIA Virtual GPU Manager version installed on the ESXi
    hosts) are checked with `driver.version` against the catalog's NVAIE table.
    """

    enabled: bool = True
    nvaie_release: NvaieVersion
    host_vgpu_manager: DriverVersion
    driver: DriverImage
    license_feature_type: Literal[1, 2, 4] = Field(default=1, description="gridd.conf FeatureType")
    mig_strategy: Literal["none", "single", "mixed"] = "single"
    time_slicing: TimeSlicing | None = None

    @property
    def nvaie_major(self) -> int:
        """`7.2` -> 7: the guest driver image and the driver branch follow the major release."""
        return int(self.nvaie_release.split(".", 1)[0])


class ClusterSettings(Model):
    """One workload cluster in a Supervisor namespace."""

    name: DnsLabel
    namespace: DnsLabel
    api: Literal["clusterClass", "tanzuKubernetesCluster"] = "clusterClass"
    cluster_class: Name = "tanzukubernetescluster"
    tkr: Tkr
    storage_class: DnsLabel
    control_plane: ControlPlane
    node_pools: list[NodePool] = Field(min_length=1)
    network: ClusterNetwork = Field(default_factory=ClusterNetwork)
    trusted_cas: list[TrustedCa] = Field(default_factory=list[TrustedCa], alias="trustedCAs")
    proxy: Proxy | None = None
    default_registry_secret: RegistrySecret | None = None
    gpu_operator: GpuOperatorSettings | None = None
