"""The Jupyter web app's spawner form and the notebook controller's idle culling, generated from the stack.

Upstream (kubeflow/manifests 26.03, `applications/jupyter/`) ships both as kustomize `configMapGenerator`s: the
web app mounts `jupyter-web-app-config-<hash>` (key `spawner_ui_config.yaml`) at `/etc/config`, and the controller
reads `ENABLE_CULLING`, `CULL_IDLE_TIME` and `IDLENESS_CHECK_PERIOD` (minutes) from `notebook-controller-config-
<hash>` through `configMapKeyRef`s, with culling off. Here the program owns one ConfigMap for each (so the plan
and its diff show what the form offers) and a stack transform points the two Deployments at them, with a hash of
the content on each pod template: a change of either restarts the Deployment that reads it, which a ConfigMap
update alone never does (the controller reads its environment once; the web app's volume is not its trigger).

The spawner config is one document for the whole cluster, so it offers only what every team may use: the
images, the GPU vendor, and one toleration group and one affinity per shared GPU pool. A team's own pool is
reached through the team's PodDefault (components/tenancy.py), which lives in its namespace only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import yaml

from components.labels import GPU_POOL_LABEL, toleration

KUBEFLOW_NAMESPACE = "kubeflow"
WEB_APP_DEPLOYMENT = "jupyter-web-app-deployment"
"""Upstream's names after kustomize (`namePrefix: jupyter-web-app-`, `namespace: kubeflow`)."""
WEB_APP_CONFIG_VOLUME = "config-volume"
"""The web app's volume at `/etc/config`; the app reads `spawner_ui_config.yaml` there."""
SPAWNER_CONFIG_MAP = "jupyter-web-app-spawner-config"
SPAWNER_CONFIG_KEY = "spawner_ui_config.yaml"
CONTROLLER_DEPLOYMENT = "notebook-controller-deployment"
"""`namePrefix: notebook-controller-` of the controller's base; the `kubeflow` overlay moves it to `kubeflow`."""
CULLING_CONFIG_MAP = "notebook-controller-culling"
CULLING_KEYS = ("ENABLE_CULLING", "CULL_IDLE_TIME", "IDLENESS_CHECK_PERIOD")
CONFIG_HASH_ANNOTATION = "kubeflow-vsphere.io/config-hash"
"""On a Deployment's pod template: the hash of the ConfigMap it reads, so a change rolls its pods."""
NVIDIA_GPU = "nvidia.com/gpu"
"""The only GPU resource the platform's nodes advertise: vGPU C-series profiles, and MIG with the GPU Operator's
`single` strategy, both count as `nvidia.com/gpu`."""
_DEPLOYMENT = "kubernetes:apps/v1:Deployment"


@dataclass(frozen=True, kw_only=True)
class GpuPoolOffer:
    """One GPU node pool of the Kubeflow cluster as a notebook sees it: what a node carries and how to get there.

    `labels` and `taints` are the ones the pool's nodes get (infra/cluster_specs.py builds both from one place)."""

    pool: str
    vm_class: str
    gpus: int
    """vGPUs on one node (the VM class's vGPU devices): the most one notebook can get there. 0: not known."""
    gpu_model: str | None = None
    """The board, as NVIDIA names it (`A100 40GB`); None when the VM class is not in the settings."""
    vgpu_profiles: Sequence[str] = ()
    time_slices: int = 1
    """Pods sharing each GPU (the GPU Operator's time-slicing replicas): the node advertises `gpus x time_slices`."""
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    taints: Sequence[Mapping[str, str]] = ()
    team: str | None = None
    """The team that owns the pool (its taint keeps everyone else off), or None: every team may use it."""

    @property
    def max_request(self) -> int:
        """The most `nvidia.com/gpu` one notebook can get on a node of this pool (0: not known)."""
        return self.gpus * self.time_slices

    @property
    def selector(self) -> str:
        """The PodDefault's name and the label that selects it (`gpu-<pool>`)."""
        return f"gpu-{self.pool}"

    @property
    def tolerations(self) -> list[dict[str, str]]:
        """Exactly the pool's taints, tolerated."""
        return [toleration(t) for t in self.taints]

    @property
    def description(self) -> str:
        """What the pool is, for the spawner's drop-downs and the PodDefault's `desc`."""
        hardware = f"{self.gpus} x " if self.gpus else ""
        hardware += f"NVIDIA {self.gpu_model}" if self.gpu_model else "GPU"
        if self.vgpu_profiles:
            hardware += f" (vGPU {', '.join(self.vgpu_profiles)})"
        if self.time_slices > 1:
            hardware += f", time-sliced {self.time_slices} ways"
        text = f"GPU pool {self.pool}: {hardware}, VM class {self.vm_class}"
        if self.max_request:
            text += f"; at most {self.max_request} {NVIDIA_GPU} per notebook"
        return text

    def affinity(self) -> dict[str, Any]:
        """Nodes of this pool only, by the pool label its nodes carry."""
        value = self.labels.get(GPU_POOL_LABEL, self.pool)
        term = {"matchExpressions": [{"key": GPU_POOL_LABEL, "operator": "In", "values": [value]}]}
        return {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}}}


