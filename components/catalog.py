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
    licence: str | None = None
    """Set when the licence is not open source: `kfvs plan` prints it whenever the chart is planned."""

    @property
    def ref(self) -> str:
        """The chart reference Helm takes: the bare name for HTTP repositories, the full URL for OCI."""
        return f"{self.repository}/{self.name}" if self.repository.startswith("oci://") else self.name


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

TRAINER = HelmChart("kubeflow-trainer", "oci://ghcr.io/kubeflow/charts", "2.3.0", "Kubeflow Trainer v2")
_BSL = "Business Source License 1.1 (Seldon Core releases since 2024-01): production use needs a licence from Seldon"
SELDON_CRDS = HelmChart(
    "seldon-core-v2-crds",
    "https://seldonio.github.io/helm-charts",
    "2.10.2",
    "Seldon Core v2 (CRDs)",
    licence=_BSL,
)
SELDON_SETUP = HelmChart(
    "seldon-core-v2-setup",
    "https://seldonio.github.io/helm-charts",
    "2.10.2",
    "Seldon Core v2",
    licence=_BSL,
)
MLRUN_CE = HelmChart("mlrun-ce", "https://mlrun.github.io/ce", "0.6.3", "MLRun CE (with Nuclio)")
NUCLIO = HelmChart("nuclio", "https://nuclio.github.io/nuclio/charts", "0.20.1", "Nuclio")
PACHYDERM = HelmChart(
    "pachyderm",
    "https://helm.pachyderm.com",
    "2.11.6",
    "Pachyderm",
    licence="Pachyderm Community License (source-available, not open source): check its terms before use",
)
EMISSARY_CRDS = HelmChart("emissary-crds-chart", "oci://ghcr.io/emissary-ingress", "4.1.0", "Emissary-ingress (CRDs)")
EMISSARY = HelmChart("emissary-ingress", "oci://ghcr.io/emissary-ingress", "4.1.0", "Emissary-ingress (Ambassador)")

CHARTS: tuple[HelmChart, ...] = (
    GPU_OPERATOR,
    CERT_MANAGER,
    ISTIO_BASE,
    ISTIOD,
    ISTIO_GATEWAY,
    DEX,
    OAUTH2_PROXY,
    TRAINER,
    SELDON_CRDS,
    SELDON_SETUP,
    MLRUN_CE,
    NUCLIO,
    PACHYDERM,
    EMISSARY_CRDS,
    EMISSARY,
)

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

KATIB = Kustomization("applications/katib/upstream/installs/katib-with-kubeflow", "Katib")
TRAINING_OPERATOR = Kustomization("applications/training-operator/upstream/overlays/kubeflow", "Training Operator v1")
KNATIVE_SERVING = Kustomization("common/knative/knative-serving/overlays/gateways", "Knative Serving")
KSERVE = Kustomization("applications/kserve/kserve", "KServe")
MODELS_WEB_APP = Kustomization("applications/kserve/models-web-app/overlays/kubeflow", "KServe models web app")
MODEL_REGISTRY = Kustomization("applications/model-registry/upstream/overlays/db", "Model Registry")
MODEL_REGISTRY_ISTIO = Kustomization("applications/model-registry/upstream/options/istio", "Model Registry (Istio)")
MODEL_REGISTRY_UI = Kustomization("applications/model-registry/upstream/options/ui/overlays/istio", "Model Registry UI")
SPARK_OPERATOR = Kustomization("applications/spark/spark-operator/overlays/kubeflow", "Spark operator")

KUSTOMIZATIONS: tuple[Kustomization, ...] = (
    KATIB,
    TRAINING_OPERATOR,
    KNATIVE_SERVING,
    KSERVE,
    MODELS_WEB_APP,
    MODEL_REGISTRY,
    MODEL_REGISTRY_ISTIO,
    MODEL_REGISTRY_UI,
    SPARK_OPERATOR,
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
