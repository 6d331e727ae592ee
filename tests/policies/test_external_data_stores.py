"""`external-data-stores`: prod's Pipelines, Katib and Model Registry keep no in-cluster database or object store,
judged from the directories installed, the stamped wiring objects and (under the engine) upstream's Deployments."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.kubeflow import stores
from infra.kfvs.recorder import Recording
from policies.guardrails import rules
from tests.policies.cases import CONFIG_MAP, KUSTOMIZE, Case, changed, messages, reg
from tests.policies.conftest import Judge

POLICY = "external-data-stores"
MANIFESTS = "https://github.com/kubeflow/manifests"
PIPELINES = f"{MANIFESTS}/applications/pipeline/overlays?ref=26.03"
KATIB = f"{MANIFESTS}/applications/katib/upstream/installs/katib-with-kubeflow?ref=26.03"
REGISTRY_DB = f"{MANIFESTS}/applications/model-registry/upstream/overlays/db?ref=26.03"
REGISTRY_BASE = f"{MANIFESTS}/applications/model-registry/upstream/base?ref=26.03"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def _directory(name: str, directory: str) -> Any:
    return reg(KUSTOMIZE, name, {"directory": directory})


def _stamp(component: str, **stamped: str) -> Any:
    metadata = {
        "name": f"{component}-external-stores",
        "namespace": "kubeflow",
        "annotations": {rules.STORES_ANNOTATION: json.dumps({"component": component, **stamped})},
    }
    return reg(CONFIG_MAP, f"{component}-stamp", {"metadata": metadata, "data": {}})


def _deployment(name: str, replicas: int | None = None, namespace: str = "kubeflow") -> Any:
    spec: dict[str, Any] = {} if replicas is None else {"replicas": replicas}
    return reg(DEPLOYMENT, f"deploy-{name}", {"metadata": {"name": name, "namespace": namespace}, "spec": spec})


EXTERNAL = (
    _directory("pipelines", PIPELINES),
    _directory("katib", KATIB),
    _directory("model-registry", REGISTRY_BASE),
    _stamp("pipelines", database="db:3306", objectStore="https://s3:443/kf"),
    _stamp("katib", database="db:3306"),
)


def _msg(component: str, store: str, directory: str) -> str:
    return rules.IN_CLUSTER_STORE.format(component=component, store=store, directory=directory)


CASES = [
    Case("every store external", changed(*EXTERNAL)),
    Case(
        "Pipelines without any wiring",
        changed(_directory("pipelines", PIPELINES)),
        [_msg("pipelines", "MySQL database", PIPELINES), _msg("pipelines", "object store", PIPELINES)],
    ),
    Case(
        "Pipelines with only its database external",
        changed(*EXTERNAL, _stamp("pipelines", database="db:3306")),
        [_msg("pipelines", "object store", PIPELINES)],
    ),
    Case(
        "a stamp outside the kubeflow namespace does not count",
        changed(
            *EXTERNAL[:-1],
            reg(
                CONFIG_MAP,
                "katib-stamp",
                {
                    "metadata": {
                        "namespace": "team-a",
                        "annotations": {
                            rules.STORES_ANNOTATION: json.dumps({"component": "katib", "database": "db:3306"})
                        },
                    }
                },
            ),
        ),
        [_msg("katib", "MySQL database", KATIB)],
    ),
    Case(
        "Model Registry's db overlay is its database",
        changed(*EXTERNAL, _directory("model-registry", REGISTRY_DB)),
        [_msg("modelRegistry", "MySQL database", REGISTRY_DB)],
    ),
    Case(
        "an in-cluster MySQL the engine registers, still running",
        changed(*EXTERNAL, _deployment("katib-mysql")),
        [
            rules.IN_CLUSTER_STORE_RUNS.format(
                name="katib-mysql", component="katib", store="MySQL database", replicas="1"
            )
        ],
    ),
    Case(
        "SeaweedFS with two replicas",
        changed(*EXTERNAL, _deployment("seaweedfs", 2)),
        [
            rules.IN_CLUSTER_STORE_RUNS.format(
                name="seaweedfs", component="pipelines", store="object store", replicas="2"
            )
        ],
    ),
    Case("scaled to zero by the wiring", changed(*EXTERNAL, _deployment("mysql", 0), _deployment("seaweedfs", 0))),
    Case("a team's own mysql is not upstream's", changed(*EXTERNAL, _deployment("mysql", 1, namespace="team-a"))),
    Case(
        "not enforced in dev",
        Recording("kubeflow-vsphere", "dev", changed(_directory("pipelines", PIPELINES)).resources),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages


def test_the_pack_reads_the_stamp_the_components_write() -> None:
    assert rules.STORES_ANNOTATION == stores.STORES_ANNOTATION
    assert set(rules._STORE_DEPLOYMENTS) == {d for per in stores.IN_CLUSTER_DEPLOYMENTS.values() for d in per.values()}
