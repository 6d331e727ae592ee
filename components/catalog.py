"""Every upstream artifact the platform installs, pinned in one place. Nothing floats."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HelmChart:
    """An official Helm chart at an exact version."""

    name: str
    repository: str
    version: str
    app: str
    """The upstream project, as the README's table names it."""


@dataclass(frozen=True)
class Kustomization:
    """A kustomize directory of the Kubeflow manifests repository at the pinned tag."""

    path: str
    app: str

    @property
    def url(self) -> str:
        """The remote reference kustomize (and pulumi-kubernetes' kustomize.v2) fetches."""
        return f"{MANIFESTS_REPO}/{self.path}?ref={MANIFESTS_TAG}"


MANIFESTS_REPO = "https://github.com/kubeflow/manifests"
MANIFESTS_TAG = "26.03"

GPU_OPERATOR = HelmChart("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v26.3.3", "NVIDIA GPU Operator")
CERT_MANAGER = HelmChart("cert-manager", "https://charts.jetstack.io", "v1.20.2", "cert-manager")
ISTIO_BASE = HelmChart("base", "https://istio-release.storage.googleapis.com/charts", "1.30.3", "Istio (CRDs)")
ISTIOD = HelmChart("istiod", "https://istio-release.storage.googleapis.com/charts", "1.30.3", "Istio (control plane)")
ISTIO_GATEWAY = HelmChart(
    "gateway", "https://istio-release.storage.googleapis.com/charts", "1.30.3", "Istio (ingress gateway)"
)
DEX = HelmChart("dex", "https://charts.dexidp.io", "0.24.0", "Dex")
OAUTH2_PROXY = HelmChart("oauth2-proxy", "https://oauth2-proxy.github.io/manifests", "10.7.0", "oauth2-proxy")

CHARTS: tuple[HelmChart, ...] = (GPU_OPERATOR, CERT_MANAGER, ISTIO_BASE, ISTIOD, ISTIO_GATEWAY, DEX, OAUTH2_PROXY)

CLUSTER_LOCAL_GATEWAY = Kustomization("common/istio/cluster-local-gateway/base", "Istio cluster-local gateway")
KUBEFLOW_ISTIO_RESOURCES = Kustomization("common/istio/kubeflow-istio-resources/base", "Kubeflow Istio resources")
KUBEFLOW_NAMESPACE = Kustomization("common/kubeflow-namespace/base", "Kubeflow namespace")
KUBEFLOW_ROLES = Kustomization("common/kubeflow-roles/base", "Kubeflow roles")
PROFILES = Kustomization("applications/profiles/pss", "Profiles + KFAM (with Pod Security Standards)")
CENTRAL_DASHBOARD = Kustomization("applications/centraldashboard/overlays/oauth2-proxy", "Central Dashboard")
ADMISSION_WEBHOOK = Kustomization(
    "applications/admission-webhook/upstream/overlays/cert-manager", "PodDefaults webhook"
)
NOTEBOOK_CONTROLLER = Kustomization(
    "applications/jupyter/notebook-controller/upstream/overlays/kubeflow", "Notebook controller"
)
JUPYTER_WEB_APP = Kustomization("applications/jupyter/jupyter-web-app/upstream/overlays/istio", "Jupyter web app")
VOLUMES_WEB_APP = Kustomization("applications/volumes-web-app/upstream/overlays/istio", "Volumes web app")
TENSORBOARD_CONTROLLER = Kustomization(
    "applications/tensorboard/tensorboard-controller/upstream/overlays/kubeflow", "Tensorboard controller"
)
TENSORBOARDS_WEB_APP = Kustomization(
    "applications/tensorboard/tensorboards-web-app/upstream/overlays/istio", "Tensorboards web app"
)
PVC_VIEWER = Kustomization("applications/pvcviewer-controller/upstream/base", "PVC viewer controller")
PIPELINES = Kustomization("applications/pipeline/overlays", "Kubeflow Pipelines (MySQL, SeaweedFS object store)")

KUSTOMIZATIONS: tuple[Kustomization, ...] = (
    CLUSTER_LOCAL_GATEWAY,
    KUBEFLOW_ISTIO_RESOURCES,
    KUBEFLOW_NAMESPACE,
    KUBEFLOW_ROLES,
    PROFILES,
    CENTRAL_DASHBOARD,
    ADMISSION_WEBHOOK,
    NOTEBOOK_CONTROLLER,
    JUPYTER_WEB_APP,
    VOLUMES_WEB_APP,
    TENSORBOARD_CONTROLLER,
    TENSORBOARDS_WEB_APP,
    PVC_VIEWER,
    PIPELINES,
)
"""Every kustomize path used; each must be a directory of the manifests at the pinned tag."""
"""All pinned charts, for the README table and the tests that check values against upstream."""
