"""`kfvs lint`: gatekeeper-style cases per rule (tests/lint_cases), the Istio injection model, the CLI and the
real rendered dev stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra import paths
from infra.kfvs import cli, rendering
from infra.kfvs.lint import RULES, Finding, injection, lint, pod_security, pss
from infra.kfvs.lint.model import Obj, Platform
from infra.kfvs.rendered import NotRendered, RenderedObject, Rendering
from tests import yamlio
from tests.conftest import ExampleRenderings

CASES = Path(__file__).parent / "lint_cases"
CASE_FILES = sorted(CASES.glob("*/*.yaml"))
CLUSTER = "kf"


def urn(source: str) -> str:
    return f"urn:pulumi:case::kubeflow-vsphere::kubernetes:kustomize/v2:Directory::{source}"


def rendering_of(case: dict[str, Any]) -> Rendering:
    objects = [
        RenderedObject(o["manifest"], urn(o.get("source", "dir")), o.get("source", "dir"), o.get("cluster", CLUSTER))
        for o in case.get("objects", [])
    ]
    return Rendering(
        stack="case",
        objects=objects,
        not_rendered=[
            NotRendered(urn(s), "kubernetes:helm.sh/v4:Chart", "not rendered") for s in case.get("not_rendered", [])
        ],
        depends_on={urn(k): frozenset(urn(d) for d in v) for k, v in case.get("depends_on", {}).items()},
        kubernetes_version=str(case.get("kubernetes_version", "1.31")),
        chart_inputs={urn(k): v for k, v in case.get("chart_inputs", {}).items()},
    )


def test_every_rule_has_a_case_that_trips_it_and_one_that_passes() -> None:
    for rule in [*RULES, "unverified"]:
        names = [p.name for p in CASE_FILES if p.parent.name == rule]
        assert any(n.startswith("trip-") for n in names), rule
        assert any(n.startswith("pass-") for n in names), rule


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(path: Path) -> None:
    case = yamlio.load(path.read_text())
    rule = path.parent.name
    found = [f.line() for f in lint(rendering_of(case), case.get("extra", [])) if f.rule == rule]
    assert found == case["expect"]


# --- the Istio injection model ---------------------------------------------------------------------------------

RESTRICTED_POD: dict[str, Any] = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "app:1",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
}


def meshed(cni: bool) -> Mesh:
    return injection.Mesh(installed=True, cni=cni, why="test")


Mesh = injection.Mesh


def test_without_cni_the_injected_istio_init_breaks_restricted_and_baseline() -> None:
    spec = injection.inject(meshed(cni=False), {}, RESTRICTED_POD)
    names = [c["name"] for c in spec["initContainers"]] + [c["name"] for c in spec["containers"]]
    assert names == ["istio-init", "app", "istio-proxy"]
    assert pss.violations("restricted", {}, RESTRICTED_POD) == []
    assert pss.violations("restricted", {}, spec) == [
        'non-default capabilities (container "istio-init" must not include "NET_ADMIN", "NET_RAW" in '
        "securityContext.capabilities.add)",
        'runAsNonRoot != true (pod or container "istio-init" must set securityContext.runAsNonRoot=true)',
        'runAsUser=0 (container "istio-init" must not set runAsUser=0)',
        'unrestricted capabilities (container "istio-init" must not include capabilities other than '
        '"NET_BIND_SERVICE" in add)',
    ]
    assert pss.violations("baseline", {}, spec) == [
        'non-default capabilities (container "istio-init" must not include "NET_ADMIN", "NET_RAW" in '
        "securityContext.capabilities.add)"
    ]


def test_with_cni_the_injected_pod_meets_restricted() -> None:
    spec = injection.inject(meshed(cni=True), {}, RESTRICTED_POD)
    assert [c["name"] for c in spec["initContainers"]] == ["istio-validation"]
    assert pss.violations("restricted", {}, spec) == []


def test_injected_containers_need_the_pods_seccomp_profile_under_restricted() -> None:
    pod = {**RESTRICTED_POD, "securityContext": {"runAsNonRoot": True}}
    spec = injection.inject(meshed(cni=True), {}, pod)
    assert pss.violations("restricted", {}, spec) == [
        'seccompProfile (pod or containers "istio-validation", "app", "istio-proxy" must set '
        'securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'
    ]


@pytest.mark.parametrize(
    ("namespace_labels", "pod_labels", "expected"),
    [
        ({"istio-injection": "enabled"}, {}, True),
        ({"istio-injection": "enabled"}, {"sidecar.istio.io/inject": "false"}, False),
        ({"istio-injection": "disabled"}, {"sidecar.istio.io/inject": "true"}, False),
        ({"istio.io/rev": "default"}, {}, True),
        ({}, {"sidecar.istio.io/inject": "true"}, True),
        ({}, {}, False),
    ],
)
def test_which_pods_istio_injects(namespace_labels: dict[str, str], pod_labels: dict[str, str], expected: bool) -> None:
    assert injection.injected(namespace_labels, "team-a", {"labels": pod_labels}, {}) is expected


def test_host_network_pods_and_kube_system_are_never_injected() -> None:
    labels = {"istio-injection": "enabled"}
    assert not injection.injected(labels, "team-a", {}, {"hostNetwork": True})
    assert not injection.injected(labels, "kube-system", {}, {})


def _platform(objects: list[dict[str, Any]], **fields: Any) -> Platform:
    rendered = [RenderedObject(m, urn("dir"), "dir", CLUSTER) for m in objects]
    return Platform(Rendering(stack="case", objects=rendered, **fields))


def test_cni_mode_is_read_from_the_rendered_injector_config_before_chart_values() -> None:
    config = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "istio-sidecar-injector", "namespace": "istio-system"},
        "data": {"values": json.dumps({"pilot": {"cni": {"enabled": True}}})},
    }
    istiod = {urn("istiod"): {"chart": "istiod", "values": {"pilot": {"cni": {"enabled": False}}}}}
    assert injection.mesh(_platform([config], chart_inputs=istiod)).cni is True
    assert injection.mesh(_platform([], chart_inputs=istiod)) == Mesh(
        True, False, "the istiod chart's values have pilot.cni.enabled=false"
    )
    assert injection.mesh(_platform([])).installed is False


def test_unlabelled_namespaces_get_vks_default_from_tkr_1_26() -> None:
    assert pod_security.level_of(_platform([], kubernetes_version="1.31"), CLUSTER, "apps")[0] == "restricted"
    assert pod_security.level_of(_platform([], kubernetes_version="1.25"), CLUSTER, "apps")[0] == "privileged"
    assert pod_security.level_of(_platform([], kubernetes_version="1.31"), CLUSTER, "vmware-system-csi")[0] == (
        "privileged"
    )


def test_a_finding_prints_as_one_line() -> None:
    namespaced = Finding("references", "Pod", "ns", "p", "is wrong", "fix it")
    assert namespaced.line() == "references: Pod ns/p: is wrong; fix it"
    assert (
        Finding("rbac", "ClusterRole", "", "kubeflow-edit", "m", "f").line() == "rbac: ClusterRole kubeflow-edit: m; f"
    )


def test_obj_reads_group_and_version() -> None:
    obj = Obj({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x"}}, "s", "c", CLUSTER)
    assert (obj.group, obj.version, obj.namespace) == ("apps", "v1", "")


# --- the command ----------------------------------------------------------------------------------------------

TEAM_NOTEBOOK = """\
apiVersion: kubeflow.org/v1
kind: Notebook
metadata: {name: scratch, namespace: vision}
spec:
  template:
    spec:
      containers:
        - name: scratch
          image: jupyter:1
          securityContext: {privileged: true}
