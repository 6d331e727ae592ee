"""Kubeflow applications installed from the manifests repository at the pinned tag."""

from __future__ import annotations

from components import catalog
from components.kubeflow.base import KubeflowComponent


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
    """Notebook controller and Jupyter web app."""

    key = "notebooks"
    kind = "Notebooks"
    summary = "notebook controller + Jupyter web app"
    needs = ("profiles", "admissionWebhook")
    kustomizations = (catalog.NOTEBOOK_CONTROLLER, catalog.JUPYTER_WEB_APP)


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
    """Kubeflow Pipelines, multi-user, with its MySQL database and SeaweedFS object store."""

    key = "pipelines"
    kind = "Pipelines"
    summary = "Kubeflow Pipelines (MySQL, SeaweedFS)"
    needs = ("profiles",)
    kustomizations = (catalog.PIPELINES,)
