"""Training, tuning, serving and the integrations: the sandbox plan holds them all, pinned and ordered."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.catalog import CHARTS, Kustomization
from components.kubeflow import workloads
from components.kubeflow.addons import mlrun_values
from components.kubeflow.dependencies import missing_prerequisites, requirements
from components.kubeflow.registry import COMPONENTS
from components.mirror import RegistryMirror
from infra.kfvs.render import licence_notices, text
from infra.kfvs.run import plan_stack
from tests import examples, yamlio
from tests.conftest import only, stack_problems
from tests.environment_files import edit_stack_config
from tests.reference import REFERENCE, unknown_values_keys

WORKLOADS = {c.kind for c in COMPONENTS if c.__module__ == workloads.__name__}
ADDONS = {c.kind for c in COMPONENTS if not c.enabled_by_default}
CHART = "kubernetes:helm.sh/v4:Chart"


@pytest.fixture(scope="module")
def sandbox() -> dict[str, Any]:
    return examples.plan("sandbox", policies=True)


def _kinds(plan: dict[str, Any]) -> set[str]:
    return {
        r["type"].rsplit(":", 1)[-1] for r in plan["resources"] if r["type"].startswith("kubeflow-vsphere:kubeflow:")
    }


def test_sandbox_holds_every_component_and_addon_and_passes_the_packs(sandbox: dict[str, Any]) -> None:
    assert len(WORKLOADS) == 7
    assert len(ADDONS) == 4
    assert _kinds(sandbox) == {c.kind for c in COMPONENTS} | {"KubeflowPlatform"}
    assert sandbox["policies"] == []


def test_addons_are_off_by_default() -> None:
    assert not ADDONS & _kinds(examples.plan("dev"))


def test_every_chart_is_pinned_with_reference_values_keys(sandbox: dict[str, Any]) -> None:
    pinned = {(c.ref, c.version) for c in CHARTS}
    charts = [r for r in sandbox["resources"] if r["type"] == "kubernetes:helm.sh/v4:Chart"]
    names = {c["inputs"]["chart"].rsplit("/", 1)[-1] for c in charts}
    assert names >= {"seldon-core-v2-setup", "mlrun-ce", "nuclio", "emissary-ingress"}
    for chart in charts:
        assert (chart["inputs"]["chart"], chart["inputs"]["version"]) in pinned
        name = chart["inputs"]["chart"].rsplit("/", 1)[-1]
        assert unknown_values_keys(name, chart["inputs"]["version"], chart["inputs"].get("values")) == [], name


def test_trainer_is_26_03_s_directory_not_the_chart(sandbox: dict[str, Any]) -> None:
    charts = {r["inputs"]["chart"] for r in sandbox["resources"] if r["type"] == CHART}
    assert not any(c.endswith("/kubeflow-trainer") for c in charts)
    trainer = next(r for r in sandbox["resources"] if r["type"] == "kubeflow-vsphere:kubeflow:Trainer")
    children = [r for r in sandbox["resources"] if r["parent"] == trainer["urn"]]
    assert [r["inputs"]["directory"] for r in children] == [
        "https://github.com/kubeflow/manifests/applications/trainer/overlays?ref=26.03"
    ]


def test_choosing_trainer_runtimes_is_refused_with_the_reason(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:kubeflow"]["training"] = {"trainerRuntimes": ["torch"]}

    message = only(stack_problems(project, edit)["kubeflow-vsphere:kubeflow.training.trainerRuntimes"])
    assert "with all of its ClusterTrainingRuntimes" in message
    assert "remove 'trainerRuntimes'" in message


def _child_charts(plan: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    component = next(r for r in plan["resources"] if r["type"] == f"kubeflow-vsphere:kubeflow:{kind}")
    return {
        r["inputs"]["chart"].rsplit("/", 1)[-1]: r
        for r in plan["resources"]
        if r["type"] == CHART and r["parent"] == component["urn"]
    }


def test_seldon_core_serves_models_runtime_and_servers_after_the_controller(sandbox: dict[str, Any]) -> None:
    charts = _child_charts(sandbox, "SeldonCore")
    assert set(charts) == {
        "seldon-core-v2-crds",
        "seldon-core-v2-setup",
        "seldon-core-v2-runtime",
        "seldon-core-v2-servers",
    }
    assert charts["seldon-core-v2-setup"]["urn"] in charts["seldon-core-v2-runtime"]["dependencies"]
    assert charts["seldon-core-v2-runtime"]["urn"] in charts["seldon-core-v2-servers"]["dependencies"]
    runtime = charts["seldon-core-v2-runtime"]["inputs"]["values"]
    assert runtime["envoy"]["serviceType"] == runtime["scheduler"]["serviceType"] == "ClusterIP"


def test_nuclio_builds_with_kaniko_not_the_docker_socket(sandbox: dict[str, Any]) -> None:
    values = _child_charts(sandbox, "Nuclio")["nuclio"]["inputs"]["values"]
    assert values["dashboard"]["containerBuilderKind"] == "kaniko"
    reference = yamlio.load((REFERENCE / "helm-values" / "nuclio-0.20.1-values.yaml").read_text())
    assert reference["dashboard"]["containerBuilderKind"] == "docker", "the chart's default mounts the socket"


def test_mlrun_leaves_each_crd_the_platform_installs_to_the_platform(sandbox: dict[str, Any]) -> None:
    chart = _child_charts(sandbox, "MLRun")["mlrun-ce"]
    values = chart["inputs"]["values"]
    assert values["pipelines"] == {"enabled": False}
    assert values["spark-operator"] == {"enabled": False}
    assert values["mpi-operator"]["crd"] == {"create": False}
    assert values["mpi-operator"]["deployment"] == {"create": False}
    assert values["nuclio"]["crd"] == {"create": False}
    by_urn = {r["urn"]: r for r in sandbox["resources"]}
    waits = {by_urn[d]["name"] for d in chart["dependencies"]}
    assert "kubeflow-sandbox-kubeflow-nuclio-chart" in waits, "MLRun's Nuclio uses the platform's Nuclio CRDs"
    env = next(r for r in sandbox["resources"] if r["inputs"].get("metadata", {}).get("name") == "mlrun-override-env")
    assert env["inputs"]["data"]["MLRUN_KFP_URL"] == "http://ml-pipeline.kubeflow.svc.cluster.local:8888"
    assert mlrun_values(()) == {}, "alone, MLRun CE keeps what it bundles"


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
    def raw(config: dict[str, Any]) -> None:
        config["kubeflow-vsphere:kubeflow"]["serving"] = {"rawDeployment": True}
        config["kubeflow-vsphere:kubeflow"]["components"] = {"knative": False}

    edit_stack_config(project, "dev", raw)
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

    message = only(stack_problems(project, edit)["kubeflow-vsphere:kubeflow.training"])
    assert says in message
    assert "use PyTorchJob or Trainer v2" in message


def test_licence_notices_are_printed_when_enabled(sandbox: dict[str, Any]) -> None:
    notices = licence_notices(sandbox["resources"])
    assert any(n.startswith("Seldon Core v2 2.10.2: Business Source License 1.1") for n in notices)
    assert "Licence notices:" in text(sandbox)
    assert licence_notices(examples.plan("dev")["resources"]) == []


def test_mirror_moves_split_registry_values() -> None:
    mirror = RegistryMirror(host="harbor.example.internal/proxy", manifests="https://git.example.internal/m")
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

    assert "unknown framework 'caffe'" in only(stack_problems(project, edit)["kubeflow-vsphere:kubeflow.training"])


def test_pachyderm_is_refused_with_the_reason(project: Path) -> None:
    """`deployTarget: CUSTOM` alone fails the chart's own template: it needs an object store the platform lacks."""

    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:kubeflow"]["components"] = {"pachyderm": True}

    message = only(stack_problems(project, edit)["kubeflow-vsphere:kubeflow.components.pachyderm"])
    assert "object store" in message
    assert "set it to false" in message


def test_each_component_installs_exactly_its_declared_artifacts(sandbox: dict[str, Any]) -> None:
    resources = sandbox["resources"]
    for c in COMPONENTS:
        urn = next(r["urn"] for r in resources if r["type"] == f"kubeflow-vsphere:kubeflow:{c.kind}")
        children = [r for r in resources if r["parent"] == urn]
        installed = [r["inputs"]["directory"] for r in children if r["type"] == "kubernetes:kustomize/v2:Directory"]
        installed += [f"{r['inputs']['chart']}@{r['inputs']['version']}" for r in children if r["type"] == CHART]
        declared = [a.url if isinstance(a, Kustomization) else f"{a.ref}@{a.version}" for a in c.artifacts_declared()]
        assert sorted(installed) == sorted(declared), c.kind