"""


OLD_PDB = {
    "apiVersion": "policy/v1beta1",
    "kind": "PodDisruptionBudget",
    "metadata": {"name": "web", "namespace": "default"},
    "spec": {"minAvailable": 1},
}
OLD_PDB_LINE = (
    "schema: PodDisruptionBudget default/web: policy/v1beta1 PodDisruptionBudget is not served by Kubernetes 1.31; "
    "use policy/v1"
)


def _stub_render(monkeypatch: pytest.MonkeyPatch, *manifests: dict[str, Any]) -> None:
    rendered = rendering_of({"objects": [{"manifest": m} for m in manifests]})
    monkeypatch.setattr(rendering, "render_stack", lambda stack, **_: rendered)


def test_cli_prints_one_finding_a_line_and_exits_4(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_render(monkeypatch, OLD_PDB)
    result = CliRunner().invoke(cli.app, ["lint", "dev"])
    assert result.exit_code == cli.EXIT_LINT == 4
    assert result.stdout.splitlines() == [OLD_PDB_LINE]
    assert result.stderr == "dev: 1 findings (schema 1) in 1 objects\n"


UNSEEN = Finding("unverified", "VirtualService", "auth", "dex", "routes to Service auth/dex, not rendered", "check it")


@pytest.mark.parametrize(("args", "code"), [((), 0), (("--strict",), 4)])
def test_unverified_findings_are_printed_and_fail_only_when_strict(
    monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], code: int
) -> None:
    _stub_render(monkeypatch)
    monkeypatch.setattr(cli, "lint_platform", lambda *_: [UNSEEN])
    result = CliRunner().invoke(cli.app, ["lint", "dev", *args])
    assert result.exit_code == code
    assert result.stdout.splitlines() == [UNSEEN.line()]


def test_a_real_finding_beside_unverified_ones_still_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_render(monkeypatch, OLD_PDB)
    real = lint(rendering.render_stack("dev"))
    monkeypatch.setattr(cli, "lint_platform", lambda *_: [*real, UNSEEN])
    assert CliRunner().invoke(cli.app, ["lint", "dev"]).exit_code == 4


# --- every example stack -------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("stack", paths.list_stacks())
def test_every_example_stack_lints_clean(example_renderings: ExampleRenderings, stack: str) -> None:
    """`kfvs lint` on every example stack: nothing wrong that lint can see (what it cannot is `unverified`)."""
    lines = [f.line() for f in lint(example_renderings(stack)) if f.rule != "unverified"]
    assert lines == []


def test_cli_json_and_a_clean_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    _stub_render(monkeypatch, OLD_PDB)
    found = json.loads(CliRunner().invoke(cli.app, ["lint", "dev", "--format", "json"]).stdout)
    assert [(f["rule"], f["kind"], f["namespace"], f["name"]) for f in found["findings"]] == [
        ("schema", "PodDisruptionBudget", "default", "web")
    ]
    _stub_render(monkeypatch, {**OLD_PDB, "apiVersion": "policy/v1"})
    clean = CliRunner().invoke(cli.app, ["lint", "dev"])
    assert (clean.exit_code, clean.stdout) == (0, "")


def test_cli_lints_a_teams_manifest_as_applied_after_the_platform(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """ "Will my notebook run here?": the team namespace enforces baseline, the notebook asks for privileged."""
    _stub_render(monkeypatch)
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": "vision", "labels": {pod_security.ENFORCE: "baseline"}},
    }
    notebook = tmp_path / "notebook.yaml"
    notebook.write_text(yamlio.dump(namespace) + "---\n" + TEAM_NOTEBOOK)
    result = CliRunner().invoke(cli.app, ["lint", "dev", str(notebook)])
    assert result.exit_code == 4
    assert [line.split(": ")[0] + ": " + line.split(": ")[1] for line in result.stdout.splitlines()] == [
        "pod-security: Notebook vision/scratch",
        "schema: Notebook vision/scratch",  # no Notebook CRD in this rendering
    ]
    assert 'privileged (container "scratch" must not set securityContext.privileged=true)' in result.stdout


def test_cli_names_a_manifest_it_cannot_read_in_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _stub_render(monkeypatch)
    bad = tmp_path / "bad.yaml"
    bad.write_text("- just\n- a list\n")
    result = CliRunner().invoke(cli.app, ["lint", "dev", str(bad)])
    assert result.exit_code == 1
    assert result.stderr.strip().endswith(
        "bad.yaml: document 1 is not a Kubernetes object: give apiVersion, kind and metadata"
    )
    missing = CliRunner().invoke(cli.app, ["lint", "dev", str(tmp_path / "gone.yaml")])
    assert (missing.exit_code, missing.stderr.splitlines()[-1].split(": ", 1)[1]) == (
        1,
        "cannot read it (No such file or directory): give a manifest file",
    )
    assert "Traceback" not in missing.stderr + result.stderr


# --- the real dev stack ---------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def dev_rendering(example_renderings: ExampleRenderings) -> Rendering:
    return example_renderings("dev")


def _mutated(rendering: Rendering, change: Any) -> Rendering:
    """The rendering with `change(manifest)` applied to a copy of every object (returning None drops it)."""
    objects = []
    for o in rendering.objects:
        manifest = change(json.loads(json.dumps(o.manifest)))
        if manifest is not None:
            objects.append(RenderedObject(manifest, o.source, o.component, o.cluster))
    return Rendering(
        rendering.stack,
        objects,
        rendering.not_rendered,
        rendering.depends_on,
        rendering.kubernetes_version,
        chart_inputs=rendering.chart_inputs,
    )


@pytest.mark.slow
def test_real_dev_stack_has_none_of_issue_14s_wiring_defects(dev_rendering: Rendering) -> None:
    """Pod Security after injection and every reference hold on the dev platform as it renders today."""
    found = [f.line() for f in lint(dev_rendering) if f.rule in ("pod-security", "references")]
    assert found == []


@pytest.mark.slow
def test_real_dev_stack_without_istio_cni_breaks_every_meshed_restricted_pod(dev_rendering: Rendering) -> None:
    """Issue 14's first defect put back into the real rendering: istiod injecting without CNI, no istio-cni."""

    def without_cni(m: dict[str, Any]) -> dict[str, Any] | None:
        if m.get("kind") == "DaemonSet" and m["metadata"].get("name") == "istio-cni-node":
            return None
        if m.get("kind") == "ConfigMap" and m["metadata"]["name"].startswith("istio-sidecar-injector"):
            values = json.loads(m["data"]["values"])
            values["pilot"]["cni"]["enabled"] = False
            m["data"]["values"] = json.dumps(values)
        return m

    broken = [f for f in lint(_mutated(dev_rendering, without_cni)) if f.rule == "pod-security"]
    in_kubeflow = [f for f in broken if f.namespace == "kubeflow"]
    assert len(in_kubeflow) > 10
    assert all('"restricted" after Istio sidecar injection without CNI' in f.message for f in in_kubeflow)
    assert all('container "istio-init" must not include "NET_ADMIN", "NET_RAW"' in f.message for f in in_kubeflow)


