"""Training, tuning, serving, model registry and Spark on Kubeflow."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
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

    kind = "Katib"
    kustomizations = (catalog.KATIB,)


class TrainingOperator(KubeflowComponent):
    """Training Operator v1: TFJob (distributed TensorFlow), PyTorchJob, MPIJob, XGBoostJob, PaddleJob, JAXJob."""

    kind = "TrainingOperator"
    kustomizations = (catalog.TRAINING_OPERATOR,)


class Trainer(KubeflowComponent):
    """Kubeflow Trainer v2 (TrainJob) as 26.03 installs it, in `kubeflow-system`: controller and JobSet with the
    labels that namespace's NetworkPolicies admit (webhook port 9443), its ClusterTrainingRuntimes as plain
    objects (the Helm chart makes them in a post-install hook, which helm.v4 never runs), and the
    `kubeflow-trainer-{admin,edit,view}` roles that aggregate into `kubeflow-edit`, so teams may create TrainJobs."""

    kind = "Trainer"
    kustomizations = (catalog.TRAINER,)


class Knative(KubeflowComponent):
    """Knative Serving with its Istio gateways (the cluster-local gateway is Istio's)."""

    kind = "Knative"
    kustomizations = (catalog.KNATIVE_SERVING,)


RAW_DEPLOYMENT = '{"defaultDeploymentMode": "RawDeployment"}'


class KServe(KubeflowComponent):
    """KServe and the models web app; TensorFlow Serving and Triton come as its ClusterServingRuntimes
    (`kserve-tensorflow-serving`, `kserve-tritonserver`). Raw-deployment mode serves without Knative."""

    kind = "KServe"
    kustomizations = (catalog.KSERVE, catalog.MODELS_WEB_APP)

    def __init__(self, name: str, args: ComponentArgs, raw: bool, opts: pulumi.ResourceOptions | None = None) -> None:
        self.raw = raw
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        if not self.raw:
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

    kind = "ModelRegistry"
    kustomizations = (catalog.MODEL_REGISTRY, catalog.MODEL_REGISTRY_ISTIO, catalog.MODEL_REGISTRY_UI)


class SparkOperator(KubeflowComponent):
    """The Kubeflow Spark operator."""

    kind = "SparkOperator"
    kustomizations = (catalog.SPARK_OPERATOR,)
