"""Integrations the platform's brief names, each opt-in and pinned to its official chart."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
from components.kubeflow.base import KubeflowComponent

KFP_API = "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
"""The platform's Pipelines API (the `ml-pipeline` Service of `applications/pipeline`)."""


class SeldonCore(KubeflowComponent):
    """Seldon Core v2: CRDs, the controller (setup), then a SeldonRuntime (scheduler, envoy, gateways) and the
    MLServer and Triton Servers in `seldon-mesh`: without the last two, models have nowhere to run.
    BSL 1.1 since 2024-01: opt-in, licence stated."""

    key = "seldonCore"
    kind = "SeldonCore"
    summary = "Seldon Core v2 (BSL 1.1)"
    enabled_by_default = False
    extra_artifacts = (catalog.SELDON_CRDS, catalog.SELDON_SETUP, catalog.SELDON_RUNTIME, catalog.SELDON_SERVERS)

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "seldon-mesh", "baseline")
        crds = self.chart(f"{name}-crds", catalog.SELDON_CRDS, "seldon-mesh", {}, ns)
        setup = self.chart(
            f"{name}-setup", catalog.SELDON_SETUP, "seldon-mesh", {"controller": {"clusterwide": True}}, crds
        )
        runtime = self.chart(f"{name}-runtime", catalog.SELDON_RUNTIME, "seldon-mesh", seldon_runtime_values(), setup)
        self.chart(f"{name}-servers", catalog.SELDON_SERVERS, "seldon-mesh", {}, runtime)


def seldon_runtime_values() -> dict[str, Any]:
    """The scheduler and the inference envoy stay inside the cluster (the chart's default is a LoadBalancer each,
    an unauthenticated endpoint on the site network); reach them through the mesh or a gateway route."""
    return {"scheduler": {"serviceType": "ClusterIP"}, "envoy": {"serviceType": "ClusterIP"}}


def mlrun_values(enabled: Collection[str]) -> dict[str, Any]:
    """MLRun CE bundles Pipelines, the Spark operator, an MPI operator and Nuclio, with the CRDs the platform's own
    Pipelines, Spark operator, Training Operator (`mpijobs.kubeflow.org`) and Nuclio install: each bundled copy
    that the platform also runs is switched off, so every CRD has one owner."""
    values: dict[str, Any] = {}
    if "pipelines" in enabled:
        values["pipelines"] = {"enabled": False}
    if "sparkOperator" in enabled:
        values["spark-operator"] = {"enabled": False}
    if "trainingOperator" in enabled:
        values["mpi-operator"] = {
            "crd": {"create": False},
            "deployment": {"create": False},
            "rbac": {"clusterResources": {"create": False}, "namespaced": {"create": False}},
        }
    if "nuclio" in enabled:
        # The bundled Nuclio cannot be left out (no condition in the chart); it watches its own namespace only,
        # on the CRDs of the platform's Nuclio.
        values["nuclio"] = {"crd": {"create": False}}
    return values


def mlrun_environment(enabled: Collection[str]) -> dict[str, str]:
    """What MLRun's API reads from `mlrun-override-env` to use the platform's Pipelines and Spark operator."""
    env: dict[str, str] = {}
    if "pipelines" in enabled:
        env["MLRUN_KFP_URL"] = KFP_API
    if "sparkOperator" in enabled:
        env["MLRUN_SPARK_OPERATOR_VERSION"] = "spark-3"
    return env


class MLRun(KubeflowComponent):
    """MLRun CE (serving graphs, with Nuclio bundled), on the platform's Pipelines, Spark operator, training
    operator and Nuclio where those are enabled (see `mlrun_values`)."""

    key = "mlrun"
    kind = "MLRun"
    summary = "MLRun CE"
    waits_for_if_enabled = ("nuclio", "pipelines", "sparkOperator", "trainingOperator")
    """It uses their CRDs instead of installing its bundled copies (`mlrun_values`)."""
    enabled_by_default = False
    extra_artifacts = (catalog.MLRUN_CE,)

    def build(self, name: str) -> None:
        enabled = set(self.args.enabled)
        ns = self.namespace(f"{name}-namespace", "mlrun", "baseline")
        after: list[pulumi.Resource] = [ns]
        env = mlrun_environment(enabled)
        if env:
            after.append(
                k8s.core.v1.ConfigMap(
                    f"{name}-override-env",
                    metadata=k8s.meta.v1.ObjectMetaArgs(
                        name="mlrun-override-env", namespace="mlrun", labels=dict(self.args.labels)
                    ),
                    data=env,
                    opts=self.opts(ns),
                )
            )
        self.chart(f"{name}-chart", catalog.MLRUN_CE, "mlrun", mlrun_values(enabled), *after)


def nuclio_values() -> dict[str, Any]:
    """Build functions with kaniko: the chart's default `docker` builder mounts the node's docker socket by
    hostPath, which the namespace's `baseline` level refuses (and containerd nodes have no docker socket)."""
    return {"dashboard": {"containerBuilderKind": "kaniko", "monitorDockerDeamon": {"enabled": False}}}


class Nuclio(KubeflowComponent):
    """Nuclio serverless functions on their own (MLRun bundles its own)."""

    key = "nuclio"
    kind = "Nuclio"
    summary = "Nuclio"
    enabled_by_default = False
    extra_artifacts = (catalog.NUCLIO,)

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "nuclio", "baseline")
        self.chart(f"{name}-chart", catalog.NUCLIO, "nuclio", nuclio_values(), ns)


class Emissary(KubeflowComponent):
    """Emissary-ingress (Ambassador) as an additional API gateway; CRDs chart first."""

    key = "emissary"
    kind = "Emissary"
    summary = "Emissary-ingress"
    enabled_by_default = False
    extra_artifacts = (catalog.EMISSARY_CRDS, catalog.EMISSARY)

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "emissary", "baseline")
        crds = self.chart(f"{name}-crds", catalog.EMISSARY_CRDS, "emissary-system", {}, ns)
        self.chart(f"{name}-chart", catalog.EMISSARY, "emissary", {}, crds)
