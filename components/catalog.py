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
    namespace: str | None = None
    """For directories whose objects carry no namespace (upstream applies them with `kubectl apply -n`)."""

    @property
    def url(self) -> str:
        """The remote reference kustomize (and pulumi-kubernetes' kustomize.v2) fetches."""
        return f"{MANIFESTS_REPO}/{self.path}?ref={MANIFESTS_TAG}"


MANIFESTS_REPO = "https://github.com/kubeflow/manifests"
MANIFESTS_TAG = "26.03"

GPU_OPERATOR = HelmChart("gpu-operator", "https://helm.ngc.nvidia.com/nvidia", "v26.3.3", "NVIDIA GPU Operator")
KUBE_PROMETHEUS_STACK = HelmChart(
    "kube-prometheus-stack",
    "https://prometheus-community.github.io/helm-charts",
    "88.5.3",
    "kube-prometheus-stack (Prometheus Operator 0.93.1, Grafana chart 12.11.1, kube-state-metrics 2.20.0)",
)


@dataclass(frozen=True)
class NvaieRelease:
    """One NVIDIA AI Enterprise major release: the vGPU software line and driver branch it ships.

    The guest driver in the VMs and the NVIDIA Virtual GPU Manager on the ESXi hosts must both come
    from `branch`; the guest driver image is `vgpu-guest-driver-<major>` in `VGPU_GUEST_DRIVER_REPOSITORY`.
    """

    major: int
    vgpu_software: int
    """The NVIDIA vGPU software major release (16.x, 17.x, ...) the NVAIE release carries."""
    branch: int
    """The driver branch (R550 -> 550): the first field of every guest driver and vGPU Manager version."""
    source: str
    """NVIDIA's document (URL and section) the row is taken from."""

    @property
    def guest_driver_image(self) -> str:
        """The image name NVIDIA publishes the prebuilt guest driver under for this release."""
        return f"vgpu-guest-driver-{self.major}"


VGPU_GUEST_DRIVER_REPOSITORY = "nvcr.io/nvidia/vgpu"
"""Where NVIDIA AI Enterprise publishes `vgpu-guest-driver-<NVAIE major>` (private: needs an NGC key)."""

NVAIE_RELEASES: tuple[NvaieRelease, ...] = (
    NvaieRelease(
        4,
        16,
        535,
        "https://docs.nvidia.com/ai-enterprise/release-4/4.10/index.html, 'What is New in NVIDIA AI Enterprise Infra "
        "4.10' (R535 production branch; NVIDIA vGPU Software 16.14, Virtual GPU Manager and guest driver)",
    ),
    NvaieRelease(
        5,
        17,
        550,
        "https://docs.nvidia.com/ai-enterprise/release-5/5.3/overview/release-notes.html, '5.3 Release', table "
        "'Supported Product Documentation' (Data Center Driver 550.144.02; NVIDIA vGPU C-Series Host and Guest 17.5)",
    ),
    NvaieRelease(
        6,
        18,
        570,
        "https://docs.nvidia.com/ai-enterprise/release-6/6.7/overview/release-notes.html, 'NVIDIA AI Enterprise 6.x "
        "Release Notes', 'Supported Infrastructure Software' (NVIDIA vGPU 18.x, R570 branch)",
    ),
    NvaieRelease(
        7,
        19,
        580,
        "https://docs.nvidia.com/vgpu/latest/ (NVIDIA Virtual GPU Software Latest Release, v19.0 through 19.4, R580 "
        "branch) and https://docs.nvidia.com/ai-enterprise/release-7/latest/overview/release-notes.html "
        "'Supported Infrastructure Software' (NVIDIA vGPU 19.x)",
    ),
)
"""The one NVAIE compatibility table: config naming another release, or a driver off its branch, is refused."""

# cert-manager, Istio (with CNI) and Trainer come from the manifests at MANIFESTS_TAG (the kustomize section below),
# so they are the versions 26.03 tested together: cert-manager 1.19.4, Trainer 2.1.0, and Istio 1.28.0 (the images
# `common/istio` carries at 26.03, cluster-local gateway included; the manifests' README table says 1.29.0).
# Dex and oauth2-proxy stay charts (upstream's kustomize ships a default login and literal client and cookie
# secrets); their release names are the Service names upstream routes to, and their images are the 26.03 tested ones.
DEX = HelmChart("dex", "https://charts.dexidp.io", "0.24.0", "Dex 2.45.0 (26.03's image)")
DEX_IMAGE_TAG = "v2.45.0"
"""26.03 tests Dex 2.45.0; chart 0.24.0 defaults to 2.44.0 and only its image tag is moved."""
OAUTH2_PROXY = HelmChart(
    "oauth2-proxy", "https://oauth2-proxy.github.io/manifests", "10.7.0", "oauth2-proxy 7.14.3 (26.03's image)"
)
OAUTH2_PROXY_IMAGE_TAG = "v7.14.3"
"""26.03 tests oauth2-proxy 7.14.3; chart 10.7.0 defaults to 7.15.3 and only its image tag is moved."""

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
SELDON_RUNTIME = HelmChart(
    "seldon-core-v2-runtime",
    "https://seldonio.github.io/helm-charts",
    "2.10.2",
    "Seldon Core v2 (runtime: scheduler, envoy, gateways)",
    licence=_BSL,
)
SELDON_SERVERS = HelmChart(
    "seldon-core-v2-servers",
    "https://seldonio.github.io/helm-charts",
    "2.10.2",
    "Seldon Core v2 (servers: MLServer, Triton)",
    licence=_BSL,
)
MLRUN_CE = HelmChart("mlrun-ce", "https://mlrun.github.io/ce", "0.6.3", "MLRun CE (with Nuclio)")
NUCLIO = HelmChart("nuclio", "https://nuclio.github.io/nuclio/charts", "0.20.1", "Nuclio")
EMISSARY_CRDS = HelmChart("emissary-crds-chart", "oci://ghcr.io/emissary-ingress", "4.1.0", "Emissary-ingress (CRDs)")
EMISSARY = HelmChart("emissary-ingress", "oci://ghcr.io/emissary-ingress", "4.1.0", "Emissary-ingress (Ambassador)")

