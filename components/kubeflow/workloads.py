"""Training, tuning, serving, model registry and Spark on Kubeflow."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
from components.catalog import Kustomization
from components.kubeflow import stores
from components.kubeflow.base import ComponentArgs, KubeflowComponent

TRAINER_RUNTIMES = (
    "torch-distributed",
    "deepspeed-distributed",
    "mlx-distributed",
    "torchtune-llama3.2-1b",
    "torchtune-llama3.2-3b",
    "torchtune-qwen2.5-1.5b",
)
"""The ClusterTrainingRuntimes 26.03's `applications/trainer/overlays` installs (Trainer v2.1.0)."""


class Katib(KubeflowComponent):
    """Hyperparameter tuning (Katib, integrated with Kubeflow profiles)."""

    key = "katib"
    kind = "Katib"
    summary = "Katib"
    needs = ("kubeflowNamespace", "certManager", "istio")
    kustomizations = (catalog.KATIB,)

    def __init__(self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # katib-with-kubeflow includes components/mysql: its database is pointed elsewhere (stores.py).
        self.external = stores.register_transform(self.key, args.stores)
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        if self.external is not None:
            stores.wiring(self.key, self.external, name, self.args.labels, self.opts())


class TrainingOperator(KubeflowComponent):
    """Training Operator v1: TFJob (distributed TensorFlow), PyTorchJob, MPIJob, XGBoostJob, PaddleJob, JAXJob."""

    key = "trainingOperator"
    kind = "TrainingOperator"
    summary = "Training Operator v1"
    needs = ("kubeflowNamespace",)
    kustomizations = (catalog.TRAINING_OPERATOR,)


class Trainer(KubeflowComponent):
    """Kubeflow Trainer v2 (TrainJob) as 26.03 installs it, in `kubeflow-system`: controller and JobSet with the
    labels that namespace's NetworkPolicies admit (webhook port 9443), its ClusterTrainingRuntimes as plain
    objects (the Helm chart makes them in a post-install hook, which helm.v4 never runs), and the
    `kubeflow-trainer-{admin,edit,view}` roles that aggregate into `kubeflow-edit`, so teams may create TrainJobs."""

    key = "trainer"
    kind = "Trainer"
    summary = "Trainer v2 (JobSet, runtimes, kubeflow-trainer roles)"
    needs = ("kubeflowNamespace",)
    kustomizations = (catalog.TRAINER,)


class Knative(KubeflowComponent):
    """Knative Serving with its Istio gateways (the cluster-local gateway is Istio's)."""

    key = "knative"
    kind = "Knative"
    summary = "Knative Serving"
    needs = ("istio",)
    kustomizations = (catalog.KNATIVE_SERVING,)


RAW_DEPLOYMENT = '{"defaultDeploymentMode": "RawDeployment"}'


class KServe(KubeflowComponent):
    """KServe and the models web app; TensorFlow Serving and Triton come as its ClusterServingRuntimes
    (`kserve-tensorflow-serving`, `kserve-tritonserver`). Raw-deployment mode serves without Knative."""

    key = "kserve"
    kind = "KServe"
    summary = "KServe + models web app"
    needs = ("certManager", "istio", "knative")
    not_needed_with_raw_serving = ("knative",)
    kustomizations = (catalog.KSERVE, catalog.MODELS_WEB_APP)

    def build(self, name: str) -> None:
        if not self.args.raw_serving:
            return
        k8s.core.v1.ConfigMapPatch(
            f"{name}-raw-deployment",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name="inferenceservice-config", namespace="kubeflow", annotations={"pulumi.com/patchForce": "true"}
            ),
            data={"deploy": RAW_DEPLOYMENT},
            opts=self.opts(),
        )


class ModelRegistry(KubeflowComponent):
    """Model Registry with its database, Istio routing and UI."""

    key = "modelRegistry"
    kind = "ModelRegistry"
    summary = "Model Registry (database, Istio routing, UI)"
    needs = ("kubeflowNamespace", "istio")
    kustomizations = (catalog.MODEL_REGISTRY, catalog.MODEL_REGISTRY_ISTIO, catalog.MODEL_REGISTRY_UI)

    def __init__(self, name: str, args: ComponentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        self.external = stores.register_transform(self.key, args.stores)
        super().__init__(name, args, opts)

    def installed_kustomizations(self) -> tuple[Kustomization, ...]:
        """With an external database, upstream's `base` (the db overlay without its database), under the same
        resource name as the db overlay's Directory so its URN does not change."""
        if self.external is None or self.external.database is None:
            return self.kustomizations
        return tuple(k for k in self.kustomizations if k is not catalog.MODEL_REGISTRY)

    def build(self, name: str) -> None:
        if self.external is None or self.external.database is None:
            return
        made = stores.wiring(self.key, self.external, name, self.args.labels, self.opts())
        k = catalog.MODEL_REGISTRY_EXTERNAL_DB
        self.artifacts.append(k.url)
        k8s.kustomize.v2.Directory(
            f"{name}-{catalog.MODEL_REGISTRY.path.replace('/', '-')}",
            directory=k.url,
            namespace=k.namespace,
            opts=self.opts(*made),
        )


class SparkOperator(KubeflowComponent):
    """The Kubeflow Spark operator."""

    key = "sparkOperator"
    kind = "SparkOperator"
    summary = "the Spark operator"
    needs = ("kubeflowNamespace",)
    kustomizations = (catalog.SPARK_OPERATOR,)
