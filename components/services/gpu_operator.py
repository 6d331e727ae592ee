"""NVIDIA GPU Operator in vGPU mode: licensed guest driver from the NVIDIA AI Enterprise registry.

Tolerations, as chart v26.3.3 applies them: the operator replaces the tolerations of every operand
DaemonSet (driver, container toolkit, device plugin, GPU feature discovery, DCGM exporter, MIG manager,
validator, ...) with the ClusterPolicy's `daemonsets.tolerations` (controllers/object_controls.go,
`applyCommonDaemonsetConfig`), and the NFD subchart's worker takes `node-feature-discovery.worker.tolerations`.
Both lists replace the chart's defaults, so the defaults (`nvidia.com/gpu`; NFD also the control plane)
are kept and every taint the platform puts on a GPU pool is added.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components.catalog import GPU_OPERATOR, NVAIE_RELEASES
from components.charts import helm_chart
from components.labels import pss_labels

NAMESPACE = "gpu-operator"
LICENSING_SECRET = "licensing-config"  # noqa: S105 - a Secret's name
PULL_SECRET = "nvaie-registry"  # noqa: S105 - a Secret's name
TIME_SLICING_CONFIG = "time-slicing-config"
# Driver and toolkit pods load kernel modules and mount host paths: the namespace must allow it.
PRIVILEGED = pss_labels("privileged")


@dataclass(frozen=True, kw_only=True)
class GpuOperatorArgs:
    """Driver image, licensing and GPU sharing for one workload cluster."""

    provider: pulumi.ProviderResource
    driver_registry: str
    driver_repository: str
    driver_image: str
    driver_version: str
    ngc_api_key: pulumi.Input[str]
    nls_client_token: pulumi.Input[str]
    license_feature_type: int = 1
    mig_strategy: str = "single"
    time_slicing_replicas: int | None = None
    gpu_taints: Sequence[Mapping[str, str]] = ()
    """Every taint on the cluster's GPU nodes (GPU and team taints): the operands must tolerate them all."""
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    dcgm_service_monitor: Mapping[str, Any] | None = None
    """The chart's `dcgmExporter.serviceMonitor` when the cluster is observed (components/services/observability.py)."""


GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
"""The chart's default operand toleration (values.yaml `daemonsets.tolerations`)."""
CONTROL_PLANE_TOLERATION = {
    "key": "node-role.kubernetes.io/control-plane",
    "operator": "Equal",
    "value": "",
    "effect": "NoSchedule",
}
"""The NFD worker's other default toleration (values.yaml `node-feature-discovery.worker.tolerations`)."""


def tolerations(taints: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """One `Exists` toleration per taint key and effect, after the chart's default GPU toleration.

    `Exists` on the key tolerates every value, so a new team's pool (`kubeflow-vsphere.io/team=<team>`)
    needs no change to the operator's DaemonSets.
    """
    out = [dict(GPU_TOLERATION)]
    for taint in taints:
        toleration = {"key": taint["key"], "operator": "Exists", "effect": taint.get("effect", "NoSchedule")}
        if toleration not in out:
            out.append(toleration)
    return out


def tolerates(tolerations: Sequence[Mapping[str, str]], taint: Mapping[str, str]) -> bool:
    """Whether a pod with these tolerations may run on a node with this taint (Kubernetes' matching rules)."""
    for t in tolerations:
        effect_ok = not t.get("effect") or t.get("effect") == taint.get("effect")
        if t.get("operator", "Equal") == "Exists":
            key_ok = not t.get("key") or t.get("key") == taint.get("key")
        else:
            key_ok = t.get("key") == taint.get("key") and t.get("value", "") == taint.get("value", "")
        if effect_ok and key_ok:
            return True
    return False


def guest_driver_image(nvaie_major: int) -> str:
    """The guest driver image of an NVAIE release in the catalog's table (settings refuse other releases)."""
    for release in NVAIE_RELEASES:
        if release.major == nvaie_major:
            return release.guest_driver_image
    raise ValueError(f"NVIDIA AI Enterprise {nvaie_major} is not in components/catalog.py NVAIE_RELEASES")


def gpu_operator_values(args: GpuOperatorArgs) -> dict[str, Any]:
    """Chart values: only keys the pinned chart's values.yaml has (a test checks it)."""
    operands = tolerations(args.gpu_taints)
    values: dict[str, Any] = {
        "driver": {
            "repository": args.driver_repository,
            "image": args.driver_image,
            "version": args.driver_version,
            "imagePullSecrets": [PULL_SECRET],
            "licensingConfig": {"secretName": LICENSING_SECRET, "nlsEnabled": True},
        },
        "daemonsets": {"tolerations": operands},
        "node-feature-discovery": {"worker": {"tolerations": [dict(CONTROL_PLANE_TOLERATION), *operands]}},
        "mig": {"strategy": args.mig_strategy},
    }
    if args.dcgm_service_monitor is not None:
        values["dcgmExporter"] = {"serviceMonitor": dict(args.dcgm_service_monitor)}
    if args.mig_strategy == "none":
        # No MIG: the device plugin and GFD must not look for MIG devices, and nothing repartitions GPUs.
        values["migManager"] = {"enabled": False}
    if args.time_slicing_replicas:
        sharing = {
            "version": "v1",
            "sharing": {
                "timeSlicing": {"resources": [{"name": "nvidia.com/gpu", "replicas": args.time_slicing_replicas}]}
            },
        }
        values["devicePlugin"] = {
            "config": {
                "create": True,
                "name": TIME_SLICING_CONFIG,
                "default": "any",
                "data": {"any": yaml.safe_dump(sharing)},
            }
        }
    return values


def docker_config(registry: str, api_key: str) -> str:
    """A dockerconfigjson for NGC-style registries (user `$oauthtoken`, the API key as password)."""
    user = "$oauthtoken"
    auth = base64.b64encode(f"{user}:{api_key}".encode()).decode()
    return json.dumps({"auths": {registry: {"username": user, "password": api_key, "auth": auth}}}, sort_keys=True)


class GpuOperator(pulumi.ComponentResource):
    """Namespace, pull secret, licensing secret and the pinned chart, all through the cluster's provider."""

    chart: k8s.helm.v4.Chart

    def __init__(self, name: str, args: GpuOperatorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:services:GpuOperator", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider)
        labels = dict(args.labels)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=NAMESPACE, labels={**labels, **PRIVILEGED}),
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace])
        registry = args.driver_registry
        dockerconfig: pulumi.Output[str] = pulumi.Output.secret(args.ngc_api_key).apply(
            lambda key: docker_config(registry, key)
        )
        pull = k8s.core.v1.Secret(
            f"{name}-pull-secret",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=PULL_SECRET, namespace=NAMESPACE, labels=labels),
            type="kubernetes.io/dockerconfigjson",
            string_data={".dockerconfigjson": dockerconfig},
            opts=in_namespace,
        )
        licensing = k8s.core.v1.Secret(
            f"{name}-licensing",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=LICENSING_SECRET, namespace=NAMESPACE, labels=labels),
            string_data={
                "gridd.conf": f"FeatureType={args.license_feature_type}\n",
                "client_configuration_token.tok": pulumi.Output.secret(args.nls_client_token),
            },
            opts=in_namespace,
        )
        self.chart = helm_chart(
            f"{name}-chart",
            GPU_OPERATOR,
            namespace=NAMESPACE,
            values=gpu_operator_values(args),
            opts=pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace, pull, licensing]),
        )
        self.register_outputs({})
