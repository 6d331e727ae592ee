"""Kubeflow core under mocks: components, pinned artifacts, dependency graph, auth, TLS and the mirror."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.catalog import CHARTS, KUSTOMIZATIONS, MANIFESTS_TAG
from components.kubeflow.auth import dex_config
from components.kubeflow.dependencies import DEPENDENCIES, UPSTREAM_ORDER, longest_chain, missing_prerequisites
from components.kubeflow.registry import COMPONENTS, needs_table
from components.kubeflow.settings import IdentitySettings
from components.mirror import RegistryMirror
from infra import paths
from infra.errors import ConfigError
from infra.kfvs.chain import kubeflow_chains
from infra.kfvs.plan import to_json
from infra.kfvs.run import plan_stack, validate_stack
from infra.models.kubeflow import KubeflowComponents, LdapSettings, OidcSettings
from infra.platform import _ldap_connector
from tests import examples
from tests.environment_files import edit_stack_config
from tests.reference import chart_values, manifests_paths, unknown_values_keys

KINDS = {c.kind for c in COMPONENTS if c.enabled_by_default}
"""What a stack with the default switches (dev) installs: every component declared on by default."""


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return examples.plan("dev")


def _of(plan: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["type"] == type_]


def _edit(project: Path, stack: str, edit: Any) -> None:
    edit_stack_config(project, stack, edit)


def test_one_component_per_application_under_the_platform(dev: dict[str, Any]) -> None:
    platform = _of(dev, "kubeflow-vsphere:kubeflow:KubeflowPlatform")[0]
    components = [
        r for r in dev["resources"] if r["type"].startswith("kubeflow-vsphere:kubeflow:") and r is not platform
    ]
    assert {r["type"].rsplit(":", 1)[-1] for r in components} == KINDS
    assert all(r["parent"] == platform["urn"] for r in components)
    by_parent = {r["parent"] for r in dev["resources"]}
    assert all(c["urn"] in by_parent for c in components), "every component installs something"


def test_kustomize_paths_exist_at_the_pinned_tag(dev: dict[str, Any]) -> None:
    files = manifests_paths()
    used = [r["inputs"]["directory"] for r in _of(dev, "kubernetes:kustomize/v2:Directory")]
    assert len(used) == len(KUSTOMIZATIONS)
    for url in used:
        match = re.fullmatch(r"https://github\.com/kubeflow/manifests/(.+)\?ref=(.+)", url)
        assert match, url
        assert match.group(2) == MANIFESTS_TAG == "26.03"
        assert f"{match.group(1)}/kustomization.yaml" in files, url


def test_chart_values_use_only_keys_of_the_pinned_charts(dev: dict[str, Any]) -> None:
    charts = _of(dev, "kubernetes:helm.sh/v4:Chart")
    addons = {"seldon-core-v2-crds", "seldon-core-v2-setup", "seldon-core-v2-runtime", "seldon-core-v2-servers"}
    addons |= {"mlrun-ce", "nuclio"}
    addons |= {"emissary-crds-chart", "emissary-ingress"}
    addons |= {"kube-prometheus-stack"}  # opt-in observability: tests/test_observability.py checks its values
    assert {c["inputs"]["chart"] for c in charts} == {c.ref for c in CHARTS if c.name not in addons}
    for chart in charts:
        name, version = chart["inputs"]["chart"].rsplit("/", 1)[-1], chart["inputs"]["version"]
        assert chart_values(name, version), f"no reference values for {name}"
        assert unknown_values_keys(name, version, chart["inputs"].get("values")) == [], name


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_no_default_credentials_or_literal_secrets(stack: str) -> None:
    text = to_json(examples.plan(stack))
    assert "12341234" not in text
    assert "user@example.com" not in text
    assert "kfvs-secret-placeholder" not in text
    dex = json.loads(text)
    configs = [r for r in dex["resources"] if r["name"].endswith("-dex-config")]
    assert configs
    assert configs[0]["inputs"]["stringData"] == "[secret]"


def test_longest_chain_is_shorter_than_the_serial_install(dev: dict[str, Any]) -> None:
    chain = kubeflow_chains(dev["resources"])[0]
    assert len(chain.components) == len(KINDS) == 20
    assert set(UPSTREAM_ORDER) == set(DEPENDENCIES)
    assert 1 < len(chain.longest) < len(chain.components)
    names = [n.removeprefix("kubeflow-dev-kubeflow-") for n in chain.longest]
    assert names[-2:] == ["oauth2-proxy", "central-dashboard"]
    assert len(chain.longest) == len(longest_chain(DEPENDENCIES))


def test_components_wait_for_exactly_their_prerequisites(dev: dict[str, Any]) -> None:
    by_urn = {r["urn"]: r for r in dev["resources"]}
    notebooks = [r for r in dev["resources"] if "kubeflow:Notebooks$" in r["urn"]]
    waited = {by_urn[d]["parent"].rsplit("::", 1)[-1] for r in notebooks for d in r["dependencies"] if d in by_urn}
    assert waited == {"kubeflow-dev-kubeflow-profiles", "kubeflow-dev-kubeflow-admission-webhook"}


def test_missing_prerequisites_are_config_errors(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:kubeflow"]["components"] = {"profiles": False}

    _edit(project, "dev", edit)
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev", project)
    problems = {p.key: p.message for p in caught.value.problems}
    assert problems["kubeflow-vsphere:kubeflow.components.notebooks"].startswith("needs profiles")
    assert "kubeflow-vsphere:kubeflow.components.pipelines" in problems
    assert missing_prerequisites(["notebooks"]) == {"notebooks": ["profiles", "admissionWebhook"]}


def test_static_user_password_is_generated_hashed_and_secret(dev: dict[str, Any]) -> None:
    passwords = {r["name"] for r in _of(dev, "random:index/randomPassword:RandomPassword")}
    assert "kubeflow-dev-kubeflow-dex-static-user" in passwords


def test_static_user_is_refused_in_prod(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:kubeflow"]["auth"] = {"mode": "staticUser", "staticUser": {"email": "a@example.internal"}}

    _edit(project, "prod", edit)
    with pytest.raises(ConfigError) as caught:
        validate_stack("prod", project)
    assert any("staticUser is for labs" in p.message for p in caught.value.problems)


def _cert_objects(plan: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (r["inputs"]["kind"], r["inputs"]["metadata"]["name"])
        for r in plan["resources"]
        if r["type"].startswith("kubernetes:cert-manager.io/v1:")
    )


def test_tls_modes(dev: dict[str, Any]) -> None:
    assert _cert_objects(dev) == [
        ("Certificate", "kubeflow-dev-kubeflow-istio-ca"),
        ("Certificate", "kubeflow-ingress"),
        ("ClusterIssuer", "kubeflow-dev-kubeflow-istio-ca-issuer"),
        ("ClusterIssuer", "kubeflow-dev-kubeflow-istio-selfsigned"),
        ("ClusterIssuer", "kubeflow-self-signing-issuer"),
    ]
    staging = examples.plan("staging")
    acme = [r for r in _of(staging, "kubernetes:cert-manager.io/v1:ClusterIssuer") if "acme" in r["inputs"]["spec"]]
    assert acme[0]["inputs"]["spec"]["acme"]["server"] == "https://acme.example.internal/acme/acme/directory"
    prod = examples.plan("prod")
    assert _cert_objects(prod) == [("ClusterIssuer", "kubeflow-self-signing-issuer")]
    patch = _of(prod, "kubernetes:networking.istio.io/v1:GatewayPatch")[0]
    https = patch["inputs"]["spec"]["servers"][1]
    assert https["tls"] == {"mode": "SIMPLE", "credentialName": "kubeflow-prod-tls"}
    service = _of(prod, "kubernetes:core/v1:ServicePatch")[0]["inputs"]
    assert (service["metadata"]["namespace"], service["metadata"]["name"]) == ("istio-system", "istio-ingressgateway")
    assert service["spec"] == {"type": "LoadBalancer", "loadBalancerIP": "10.20.30.40"}


def test_auth_modes_put_the_connector_secret_only_in_secrets() -> None:
    for stack in ("staging", "prod"):
        plan = examples.plan(stack)
        text = to_json(plan)
        assert "bindPW" not in text
        assert "clientSecret" not in text


def test_registry_mirror_rewrites_charts_manifests_and_images(project: Path) -> None:
    def edit(c: dict[str, Any]) -> None:
        c["kubeflow-vsphere:registryMirror"] = {
            "host": "harbor.example.internal/proxy",
            "manifests": "https://git.example.internal/mirrors/kubeflow-manifests",
            "pullSecret": "harbor-pull",
        }

    _edit(project, "dev", edit)
    plan = plan_stack("dev", project)
    text = to_json(plan)
    for public in (
        "https://charts.",
        "istio-release.storage.googleapis.com",
        "github.com/kubeflow",
        "helm.ngc.nvidia.com",
    ):
        assert public not in text, public
    charts = _of(plan, "kubernetes:helm.sh/v4:Chart")
    assert charts
    assert all(c["inputs"]["chart"].startswith("oci://harbor.example.internal/proxy/charts/") for c in charts)
    assert all("repositoryOpts" not in c["inputs"] for c in charts)
    assert all(
        d["inputs"]["directory"].startswith("https://git.example.internal/mirrors/kubeflow-manifests/")
        for d in _of(plan, "kubernetes:kustomize/v2:Directory")
    )


def test_mirror_transform_rewrites_rendered_pods() -> None:
    transform = RegistryMirror(
        host="harbor.example.internal/proxy", manifests="https://git.example.internal/m", pull_secret="harbor-pull"
    ).transform()
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "a", "image": "ghcr.io/kubeflow/notebook-controller:v1.10.0"}],
                    "initContainers": [{"name": "b", "image": "busybox:1.36"}],
                }
            }
        },
    }
    args = pulumi.ResourceTransformArgs(
        True, "kubernetes:apps/v1:Deployment", "d", deployment, pulumi.ResourceOptions()
    )
    result = transform(args)
    assert result is not None
    props: dict[str, Any] = dict(result.props)
    pod = props["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "harbor.example.internal/proxy/ghcr.io/kubeflow/notebook-controller:v1.10.0"
    assert pod["initContainers"][0]["image"] == "harbor.example.internal/proxy/docker.io/library/busybox:1.36"
    assert pod["imagePullSecrets"] == [{"name": "harbor-pull"}]
    assert (
        transform(
            pulumi.ResourceTransformArgs(True, "vsphere:index/tag:Tag", "t", {"name": "x"}, pulumi.ResourceOptions())
        )
        is None
    )


_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUexample\n-----END CERTIFICATE-----\n"


def test_dex_trusts_a_private_ca_of_the_identity_provider() -> None:
    """With the in-cluster issuer, Dex alone reaches outside the cluster: a prod IdP signed by the site's CA
    needs that CA in the connector (OIDC `rootCAs` takes PEM; LDAP `rootCAData` takes it base64-encoded)."""
    ldap = LdapSettings.model_validate(
        {"host": "ldap.example.internal:636", "bindDN": "cn=x", "userSearch": {"baseDN": "dc=x"}, "caBundle": _PEM}
    )
    assert base64.b64decode(_ldap_connector(ldap)["rootCAData"]).decode() == _PEM
    oidc = OidcSettings.model_validate({"issuer": "https://sso.example.internal", "clientId": "kf", "caBundle": _PEM})
    identity = IdentitySettings(
        hostname="kf.example.internal",
        mode="oidc",
        connector={"issuer": str(oidc.issuer), "rootCAs": [_PEM]},
        connector_secret="s",
    )
    connector = dex_config(identity, "client", None)["connectors"][0]["config"]
    assert connector["rootCAs"] == [_PEM]
    assert connector["redirectURI"] == "https://kf.example.internal/dex/callback"
    with pytest.raises(ValueError, match="BEGIN CERTIFICATE"):
        OidcSettings.model_validate({"issuer": "https://sso.example.internal", "clientId": "kf", "caBundle": "x"})


def test_each_component_is_one_declaration_the_rest_agrees_with() -> None:
    keys = [c.key for c in COMPONENTS]
    assert len(set(keys)) == len(keys) == len({c.kind for c in COMPONENTS}), "one key and one kind per component"
    for c in COMPONENTS:
        named = {*c.needs, *c.waits_for_if_enabled, *c.not_needed_with_raw_serving}
        assert named <= set(keys) - {c.key}, f"{c.kind} names an unknown component: {named - set(keys)}"
        assert set(c.not_needed_with_raw_serving) <= set(c.needs), c.kind
        assert c.summary, f"{c.kind} has no summary for the README"
    assert {c.key: c.needs for c in COMPONENTS} == DEPENDENCIES
    assert tuple(keys) == UPSTREAM_ORDER
    declared = [a for c in COMPONENTS for a in c.artifacts_declared() if a in KUSTOMIZATIONS]
    assert sorted(k.path for k in declared) == sorted(k.path for k in KUSTOMIZATIONS), "each kustomization, once"
    assert all(a in KUSTOMIZATIONS or a in CHARTS for c in COMPONENTS for a in c.artifacts_declared()), "pinned"


def test_settings_switches_are_the_declared_components() -> None:
    fields = {info.alias: info.default for info in KubeflowComponents.model_fields.values()}
    assert fields == {"pachyderm": False} | {c.key: c.enabled_by_default for c in COMPONENTS}
    assert KubeflowComponents().enabled() == [c.key for c in COMPONENTS if c.enabled_by_default]
    assert missing_prerequisites(KubeflowComponents().enabled()) == {}, "the defaults are a valid installation"


def test_readme_needs_table_is_the_generated_one() -> None:
    readme = (paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert needs_table() in readme, "regenerate it: python -c 'from components.kubeflow.registry import needs_table'"
    assert needs_table().count("\n") == len(COMPONENTS) + 2
