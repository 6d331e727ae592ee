"""Training, tuning, serving, model registry and Spark on Kubeflow."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
from components.kubeflow.base import ComponentArgs, KubeflowComponent

TRAINER_RUNTIMES = ("torch", "deepspeed", "xgboost", "jax", "mlx")
"""Trainer v2 runtimes the chart can install (its `runtimes.<name>Distributed.enabled`)."""


class Katib(KubeflowComponent):
    """Hyperparameter tuning (Katib, integrated with Kubeflow profiles)."""

    kind = "Katib"
    kustomizations = (catalog.KATIB,)


class TrainingOperator(KubeflowComponent):
    """Training Operator v1: TFJob (distributed TensorFlow), PyTorchJob, MPIJob, XGBoostJob, PaddleJob, JAXJob."""

    kind = "TrainingOperator"
    kustomizations = (catalog.TRAINING_OPERATOR,)


def trainer_values(runtimes: Sequence[str]) -> dict[str, Any]:
    """Install the chosen ClusterTrainingRuntimes with the controller."""
    return {"runtimes": {f"{r}Distributed": {"enabled": True} for r in runtimes}}


class Trainer(KubeflowComponent):
    """Kubeflow Trainer v2 (TrainJob) from its OCI chart, with the runtimes asked for."""

    kind = "Trainer"

    def __init__(
        self, name: str, args: ComponentArgs, runtimes: Sequence[str], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.runtimes = list(runtimes)
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        self.chart(f"{name}-chart", catalog.TRAINER, "kubeflow-system", trainer_values(self.runtimes))


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