@dataclass(frozen=True, kw_only=True)
class Culling:
    """The notebook controller's idle culling; minutes, as the controller reads them."""

    enabled: bool = True
    idle_minutes: int = 1440
    check_period_minutes: int = 1

    def data(self) -> dict[str, str]:
        return {
            "ENABLE_CULLING": "true" if self.enabled else "false",
            "CULL_IDLE_TIME": str(self.idle_minutes),
            "IDLENESS_CHECK_PERIOD": str(self.check_period_minutes),
        }


@dataclass(frozen=True, kw_only=True)
class SpawnerSettings:
    """What the spawner offers and how idle notebooks are culled. Each image list's first entry is its default."""

    images: Sequence[str]
    group_one: Sequence[str]
    group_two: Sequence[str]
    pools: Sequence[GpuPoolOffer] = ()
    """Every GPU pool of the Kubeflow cluster, shared and team-owned."""
    culling: Culling = field(default_factory=Culling)

    @property
    def shared_pools(self) -> list[GpuPoolOffer]:
        return [p for p in self.pools if p.team is None]

    def pools_for(self, team: str) -> list[GpuPoolOffer]:
        return pools_for(self.pools, team)


def pools_for(pools: Sequence[GpuPoolOffer], team: str) -> list[GpuPoolOffer]:
    """The pools `team` may use: its own first (a team file's `gpuNodePool`), then the shared ones."""
    return [p for p in pools if p.team == team] + [p for p in pools if p.team is None]


def _images(options: Sequence[str]) -> dict[str, Any]:
    return {"value": options[0] if options else "", "options": list(options)}


def spawner_config(settings: SpawnerSettings) -> dict[str, Any]:
    """The web app's `spawner_ui_config.yaml`: upstream's keys and defaults at 26.03, with the images, GPU vendor,
    toleration groups and affinities of this cluster."""
    shared = settings.shared_pools
    vendors = [{"limitsKey": NVIDIA_GPU, "uiName": "NVIDIA"}] if settings.pools else []
    return {
        "spawnerFormDefaults": {
            "allowCustomImage": True,
            "hideRegistry": True,
            "hideTag": False,
            "imagePullPolicy": {"readOnly": False, "value": "IfNotPresent"},
            "image": _images(settings.images),
            "imageGroupOne": _images(settings.group_one),
            "imageGroupTwo": _images(settings.group_two),
            "cpu": {"readOnly": False, "value": "0.5", "limitFactor": "1.2"},
            "memory": {"readOnly": False, "value": "1.0Gi", "limitFactor": "1.2"},
            "gpus": {
                # Without GPU pools there is nothing to ask for.
                "readOnly": not settings.pools,
                "value": {"vendor": NVIDIA_GPU if settings.pools else "", "vendors": vendors, "num": "none"},
            },
            "workspaceVolume": {
                "readOnly": False,
                "value": {
                    "mount": "/home/jovyan",
                    "newPvc": {
                        "metadata": {"name": "{notebook-name}-workspace"},
                        "spec": {"resources": {"requests": {"storage": "5Gi"}}, "accessModes": ["ReadWriteOnce"]},
                    },
                },
            },
            "dataVolumes": {"readOnly": False, "value": []},
            "affinityConfig": {
                "readOnly": False,
                "value": "",
                "options": [
                    {"configKey": p.selector, "displayName": p.description, "affinity": p.affinity()} for p in shared
                ],
            },
            "tolerationGroup": {
                "readOnly": False,
                "value": "",
                "options": [
                    {"groupKey": p.selector, "displayName": p.description, "tolerations": p.tolerations} for p in shared
                ],
            },
            "shm": {"readOnly": False, "value": True},
            "configurations": {"readOnly": False, "value": []},
            "environment": {"readOnly": False, "value": {}},
        }
    }


