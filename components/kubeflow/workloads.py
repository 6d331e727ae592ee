"""Training, tuning, serving, model registry and Spark on Kubeflow."""

from __future__ import annotations

import pulumi_kubernetes as k8s

from components import catalog
from components.kubeflow.base import KubeflowComponent

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


class SparkOperator(KubeflowComponent):
    """The Kubeflow Spark operator."""

    key = "sparkOperator"
    kind = "SparkOperator"
    summary = "the Spark operator"
    needs = ("kubeflowNamespace",)
    kustomizations = (catalog.SPARK_OPERATOR,)