CHARTS: tuple[HelmChart, ...] = (
    GPU_OPERATOR,
    KUBE_PROMETHEUS_STACK,
    DEX,
    OAUTH2_PROXY,
    SELDON_CRDS,
    SELDON_SETUP,
    SELDON_RUNTIME,
    SELDON_SERVERS,
    MLRUN_CE,
    NUCLIO,
    EMISSARY_CRDS,
    EMISSARY,
)

CERT_MANAGER = Kustomization("common/cert-manager/base", "cert-manager 1.19.4")
ISTIO_CRDS = Kustomization("common/istio/istio-crds/base", "Istio 1.28.0 CRDs")
ISTIO_NAMESPACE = Kustomization("common/istio/istio-namespace/base", "Istio namespace")
ISTIO_INSTALL = Kustomization(
    "common/istio/istio-install/overlays/oauth2-proxy", "Istio 1.28.0 with CNI, ingress gateway, ext-authz"
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


@dataclass(frozen=True)
class NotebookImage:
    """A notebook server image the Jupyter web app offers, pinned by tag."""

    name: str
    group: str
    """The spawner's image group: `image` (Jupyter), `imageGroupOne` (VS Code-like), `imageGroupTwo` (RStudio)."""
    cuda: bool = False
    """Built with CUDA: useful only on a GPU pool."""

    @property
    def ref(self) -> str:
        return f"{NOTEBOOK_SERVERS_REPOSITORY}/{self.name}:{NOTEBOOK_SERVERS_TAG}"


NOTEBOOK_SERVERS_REPOSITORY = "ghcr.io/kubeflow/kubeflow/notebook-servers"
NOTEBOOK_SERVERS_TAG = "v1.10.0"
"""The images 26.03's Jupyter web app config offers (`applications/jupyter/jupyter-web-app/upstream/base/configs/
spawner_ui_config.yaml`), at the tag it names. Its Intel Gaudi image is left out: the platform has NVIDIA GPUs only."""
NOTEBOOK_IMAGES: tuple[NotebookImage, ...] = (
    NotebookImage("jupyter-scipy", "image"),
    NotebookImage("jupyter-pytorch-full", "image"),
    NotebookImage("jupyter-pytorch-cuda-full", "image", cuda=True),
    NotebookImage("jupyter-tensorflow-full", "image"),
    NotebookImage("jupyter-tensorflow-cuda-full", "image", cuda=True),
    NotebookImage("codeserver-python", "imageGroupOne"),
    NotebookImage("rstudio-tidyverse", "imageGroupTwo"),
)
"""The first image of each group is the spawner's default for it."""
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
MODEL_REGISTRY = Kustomization("applications/model-registry/upstream/overlays/db", "Model Registry", "kubeflow")
MODEL_REGISTRY_EXTERNAL_DB = Kustomization(
    "applications/model-registry/upstream/base", "Model Registry (external database)", "kubeflow"
)
"""`overlays/db` without its database: what ModelRegistry installs instead when its database is external
(components/kubeflow/stores.py); an alternative of MODEL_REGISTRY, so not in KUSTOMIZATIONS."""
MODEL_REGISTRY_ISTIO = Kustomization(
    "applications/model-registry/upstream/options/istio", "Model Registry (Istio)", "kubeflow"
)
MODEL_REGISTRY_UI = Kustomization("applications/model-registry/upstream/options/ui/overlays/istio", "Model Registry UI")
SPARK_OPERATOR = Kustomization("applications/spark/spark-operator/overlays/kubeflow", "Spark operator")
TRAINER = Kustomization(
    "applications/trainer/overlays", "Kubeflow Trainer v2.1.0 (JobSet, runtimes, kubeflow-trainer roles)"
)

KUSTOMIZATIONS: tuple[Kustomization, ...] = (
    CERT_MANAGER,
    ISTIO_CRDS,
    ISTIO_NAMESPACE,
    ISTIO_INSTALL,
    TRAINER,
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
