"""Observability: alert rules under `promtool test rules`, dashboards, and the program with observability on.

promtool is Debian's (`make promtool` unpacks it into .tools and exports $PROMTOOL); without it these tests skip
on a developer's machine and fail under CI=true, as the Makefile's actionlint step does.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from components.catalog import GPU_OPERATOR, KUBE_PROMETHEUS_STACK
from components.kubeflow.auth import GATEWAY, gateway_auth_policies
from components.kubeflow.ingress import INGRESS_GATEWAY_PRINCIPAL
from components.labels import GPU_POOL_LABEL, TEAM_LABEL
from components.services import observability as obs
from infra import paths
from infra.errors import ConfigError
from infra.kfvs.lint import crdschema, lint
from infra.kfvs.lint.schema import errors as schema_errors
from infra.kfvs.plan import to_json
from infra.kfvs.rendering import render_stack
from infra.kfvs.run import plan_stack, validate_stack
from tests import examples, yamlio
from tests.reference import REFERENCE, chart_values, crd_schema, unknown_values_keys

ALERT_TESTS = paths.PROJECT_ROOT / "tests" / "alerts"
DCGM_FIELDS = REFERENCE / "dcgm-exporter-4.5.3-4.8.2" / "dcp-metrics-included.csv"
PLATFORM_FILE = "stacks/Pulumi.dev-platform.yaml"
COPIED = ("Pulumi.yaml", "pyproject.toml", ".gitignore", "infra", "components", "policies", "stacks")


# --- promtool ---------------------------------------------------------------------------------------------------


def _promtool() -> str:
    """$PROMTOOL (the Makefile's .tools copy), then .tools itself, then the PATH; skip, or fail under CI."""
    candidates = [
        os.environ.get("PROMTOOL", ""),
        *map(str, paths.PROJECT_ROOT.glob(".tools/prometheus-*/usr/bin/promtool")),
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return str(Path(candidate).resolve())
    found = shutil.which("promtool")
    if found:
        return found
    if os.environ.get("CI") == "true":
        pytest.fail("promtool not found: run `make promtool` (CI must run the alert rules' tests)")
    pytest.skip("promtool not found (`make promtool` installs it from Debian's prometheus package)")


@pytest.fixture(scope="module")
def promtool() -> str:
    return _promtool()


def _test_files() -> list[Path]:
    return sorted(ALERT_TESTS.glob("*.yaml"))


def _rule_alerts(groups: dict[str, Any]) -> set[str]:
    return {r["alert"] for g in groups["groups"] for r in g["rules"] if "alert" in r}


def test_every_alert_rule_passes_its_promtool_unit_tests(promtool: str) -> None:
    run = subprocess.run(
        [promtool, "test", "rules", *(p.name for p in _test_files())],
        cwd=ALERT_TESTS,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("SUCCESS") == len(_test_files()) >= 2


def test_every_rule_file_has_a_test_file_and_every_alert_fires_in_one() -> None:
    rules = obs.rule_files()
    tested: dict[str, set[str]] = {}
    for test_file in _test_files():
        document = yamlio.load(test_file.read_text())
        targets = [(test_file.parent / f).resolve() for f in document["rule_files"]]
        assert all(t.parent == obs.RULES_DIR.resolve() and t.is_file() for t in targets), test_file.name
        for target in targets:
            fired = {
                case["alertname"]
                for test in document["tests"]
                for case in test.get("alert_rule_test", [])
                if case.get("exp_alerts")
            }
            quiet = {
                case["alertname"]
                for test in document["tests"]
                for case in test.get("alert_rule_test", [])
                if not case.get("exp_alerts")
            }
            # Each alert fires in a case and stays quiet in another (the `for` and the threshold are exercised).
            tested.setdefault(target.stem, set()).update(fired & quiet if target.stem in rules else set())
    assert set(tested) == set(rules), "a rule file without a promtool test file in tests/alerts/"
    for stem, groups in rules.items():
        assert _rule_alerts(groups) <= tested[stem], f"{stem}: alerts no test makes fire and stay quiet"


@pytest.mark.parametrize(
    ("rule_file", "break_it"),
    [
        (
            "gpu.yaml",
            lambda text: text.replace("DCGM_FI_DEV_VGPU_LICENSE_STATUS == 0", "DCGM_FI_DEV_VGPU_LICENSE_STATUS < 0"),
        ),
        ("gpu.yaml", lambda text: text.replace("      - alert: DcgmExporterDown", "      - alert: DcgmExporterGone")),
        ("quota.yaml", lambda text: text.replace(">= 0.9", ">= 0.95")),
        ("quota.yaml", lambda text: text.replace("label_kubeflow_vsphere_io_team", "label_team")),
    ],
    ids=["vgpu-never-unlicensed", "exporter-alert-renamed", "quota-threshold-moved", "team-label-wrong"],
)
def test_a_broken_rule_fails_its_tests(
    promtool: str, tmp_path: Path, rule_file: str, break_it: Callable[[str], str]
) -> None:
    rules = tmp_path / "components" / "services" / "monitoring" / "rules"
    shutil.copytree(obs.RULES_DIR, rules)
    shutil.copytree(ALERT_TESTS, tmp_path / "tests" / "alerts")
    original = (rules / rule_file).read_text()
    assert break_it(original) != original
    (rules / rule_file).write_text(break_it(original))
    run = subprocess.run(
        [promtool, "test", "rules", rule_file], cwd=tmp_path / "tests" / "alerts", capture_output=True, check=False
    )
    assert run.returncode != 0


def _dashboard_exprs() -> Iterator[tuple[str, str]]:
    for stem, text in obs.dashboard_files().items():
        for panel in json.loads(text)["panels"]:
            for target in panel["targets"]:
                yield f"{stem}: {panel['title']}", target["expr"]


def test_every_dashboard_query_parses(promtool: str, tmp_path: Path) -> None:
    rules = [{"record": f"dashboard:query{i}", "expr": expr} for i, (_, expr) in enumerate(_dashboard_exprs())]
    assert len(rules) >= 15
    (tmp_path / "dashboards.yaml").write_text(yamlio.dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    run = subprocess.run(
        [promtool, "check", "rules", "dashboards.yaml"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr


# --- what the rules and dashboards read --------------------------------------------------------------------------


def _all_exprs() -> list[str]:
    exprs = [r["expr"] for groups in obs.rule_files().values() for g in groups["groups"] for r in g["rules"]]
    return exprs + [expr for _, expr in _dashboard_exprs()]


def test_label_names_are_those_kube_state_metrics_makes_of_the_platforms_labels() -> None:
    used = {m for expr in _all_exprs() for m in re.findall(r"\blabel_[a-z0-9_]+", expr)}
    assert used == {obs.metric_label(TEAM_LABEL), obs.metric_label(GPU_POOL_LABEL)}
    assert obs.metric_label(TEAM_LABEL) == "label_kubeflow_vsphere_io_team"


def test_dcgm_metrics_used_are_exported_by_the_pinned_exporter() -> None:
    exported = {
        line.split(",")[0].strip()
        for line in DCGM_FIELDS.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    used = {m for expr in _all_exprs() for m in re.findall(r"\bDCGM_FI_[A-Z0-9_]+", expr)}
    assert used == {"DCGM_FI_DEV_GPU_UTIL", "DCGM_FI_DEV_FB_USED", "DCGM_FI_DEV_VGPU_LICENSE_STATUS"}
    assert used <= exported
    gpu_rules = json.dumps(obs.rule_files()["gpu"])
    assert f'job=\\"{obs.DCGM_JOB}\\"' in gpu_rules


def test_custom_resource_metrics_are_the_ones_the_kubeflow_dashboard_reads() -> None:
    config, rules = obs.custom_resource_metrics(["notebooks", "pipelines"])
    made = {f"{r['metricNamePrefix']}_{m['name']}" for r in config["spec"]["resources"] for m in r["metrics"]}
    kubeflow = " ".join(expr for where, expr in _dashboard_exprs() if where.startswith("kubeflow-usage"))
    assert made == {obs.NOTEBOOK_METRIC, obs.PIPELINE_RUN_METRIC}
    assert set(re.findall(r"\bkubeflow_[a-z_]+", kubeflow)) == made
    assert {g for r in rules for g in r["apiGroups"]} == {"kubeflow.org", "argoproj.io"}
    assert obs.custom_resource_metrics(["katib"]) == (
        {"kind": "CustomResourceStateMetrics", "spec": {"resources": []}},
        [],
    )


def test_sidecar_label_and_rule_selector_are_the_pinned_charts() -> None:
    values = chart_values(KUBE_PROMETHEUS_STACK.name, KUBE_PROMETHEUS_STACK.version)
    sidecar = values["grafana"]["sidecar"]["dashboards"]
    assert (sidecar["label"], str(sidecar["labelValue"])) == obs.DASHBOARD_LABEL
    spec = values["prometheus"]["prometheusSpec"]
    # Nil selectors with NilUsesHelmValues select `release: <release name>` (templates/prometheus/prometheus.yaml).
    assert spec["ruleSelector"] == spec["serviceMonitorSelector"] == {}
    assert spec["ruleSelectorNilUsesHelmValues"] is spec["serviceMonitorSelectorNilUsesHelmValues"] is True
    assert obs.STACK_SELECTOR == {"release": obs.RELEASE}
    assert values["prometheus-node-exporter"]["namespaceOverride"] == ""  # the key exists; the platform sets it


def test_the_grafana_header_is_the_one_the_gateway_fills() -> None:
    claims = {
        h["header"]: h["claim"]
        for _, _, spec in gateway_auth_policies()
        for rule in spec.get("jwtRules", [])
        for h in rule["outputClaimToHeaders"]
    }
    assert claims[obs.USER_HEADER] == "email"


# --- the program under mocks --------------------------------------------------------------------------------------


def _copy_project(root: Path) -> Path:
    for name in COPIED:
        source = paths.PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.is_file():
            shutil.copy2(source, root / name)
    return root


def _with_observability(root: Path, section: dict[str, Any]) -> Path:
    path = root / PLATFORM_FILE
    document = yamlio.load(path.read_text())
    document["config"]["kubeflow-vsphere:observability"] = section
    path.write_text(yamlio.dump(document, sort_keys=False))
    return root


def _plan(root: Path) -> dict[str, Any]:
    plan: dict[str, Any] = json.loads(to_json(plan_stack("dev", root)))
    return plan


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = _copy_project(tmp_path_factory.mktemp("observed"))
    return _plan(_with_observability(root, {"enabled": True, "stack": {"storageGiB": 50}}))


def _of(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_]


def _chart(plan: dict[str, Any], chart: str) -> dict[str, Any]:
    (found,) = [r for r in _of(plan, "kubernetes:helm.sh/v4:Chart") if r["inputs"]["chart"] == chart]
    return found


def _objects(plan: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        r["inputs"]["metadata"]["name"]: r
        for r in plan["resources"]
        if r["type"].endswith(f":{kind}") and "Observability" in r["urn"]
    }


TEMPLATE_ONLY = {"grafana": ("enabled", "fullnameOverride", "podLabels", "grafana.ini")}
"""Subchart keys its values.yaml leaves out or comments out: `enabled` (kube-prometheus-stack's condition),
`fullnameOverride` and `podLabels` (read by templates/_helpers.tpl and deployment.yaml at grafana-12.11.1), and
`grafana.ini`, Grafana's own configuration, which the chart writes out whole as INI."""


def test_the_pinned_chart_with_keys_of_its_own_and_its_subcharts_values(observed: dict[str, Any]) -> None:
    chart = _chart(observed, KUBE_PROMETHEUS_STACK.ref)
    inputs = chart["inputs"]
    assert (inputs["version"], inputs["repositoryOpts"]["repo"]) == ("88.5.3", KUBE_PROMETHEUS_STACK.repository)
    assert (inputs["name"], inputs["namespace"]) == (obs.RELEASE, obs.NAMESPACE)
    values = dict(inputs["values"])
    subcharts = {"grafana": "grafana-12.11.1", "kube-state-metrics": "kube-state-metrics-8.4.0"}
    subcharts["prometheus-node-exporter"] = "prometheus-node-exporter-4.56.1"
    for key, pinned in subcharts.items():
        name, version = pinned.rsplit("-", 1)
        sub = {k: v for k, v in values.pop(key).items() if k not in TEMPLATE_ONLY.get(key, ())}
        assert unknown_values_keys(name, version, sub) == [], key
    assert unknown_values_keys(KUBE_PROMETHEUS_STACK.name, KUBE_PROMETHEUS_STACK.version, values) == []
    storage = values["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert storage["resources"]["requests"]["storage"] == "50Gi"
    assert storage["storageClassName"] == "kubeflow-dev-gold"  # the cluster's storageClass


def test_the_dcgm_exporter_service_monitor_is_on_with_the_labels_prometheus_selects(observed: dict[str, Any]) -> None:
    values = _chart(observed, GPU_OPERATOR.name)["inputs"]["values"]
    monitor = values["dcgmExporter"]["serviceMonitor"]
    assert monitor["enabled"] is True
    assert monitor["honorLabels"] is True
    assert monitor["additionalLabels"] == obs.STACK_SELECTOR
    assert monitor["relabelings"][0]["targetLabel"] == "node"
    assert unknown_values_keys(GPU_OPERATOR.name, GPU_OPERATOR.version, {"dcgmExporter": values["dcgmExporter"]}) == []
    pinned = chart_values(GPU_OPERATOR.name, GPU_OPERATOR.version)["dcgmExporter"]["serviceMonitor"]
    assert pinned["enabled"] is False  # off unless the platform turns it on


def test_dashboards_are_config_maps_with_the_sidecar_label(observed: dict[str, Any]) -> None:
    maps = _objects(observed, "ConfigMap")
    files = obs.dashboard_files()
    assert set(maps) == {f"kubeflow-vsphere-{stem}" for stem in files}
    for stem, text in files.items():
        metadata = maps[f"kubeflow-vsphere-{stem}"]["inputs"]["metadata"]
        assert metadata["labels"][obs.DASHBOARD_LABEL[0]] == obs.DASHBOARD_LABEL[1]
        assert metadata["namespace"] == obs.NAMESPACE
        assert json.loads(maps[f"kubeflow-vsphere-{stem}"]["inputs"]["data"][f"{stem}.json"]) == json.loads(text)


def test_rules_are_prometheus_rules_from_the_repository_files(observed: dict[str, Any]) -> None:
    rules = _objects(observed, "PrometheusRule")
    chart = _chart(observed, KUBE_PROMETHEUS_STACK.ref)["urn"]
    assert set(rules) == {f"kubeflow-vsphere-{stem}" for stem in obs.rule_files()}
    for stem, groups in obs.rule_files().items():
        rule = rules[f"kubeflow-vsphere-{stem}"]
        assert rule["inputs"]["spec"]["groups"] == groups["groups"]
        assert rule["inputs"]["metadata"]["labels"]["release"] == obs.RELEASE
        assert chart in rule["dependencies"]  # the chart brings the CRD
    monitors = _objects(observed, "ServiceMonitor")
    assert {m["inputs"]["spec"]["selector"]["matchLabels"].popitem()[1] for m in monitors.values()} == {
        "controller",
        "training-operator",
        "kserve-controller-manager",
    }


def test_grafana_password_is_a_secret_from_random_and_no_login_but_the_platforms(observed: dict[str, Any]) -> None:
    (secret,) = [
        r for r in _of(observed, "kubernetes:core/v1:Secret") if r["name"].endswith("-observability-grafana-admin")
    ]
    (password,) = [
        r for r in _of(observed, "random:index/randomPassword:RandomPassword") if "observability" in r["name"]
    ]
    assert secret["inputs"]["stringData"] == "[secret]"
    assert password["urn"] in secret["dependencies"]
    grafana = _chart(observed, KUBE_PROMETHEUS_STACK.ref)["inputs"]["values"]["grafana"]
    assert "adminPassword" not in grafana
    assert grafana["admin"]["existingSecret"] == secret["inputs"]["metadata"]["name"]
    ini = grafana["grafana.ini"]
    assert ini["auth.anonymous"]["enabled"] is False
    assert ini["auth.basic"]["enabled"] is False
    assert ini["auth"]["disable_login_form"] is True
    assert ini["auth.proxy"] | {"header_name": obs.USER_HEADER, "enabled": True} == ini["auth.proxy"]
    assert ini["server"]["root_url"] == "https://kubeflow.dev.example.internal/grafana/"


def test_grafana_is_reached_only_through_the_gateway(observed: dict[str, Any]) -> None:
    (route,) = _objects(observed, "VirtualService").values()
    (policy,) = _objects(observed, "AuthorizationPolicy").values()
    assert route["inputs"]["spec"]["gateways"] == [GATEWAY]
    destination = route["inputs"]["spec"]["http"][1]["route"][0]["destination"]["host"]
    assert destination == f"{obs.GRAFANA_SERVICE}.{obs.NAMESPACE}.svc.cluster.local"
    assert policy["inputs"]["spec"]["rules"] == [{"from": [{"source": {"principals": [INGRESS_GATEWAY_PRINCIPAL]}}]}]
    by_urn = {r["urn"]: r["name"] for r in observed["resources"]}
    # Created after the gateway's ext-authz policy: never a moment with a route and no login in front of it.
    assert any(by_urn.get(d, "").endswith("-oauth2-proxy-ext-authz") for d in route["dependencies"])
    grafana = _chart(observed, KUBE_PROMETHEUS_STACK.ref)["inputs"]["values"]["grafana"]
    assert grafana["podLabels"] == {"sidecar.istio.io/inject": "true"}


def test_namespaces_pod_security(observed: dict[str, Any]) -> None:
    levels = {
        r["inputs"]["metadata"]["name"]: r["inputs"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
        for r in _of(observed, "kubernetes:core/v1:Namespace")
        if "Observability" in r["urn"]
    }
    assert levels == {obs.NAMESPACE: "restricted", obs.NODE_EXPORTER_NAMESPACE: "privileged"}
    values = _chart(observed, KUBE_PROMETHEUS_STACK.ref)["inputs"]["values"]
    assert values["prometheus-node-exporter"]["namespaceOverride"] == obs.NODE_EXPORTER_NAMESPACE


def test_off_by_default() -> None:
    plan = json.loads(to_json(examples.plan("dev")))
    assert not [r for r in plan["resources"] if "Observability" in r["urn"]]
    assert "dcgmExporter" not in _chart(plan, GPU_OPERATOR.name)["inputs"]["values"]


def test_an_existing_prometheus_gets_only_rules_monitors_and_dashboards(tmp_path: Path) -> None:
    existing = {"namespace": "observability", "selectorLabels": {"prometheus": "site"}, "dashboardLabel": "dash"}
    plan = _plan(_with_observability(_copy_project(tmp_path), {"prometheus": "existing", "existing": existing}))
    assert [
        r for r in _of(plan, "kubernetes:helm.sh/v4:Chart") if r["inputs"]["chart"] == KUBE_PROMETHEUS_STACK.ref
    ] == []
    mine = [r for r in plan["resources"] if "Observability" in r["urn"] and r["type"].startswith("kubernetes:")]
    assert {r["type"].rsplit(":", 1)[-1] for r in mine} == {"PrometheusRule", "ServiceMonitor", "ConfigMap"}
    assert {r["inputs"]["metadata"]["namespace"] for r in mine} == {"observability"}
    for r in mine:
        expected = {"dash": "1"} if r["type"].endswith("ConfigMap") else {"prometheus": "site"}
        assert r["inputs"]["metadata"]["labels"] | expected == r["inputs"]["metadata"]["labels"]
    monitor = _chart(plan, GPU_OPERATOR.name)["inputs"]["values"]["dcgmExporter"]["serviceMonitor"]
    assert monitor["additionalLabels"] == {"prometheus": "site"}


def test_existing_without_its_section_is_one_problem(tmp_path: Path) -> None:
    root = _with_observability(_copy_project(tmp_path), {"prometheus": "existing"})
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev", root)
    lines = [str(p) for p in caught.value.problems]
    assert len(lines) == 1, lines
    assert PLATFORM_FILE in lines[0]
    assert "kubeflow-vsphere:observability" in lines[0]
    assert "add the 'existing' section" in lines[0]


@pytest.mark.slow
def test_lint_stays_clean_with_observability_on(project: Path, upstream_mirror: Path, kustomize_cache: Path) -> None:
    _with_observability(project, {"enabled": True})
    rendering = render_stack("dev", project, upstream_mirror, cache_dir=kustomize_cache, keep_going=True)
    kinds = {
        o.manifest["kind"]
        for o in rendering.objects
        if str(o.manifest.get("metadata", {}).get("name", "")).startswith(("kubeflow-vsphere-", "grafana"))
    }
    assert {"PrometheusRule", "ConfigMap", "VirtualService", "AuthorizationPolicy"} <= kinds
    assert [f.line() for f in lint(rendering) if f.rule != "unverified"] == []


@pytest.mark.parametrize(
    ("kind", "crd"),
    [
        ("PrometheusRule", "monitoring.coreos.com_prometheusrules.yaml"),
        ("ServiceMonitor", "monitoring.coreos.com_servicemonitors.yaml"),
    ],
)
def test_rules_and_monitors_validate_against_the_pinned_crds(observed: dict[str, Any], kind: str, crd: str) -> None:
    validator = crdschema.validator(crd_schema(crd, "v1"))
    objects = _objects(observed, kind)
    assert objects
    for obj in objects.values():
        manifest = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": kind,
            "metadata": {},
            "spec": obj["inputs"]["spec"],
        }
        assert schema_errors(validator, manifest) == [], obj["name"]
    broken = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": kind,
        "metadata": {},
        "spec": {"groups": "x", "endpoints": 1},
    }
    assert schema_errors(validator, broken) != []