@pytest.mark.slow
def test_real_dev_stack_with_the_charts_gateway_account_is_denied_everywhere(dev_rendering: Rendering) -> None:
    """Issue 14's gateway identity put back: the gateway's ServiceAccount named as the gateway chart names it."""

    def chart_account(m: dict[str, Any]) -> dict[str, Any]:
        if m.get("kind") == "ServiceAccount" and m["metadata"]["name"] == "istio-ingressgateway-service-account":
            m["metadata"]["name"] = "istio-ingressgateway"
        return m

    principal = "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"
    mutated = _mutated(dev_rendering, chart_account)

    def denied(rules: set[str]) -> int:
        return sum(
            f.rule in rules and f.kind == "AuthorizationPolicy" and principal in f.message for f in lint(mutated)
        )

    # A directory kustomize cannot build offline (Trainer's release downloads) might create anything: then the
    # policies are unverified, never passed; with every directory rendered they are plain references findings.
    assert denied({"references", "unverified"}) >= 5
    mutated.not_rendered = [n for n in mutated.not_rendered if n.type != rendering.DIRECTORY]
    assert denied({"references"}) >= 5


@pytest.mark.slow
def test_real_dev_team_namespaces_are_meshed(dev_rendering: Rendering) -> None:
    """Every profile's namespace gets sidecars (issue 14: namespaces made ahead of the Profile were not)."""
    platform = Platform(dev_rendering)
    profiles = [o.name for o in platform.of_kind("kubeflow.org", "Profile")]
    assert profiles
    for team in profiles:
        assert injection.injected(platform.namespace_labels(platform.workload_cluster, team), team, {}, {}), team