def spawner_config_text(settings: SpawnerSettings) -> str:
    """The config as the file the web app reads (stable key order, so its hash changes only with its content)."""
    return yaml.safe_dump(spawner_config(settings), sort_keys=False, default_flow_style=False)


def content_hash(data: Mapping[str, str]) -> str:
    """A short digest of a ConfigMap's data, for the pod template annotation."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(f"{key}\0{data[key]}\0".encode())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class NotebookConfigs:
    """The data of the two ConfigMaps the program owns, and their hashes."""

    spawner: dict[str, str]
    culling: dict[str, str]

    @classmethod
    def of(cls, settings: SpawnerSettings) -> NotebookConfigs:
        return cls({SPAWNER_CONFIG_KEY: spawner_config_text(settings)}, settings.culling.data())


def _named(props: Mapping[str, Any], name: str) -> bool:
    metadata = props.get("metadata")
    return (
        isinstance(metadata, Mapping)
        and metadata.get("name") == name
        and metadata.get("namespace", KUBEFLOW_NAMESPACE) == KUBEFLOW_NAMESPACE
    )


def _with_hash(template: dict[str, Any], value: str) -> None:
    metadata = dict(template.get("metadata") or {})
    metadata["annotations"] = {**(metadata.get("annotations") or {}), CONFIG_HASH_ANNOTATION: value}
    template["metadata"] = metadata


def _pod(props: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Copies of the Deployment's props, spec and pod template, linked: edit the template, return the props."""
    out = dict(props)
    spec = dict(out.get("spec") or {})
    template = dict(spec.get("template") or {})
    spec["template"] = template
    out["spec"] = spec
    return out, spec, template


def web_app(props: Mapping[str, Any], configs: NotebookConfigs) -> dict[str, Any]:
    """The web app's Deployment reading the program's spawner config, with its hash on the pod template."""
    out, _, template = _pod(props)
    pod = dict(template.get("spec") or {})
    pod["volumes"] = [
        {"name": WEB_APP_CONFIG_VOLUME, "configMap": {"name": SPAWNER_CONFIG_MAP}}
        if isinstance(v, Mapping) and v.get("name") == WEB_APP_CONFIG_VOLUME
        else v
        for v in pod.get("volumes") or []
    ]
    template["spec"] = pod
    _with_hash(template, content_hash(configs.spawner))
    return out


def controller(props: Mapping[str, Any], configs: NotebookConfigs) -> dict[str, Any]:
    """The controller's Deployment reading the culling keys from the program's ConfigMap, with its hash."""
    out, _, template = _pod(props)
    pod = dict(template.get("spec") or {})

    def env(entry: Any) -> Any:
        if isinstance(entry, Mapping) and entry.get("name") in CULLING_KEYS:
            key = str(entry["name"])
            return {"name": key, "valueFrom": {"configMapKeyRef": {"name": CULLING_CONFIG_MAP, "key": key}}}
        return entry

    pod["containers"] = [
        {**c, "env": [env(e) for e in c.get("env") or []]} if isinstance(c, Mapping) else c
        for c in pod.get("containers") or []
    ]
    template["spec"] = pod
    _with_hash(template, content_hash(configs.culling))
    return out


def notebook_transform(
    settings: SpawnerSettings,
) -> Callable[[pulumi.ResourceTransformArgs], pulumi.ResourceTransformResult | None]:
    """The stack transform, registered before the Notebooks component's kustomize directories: it touches only the
    web app's and the controller's Deployments in `kubeflow`."""
    configs = NotebookConfigs.of(settings)

    def point(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        if args.type_ != _DEPLOYMENT:
            return None
        if _named(args.props, WEB_APP_DEPLOYMENT):
            return pulumi.ResourceTransformResult(props=web_app(args.props, configs), opts=args.opts)
        if _named(args.props, CONTROLLER_DEPLOYMENT):
            return pulumi.ResourceTransformResult(props=controller(args.props, configs), opts=args.opts)
        return None

    return point
