"""Kubeflow applications installed from the manifests repository at the pinned tag."""

from __future__ import annotations

from components import catalog
from components.kubeflow.base import KubeflowComponent


class KubeflowNamespace(KubeflowComponent):
    """The `kubeflow` namespace and the kubeflow-admin/edit/view cluster roles."""

    kind = "KubeflowNamespace"
    kustomizations = (catalog.KUBEFLOW_NAMESPACE, catalog.KUBEFLOW_ROLES)


class Profiles(KubeflowComponent):
    """Profile controller and KFAM (access management), with Pod Security Standards on profiles."""

    kind = "Profiles"
    kustomizations = (catalog.PROFILES,)


class CentralDashboard(KubeflowComponent):
    """The Central Dashboard, behind oauth2-proxy."""

    kind = "CentralDashboard"
    kustomizations = (catalog.CENTRAL_DASHBOARD,)


class AdmissionWebhook(KubeflowComponent):
    """The PodDefaults admission webhook, with its certificate from cert-manager."""

    kind = "AdmissionWebhook"
    kustomizations = (catalog.ADMISSION_WEBHOOK,)


class Notebooks(KubeflowComponent):
    """Notebook controller and Jupyter web app."""

    kind = "Notebooks"
    kustomizations = (catalog.NOTEBOOK_CONTROLLER, catalog.JUPYTER_WEB_APP)


class VolumesWebApp(KubeflowComponent):
    """The volumes (PVC) web app."""

    kind = "VolumesWebApp"
    kustomizations = (catalog.VOLUMES_WEB_APP,)


class Tensorboards(KubeflowComponent):
    """Tensorboard controller and web app."""

    kind = "Tensorboards"
    kustomizations = (catalog.TENSORBOARD_CONTROLLER, catalog.TENSORBOARDS_WEB_APP)


class PvcViewer(KubeflowComponent):
    """The PVC viewer controller."""

    kind = "PvcViewer"
    kustomizations = (catalog.PVC_VIEWER,)


class Pipelines(KubeflowComponent):
    """Kubeflow Pipelines, multi-user, with its MySQL database and SeaweedFS object store."""

    kind = "Pipelines"
    kustomizations = (catalog.PIPELINES,)
