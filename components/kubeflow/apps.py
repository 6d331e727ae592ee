"""Kubeflow applications installed from the manifests repository at the pinned tag."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
from components.kubeflow import spawner, stores
from components.kubeflow.base import ComponentArgs, KubeflowComponent


class KubeflowNamespace(KubeflowComponent):
    """The `kubeflow` namespace and the kubeflow-admin/edit/view cluster roles."""

    key = "kubeflowNamespace"
    kind = "KubeflowNamespace"
    summary = "the `kubeflow` namespace and the kubeflow-admin/edit/view roles"
    kustomizations = (catalog.KUBEFLOW_NAMESPACE, catalog.KUBEFLOW_ROLES)


class Profiles(KubeflowComponent):
    """Profile controller and KFAM (access management), with Pod Security Standards on profiles."""

    key = "profiles"
    kind = "Profiles"
    summary = "Profile controller + KFAM"
    needs = ("kubeflowNamespace", "istio")
    kustomizations = (catalog.PROFILES,)


class CentralDashboard(KubeflowComponent):
    """The Central Dashboard, behind oauth2-proxy."""

    key = "centralDashboard"
    kind = "CentralDashboard"
    summary = "the Central Dashboard"
    needs = ("profiles", "oauth2Proxy")
    kustomizations = (catalog.CENTRAL_DASHBOARD,)


class AdmissionWebhook(KubeflowComponent):
    """The PodDefaults admission webhook, with its certificate from cert-manager."""

    key = "admissionWebhook"
    kind = "AdmissionWebhook"
    summary = "the PodDefaults admission webhook"
    needs = ("certManager", "kubeflowNamespace")
    kustomizations = (catalog.ADMISSION_WEBHOOK,)


class Notebooks(KubeflowComponent):
    """Notebook controller and Jupyter web app; with `notebooks` settings, the spawner form and idle culling come
    from the stack (components/kubeflow/spawner.py), in ConfigMaps of the program's that both Deployments read."""

    key = "notebooks"
    kind = "Notebooks"
    summary = "notebook controller + Jupyter web app"
    needs = ("profiles", "admissionWebhook")
    kustomizations = (catalog.NOTEBOOK_CONTROLLER, catalog.JUPYTER_WEB_APP)

    def __init__(self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        if args.notebooks is not None:
            # Before the kustomize directories: the engine applies a stack transform to later registrations only.
            pulumi.runtime.register_resource_transform(spawner.notebook_transform(args.notebooks))
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        if self.args.notebooks is None:
            return
        configs = spawner.NotebookConfigs.of(self.args.notebooks)
        for suffix, config_map, data in (
            ("spawner-config", spawner.SPAWNER_CONFIG_MAP, configs.spawner),
            ("culling", spawner.CULLING_CONFIG_MAP, configs.culling),
        ):
            k8s.core.v1.ConfigMap(
                f"{name}-{suffix}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=config_map, namespace=spawner.KUBEFLOW_NAMESPACE, labels=dict(self.args.labels)
                ),
                data=data,
                opts=self.opts(),
            )


class VolumesWebApp(KubeflowComponent):
    """The volumes (PVC) web app."""

    key = "volumesWebApp"
    kind = "VolumesWebApp"
    summary = "the volumes web app"
    needs = ("kubeflowNamespace", "istio")
    kustomizations = (catalog.VOLUMES_WEB_APP,)


class Tensorboards(KubeflowComponent):
    """Tensorboard controller and web app."""

    key = "tensorboards"
    kind = "Tensorboards"
    summary = "Tensorboard controller + web app"
    needs = ("kubeflowNamespace", "istio")
    kustomizations = (catalog.TENSORBOARD_CONTROLLER, catalog.TENSORBOARDS_WEB_APP)


class PvcViewer(KubeflowComponent):
    """The PVC viewer controller."""

    key = "pvcViewer"
    kind = "PvcViewer"
    summary = "the PVC viewer controller"
    needs = ("certManager", "kubeflowNamespace")
    kustomizations = (catalog.PVC_VIEWER,)


class Pipelines(KubeflowComponent):
    """Kubeflow Pipelines, multi-user, with its MySQL database and SeaweedFS object store, or with external ones
    (`args.stores`, components/kubeflow/stores.py)."""

    key = "pipelines"
    kind = "Pipelines"
    summary = "Kubeflow Pipelines (MySQL, SeaweedFS)"
    needs = ("profiles",)
    kustomizations = (catalog.PIPELINES,)

    def __init__(self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self.external = stores.register_transform(self.key, args.stores)
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        if self.external is not None:
            stores.wiring(self.key, self.external, name, self.args.labels, self.opts())
