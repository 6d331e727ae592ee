"""Training, tuning, serving and the integrations: the sandbox plan holds them all, pinned and ordered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog import CHARTS
from components.kubeflow.dependencies import missing_prerequisites, requirements
from components.mirror import RegistryMirror
from infra.kfvs.render import licence_notices, text
from infra.kfvs.run import plan_stack
from tests.conftest import stack_problems
from tests.reference import unknown_values_keys

WORKLOADS = {"Katib", "TrainingOperator", "Trainer", "Knative", "KServe", "ModelRegistry", "SparkOperator"}
ADDONS = {"SeldonCore", "MLRun", "Nuclio", "Pachyderm", "Emissary"}


@pytest.fixture(scope="module")
def sandbox() -> dict[str, Any]:
    return plan_stack("sandbox", policies=True)


def _kinds(plan: dict[str, Any]) -> set[str]:
    return {
        r["type"].rsplit(":", 1)[-1] for r in plan["resources"] if r["type"].startswith("kubeflow-vsphere:kubeflow:")
    }


def test_sandbox_holds_every_component_and_addon_and_passes_the_packs(sandbox: dict[str, Any]) -> None:
    assert _kinds(sandbox) >= WORKLOADS | ADDONS
    assert sandbox["policies"] == []


def test_addons_are_off_by_default() -> None:
    assert not ADDONS & _kinds(plan_stack("dev"))


def test_every_chart_is_pinned_with_reference_values_keys(sandbox: dict[str, Any]) -> None:
    pinned = {(c.ref, c.version) for c in CHARTS}
    charts = [r for r in sandbox["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"]
    names = {c["inputs"]["chart"].rsplit("/", 1)[-1] for c in charts}
    assert names >= {"kubeflow-trainer", "seldon-core-v2-setup", "pachyderm", "mlrun-ce", "nuclio", "emissary-ingress"}
    for chart in charts:
        assert (chart["inputs"]["chart"], chart["inputs"]["version"]) in pinned
        name = chart["inputs"]["chart"].rsplit("/", 1)[-1]
        assert unknown_values_keys(name, chart["inputs"]["version"], chart["inputs"].get("values")) == [], name


def test_trainer_runtimes_follow_the_config(sandbox: dict[str, Any]) -> None:
    trainer = next(r for r in sandbox["resources"] if r["inputs"].get("chart", "").endswith("/kubeflow-trainer"))
    assert trainer["inputs"]["chart"] == "oci://ghcr.io/kubeflow/charts/kubeflow-trainer"
    assert "repositoryOpts" not in trainer["inputs"]
    runtimes = trainer["inputs"]["values"]["runtimes"]
    assert runtimes == {
        n: {"enabled": True} for n in ("torchDistributed", "deepspeedDistributed", "xgboostDistributed")
    }


def test_kserve_waits_for_knative_and_cert_manager(sandbox: dict[str, Any]) -> None:
    by_urn = {r["urn"]: r for r in sandbox["resources"]}
    kserve = [r for r in sandbox["resources"] if "kubeflow:KServe$" in r["urn"]]
    waited = {
        by_urn[d]["parent"].rsplit("::", 1)[-1].removeprefix("kubeflow-sandbox-kubeflow-")
        for r in kserve
        for d in r["dependencies"]
        if d in by_urn
    }
    assert waited == {"cert-manager", "istio", "knative"}
    assert requirements("kserve", raw_serving=True) == ("certManager", "istio")


def test_raw_deployment_mode_serves_without_knative(project: Path) -> None:
    path = project / "stacks/Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    document["config"]["kubeflow-vsphere:kubeflow"]["serving"] = {"rawDeployment": True}
    document["config"]["kubeflow-vsphere:kubeflow"]["components"] = {"knative": False}
    path.write_text(yaml.safe_dump(document))
    plan = plan_stack("dev", project)
    assert "Knative" not in _kinds(plan)
    patch = next(r for r in plan["resources"] if r["type"] == "kubernetes:core/v1:ConfigMapPatch")
    assert patch["inputs"]["data"] == {"deploy": '{"defaultDeploymentMode": "RawDeployment"}'}
    assert missing_prerequisites(["kserve", "certManager", "istio"])["kserve"] == ["knative"]
    assert "kserve" not in missing_prerequisites(["kserve", "certManager", "istio"], raw_serving=True)


@pytest.mark.parametrize(
    ("framework", "says"), [("mxnet", "MXNet (MXJob) was retired"), ("chainer", "Chainer (ChainerJob) was retired")]
)
def test_retired_frameworks_are_config_errors(project: Path, framework: str, says: str) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:kubeflow"]["training"] = {"frameworks": ["pytorch", framework]}

    message = stack_problems(project, edit)["kubeflow-vsphere:kubeflow.training"]
    assert says in message
    assert "use PyTorchJob or Trainer v2" in message


def test_licence_notices_are_printed_when_enabled(sandbox: dict[str, Any]) -> None:
    notices = licence_notices(sandbox["resources"])
    assert any(n.startswith("Seldon Core v2 2.10.2: Business Source License 1.1") for n in notices)
    assert any(n.startswith("Pachyderm 2.11.6: Pachyderm Community License") for n in notices)
    assert "Licence notices:" in text(sandbox)
    assert licence_notices(plan_stack("dev")["resources"]) == []


def test_mirror_moves_split_registry_values() -> None:
    mirror = RegistryMirror("harbor.example.internal/proxy", "https://git.example.internal/m")
    values = mirror.chart(
        {
            "chart": "oci://ghcr.io/kubeflow/charts/kubeflow-trainer",
            "values": {
                "image": {
                    "registry": "ghcr.io",
                    "repository": "kubeflow/trainer/trainer-controller-manager",
                    "tag": "v2.3.0",
                }
            },
        }
    )
    assert values["chart"] == "oci://harbor.example.internal/proxy/charts/kubeflow-trainer"
    assert values["values"]["image"] == {
        "registry": "harbor.example.internal/proxy/ghcr.io",
        "repository": "kubeflow/trainer/trainer-controller-manager",
        "tag": "v2.3.0",
    }


def test_unknown_framework_is_a_config_error(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:kubeflow"]["training"] = {"frameworks": ["caffe"]}

    assert "unknown framework 'caffe'" in stack_problems(project, edit)["kubeflow-vsphere:kubeflow.training"]
