"""Issue 14: the Kubeflow core wired as 26.03 tested it, checked on what the clusters would receive.

The stacks are rendered with `kfvs render` (every kustomize directory built by real kustomize from the upstream
repository at the pinned tag, the program's stack transforms applied); Helm charts are not rendered, so what
upstream expects of them is checked on their recorded inputs (release name, values). Needs the upstream git
snapshots beside the project (../shared/upstream/git); skips with the reason when they are not there.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.kubeflow import auth
from components.kubeflow.ingress import INGRESS_GATEWAY_ACCOUNT, INGRESS_GATEWAY_PRINCIPAL
from components.kubeflow.ordering import DEPENDS_ON, with_dependency
from components.tenancy import INGRESS_PRINCIPALS, PROFILE_NAMESPACE_LABELS
from infra.kfvs.rendered import Rendering
from tests import examples, yamlio
from tests.conftest import ExampleRenderings

CHART = "kubernetes:helm.sh/v4:Chart"
SA_PRINCIPAL = re.compile(r"cluster\.local/ns/([^/]+)/sa/(.+)")
PSS_ENFORCE = "pod-security.kubernetes.io/enforce"


@pytest.fixture(scope="module")
def mirror(upstream_mirror: Path) -> Path:
    """The upstream snapshots as a mirror folder (the session's, see conftest)."""
    return upstream_mirror


@pytest.fixture(scope="module")
def rendered(example_renderings: ExampleRenderings) -> dict[str, Rendering]:
    """dev, prod and sandbox (every component and add-on), rendered once per run."""
    return {stack: example_renderings(stack) for stack in ("dev", "prod", "sandbox")}


def upstream_file(mirror: Path, path: str) -> str:
    """A file of kubeflow/manifests at 26.03, read from the snapshot."""
    repo = mirror / "kubeflow" / "manifests.git"
    shown = subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"26.03:{path}"], capture_output=True, text=True, check=True
    )
    return shown.stdout


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = obj.get("metadata") or {}
    return metadata


def _objects(rendering: Rendering, kind: str | None = None) -> Iterator[dict[str, Any]]:
    for o in rendering.objects:
        if kind is None or o.manifest.get("kind") == kind:
            yield o.manifest


def _charts(stack: str) -> list[dict[str, Any]]:
    return [r for r in examples.plan(stack)["resources"] if r["type"] == CHART]


def _chart(stack: str, chart: str) -> dict[str, Any]:
    return next(r for r in _charts(stack) if r["inputs"]["chart"].rsplit("/", 1)[-1] == chart)


def _release(chart: dict[str, Any]) -> str:
    """The Helm release name: the `name` input, else (helm.v4's default) the resource's name."""
    return str(chart["inputs"].get("name") or chart["name"])


def _chart_objects(stack: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(namespace, name) of the Services and ServiceAccounts the charts create that routes and policies name: Dex's
    and oauth2-proxy's after the release (Helm's fullname is the release name when it contains the chart's name),
    Grafana's after its fullnameOverride."""
    named = set()
    for chart in ("dex", "oauth2-proxy"):
        resource = _chart(stack, chart)
        release = _release(resource)
        assert chart in release, "the fullname is the release name only when it contains the chart's name"
        named.add((resource["inputs"]["namespace"], release))
    # kube-prometheus-stack's Grafana subchart names its Service `grafana.fullnameOverride` (its fullname helper).
    services = set(named)
    for resource in _charts(stack):
        grafana = (resource["inputs"].get("values") or {}).get("grafana") or {}
        if resource["inputs"]["chart"].endswith("kube-prometheus-stack") and grafana.get("enabled", True):
            services.add((resource["inputs"]["namespace"], grafana["fullnameOverride"]))
    return services, named


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_every_authorization_policy_principal_is_a_service_account_the_platform_creates(
    rendered: dict[str, Rendering], stack: str
) -> None:
    rendering = rendered[stack]
    accounts = {(_meta(o).get("namespace"), _meta(o)["name"]) for o in _objects(rendering, "ServiceAccount")}
    accounts |= _chart_objects(stack)[1]
    missing = []
    for policy in _objects(rendering, "AuthorizationPolicy"):
        for rule in (policy.get("spec") or {}).get("rules") or []:
            for source in rule.get("from") or []:
                for principal in (source.get("source") or {}).get("principals") or []:
                    match = SA_PRINCIPAL.fullmatch(principal)
                    if match and (match[1], match[2]) not in accounts:
                        missing.append(f"{_meta(policy).get('namespace')}/{_meta(policy)['name']}: {principal}")
    assert missing == []
    assert ("istio-system", INGRESS_GATEWAY_ACCOUNT) in accounts


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_every_route_and_the_ext_authz_provider_reach_a_service_the_platform_creates(
    rendered: dict[str, Rendering], stack: str
) -> None:
    rendering = rendered[stack]
    services = {(_meta(o).get("namespace"), _meta(o)["name"]) for o in _objects(rendering, "Service")}
    services |= _chart_objects(stack)[0]
    hosts = []
    for route in _objects(rendering, "VirtualService"):
        for http in (route.get("spec") or {}).get("http") or []:
            hosts += [(d["destination"]["host"], _meta(route).get("namespace")) for d in http.get("route") or []]
    mesh = next(o for o in _objects(rendering, "ConfigMap") if _meta(o)["name"] == "istio")
    providers = yamlio.load(mesh["data"]["mesh"])["extensionProviders"]
    hosts += [(p["envoyExtAuthzHttp"]["service"], None) for p in providers]
    assert (auth.OAUTH2_PROXY_SERVICE, None) in hosts
    assert any(h == auth.DEX_SERVICE for h, _ in hosts)
    missing = []
    for host, namespace in hosts:
        name, _, rest = host.partition(".")
        where = rest.split(".")[0] if rest else namespace
        if (where, name) not in services:
            missing.append(host)
    assert missing == []


def _injects(namespace: dict[str, Any]) -> bool:
    return (_meta(namespace).get("labels") or {}).get("istio-injection") == "enabled"


@pytest.mark.parametrize("stack", ["dev", "sandbox"])
def test_meshed_namespaces_admit_their_injected_pods(rendered: dict[str, Rendering], stack: str) -> None:
    """Injected pods pass `restricted`/`baseline` only without the root, NET_ADMIN `istio-init` container, i.e.
    with Istio CNI: its node agent must be installed and the injector told to leave `istio-init` out."""
    rendering = rendered[stack]
    strict = [n for n in _objects(rendering, "Namespace") if _injects(n)]
    assert {_meta(n)["name"] for n in strict} >= {"kubeflow", "kubeflow-system", "knative-serving"}
    assert {(_meta(n).get("labels") or {}).get(PSS_ENFORCE) for n in strict} <= {"restricted", "baseline"}
    daemons = {_meta(o)["name"] for o in _objects(rendering, "DaemonSet")}
    assert "istio-cni-node" in daemons
    injector = next(o for o in _objects(rendering, "ConfigMap") if _meta(o)["name"] == "istio-sidecar-injector")
    values = yamlio.load(injector["data"]["values"])
    assert values["pilot"]["cni"]["enabled"] is True


def test_team_namespaces_are_meshed_at_the_level_the_profile_controller_gives(
    rendered: dict[str, Rendering], mirror: Path
) -> None:
    level = yamlio.load(upstream_file(mirror, "applications/profiles/pss/namespace-labels.yaml"))[PSS_ENFORCE]
    assert PROFILE_NAMESPACE_LABELS[PSS_ENFORCE] == level == "baseline"
    teams = [
        n
        for n in _objects(rendered["dev"], "Namespace")
        if "kubeflow-vsphere.io/team" in (_meta(n).get("labels") or {})
    ]
    assert teams, "dev has team profiles"
    for namespace in teams:
        labels = _meta(namespace)["labels"]
        assert labels["istio-injection"] == "enabled", _meta(namespace)["name"]
        assert labels[PSS_ENFORCE] == level, _meta(namespace)["name"]


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_no_object_lands_in_a_namespace_nobody_chose(rendered: dict[str, Rendering], stack: str) -> None:
    stray = [
        f"{o['kind']}/{_meta(o)['name']}" for o in _objects(rendered[stack]) if _meta(o).get("namespace") == "default"
    ]
    assert stray == []


def test_gateway_and_profile_principals_are_upstream_s(rendered: dict[str, Rendering]) -> None:
    """KFAM's and the profile controller's configuration name the gateway's account, as our tenancy does."""
    config = next(
        o
        for o in _objects(rendered["dev"], "ConfigMap")
        if _meta(o)["name"].startswith("profiles-config") and _meta(o).get("namespace") == "kubeflow"
    )
    assert config["data"]["ISTIO_INGRESS_GATEWAY_PRINCIPAL"] == INGRESS_GATEWAY_PRINCIPAL == INGRESS_PRINCIPALS[0]
    assert config["data"]["KFP_UI_PRINCIPAL"] == INGRESS_PRINCIPALS[1]
    gateway = next(o for o in _objects(rendered["dev"], "Deployment") if _meta(o)["name"] == "istio-ingressgateway")
    assert gateway["spec"]["template"]["spec"]["serviceAccountName"] == INGRESS_GATEWAY_ACCOUNT


def test_upstream_mesh_policies_are_in_place(rendered: dict[str, Rendering], mirror: Path) -> None:
    """`global-deny-all` from istio-install, and `istio-external-auth` (oauth2-proxy only for requests without an
    Authorization header, DENY without a verified JWT, Dex's in-cluster issuer) exactly as upstream writes them."""
    policies = {
        (o["kind"], _meta(o).get("namespace"), _meta(o)["name"]): o.get("spec")
        for o in _objects(rendered["dev"])
        if o["kind"] in ("AuthorizationPolicy", "RequestAuthentication")
    }
    assert policies[("AuthorizationPolicy", "istio-system", "global-deny-all")] in ({}, None)
    folder = "common/oauth2-proxy/components/istio-external-auth"
    for file in (
        "authorizationpolicy.istio-ingressgateway-oauth2-proxy.yaml",
        "authorizationpolicy.istio-ingressgateway-require-jwt.yaml",
        "requestauthentication.dex-jwt.yaml",
    ):
        theirs = yamlio.load(upstream_file(mirror, f"{folder}/{file}"))
        key = (theirs["kind"], "istio-system", theirs["metadata"]["name"])
        assert policies[key] == theirs["spec"], key
    dex_config = yamlio.load(upstream_file(mirror, "common/dex/overlays/oauth2-proxy/config-map.yaml"))
    assert yamlio.load(dex_config["data"]["config.yaml"])["issuer"] == auth.DEX_ISSUER


def test_dex_and_oauth2_proxy_are_released_under_the_names_upstream_routes_to() -> None:
    dex, proxy = _chart("dev", "dex"), _chart("dev", "oauth2-proxy")
    assert (dex["inputs"]["namespace"], _release(dex)) == ("auth", "dex")
    assert (proxy["inputs"]["namespace"], _release(proxy)) == ("oauth2-proxy", "oauth2-proxy")
    assert auth.DEX_SERVICE == "dex.auth.svc.cluster.local"
    assert auth.OAUTH2_PROXY_SERVICE == "oauth2-proxy.oauth2-proxy.svc.cluster.local"


def test_dex_runs_as_restricted_admits_and_as_upstream_runs_it(mirror: Path) -> None:
    values = _chart("dev", "dex")["inputs"]["values"]
    container = values["securityContext"]
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]
    assert container["runAsNonRoot"] is True
    assert container["seccompProfile"]["type"] == "RuntimeDefault"
    upstream = yamlio.load(upstream_file(mirror, "common/dex/base/deployment.yaml"))
    theirs = upstream["spec"]["template"]["spec"]["containers"][0]
    assert container == theirs["securityContext"]
    assert "v" + theirs["image"].rsplit(":v", 1)[1] == values["image"]["tag"]


def test_oauth2_proxy_uses_the_in_cluster_issuer_without_discovery(mirror: Path) -> None:
    """No fetch of `https://<host>/dex` (a lab's self-signed certificate): the settings of upstream's config."""
    args = _chart("dev", "oauth2-proxy")["inputs"]["values"]["extraArgs"]
    config = upstream_file(mirror, "common/oauth2-proxy/base/oauth2_proxy.cfg")
    settings = dict(re.findall(r'^(\w+) = "?([^"\n]*)"?$', config, flags=re.M))
    for theirs, ours in (
        ("oidc_issuer_url", "oidc-issuer-url"),
        ("skip_oidc_discovery", "skip-oidc-discovery"),
        ("login_url", "login-url"),
        ("redeem_url", "redeem-url"),
        ("oidc_jwks_url", "oidc-jwks-url"),
        ("redirect_url", "redirect-url"),
        ("relative_redirect_url", "relative-redirect-url"),
    ):
        assert args[ours] == settings[theirs], ours
    image = yamlio.load(upstream_file(mirror, "common/oauth2-proxy/base/deployment.yaml"))
    tag = image["spec"]["template"]["spec"]["containers"][0]["image"].rsplit(":", 1)[1]
    assert _chart("dev", "oauth2-proxy")["inputs"]["values"]["image"]["tag"] == tag


def _webhook_backends(objects: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(API group, resource) checked by a webhook that fails closed -> the Deployment serving it, as a
    depends-on reference."""
    services = {(_meta(o).get("namespace"), _meta(o)["name"]): o for o in objects if o["kind"] == "Service"}
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    gated: dict[tuple[str, str], str] = {}
    for config in objects:
        if config["kind"] not in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            continue
        for hook in config.get("webhooks") or []:
            ref = (hook.get("clientConfig") or {}).get("service")
            if hook.get("failurePolicy", "Fail") != "Fail" or not ref:
                continue
            selector = ((services.get((ref["namespace"], ref["name"])) or {}).get("spec") or {}).get("selector") or {}
            backends = [
                d
                for d in deployments
                if _meta(d).get("namespace") == ref["namespace"]
                and selector.items() <= (d["spec"]["template"]["metadata"].get("labels") or {}).items()
            ]
            for rule in hook.get("rules") or []:
                for group in rule.get("apiGroups") or []:
                    for resource in rule.get("resources") or []:
                        for backend in backends:
                            gated[(group, resource)] = (
                                f"apps/namespaces/{_meta(backend)['namespace']}/Deployment/{_meta(backend)['name']}"
                            )
    return gated


def test_objects_checked_by_a_webhook_of_their_own_directory_wait_for_it(rendered: dict[str, Rendering]) -> None:
    """Where upstream applies a directory again until its webhook answers (KServe), each object the webhook
    checks waits for the webhook's Deployment (`config.kubernetes.io/depends-on`, honoured by the provider)."""
    rendering = rendered["sandbox"]
    plurals = {
        (crd["spec"]["group"], crd["spec"]["names"]["kind"]): crd["spec"]["names"]["plural"]
        for crd in _objects(rendering, "CustomResourceDefinition")
    }
    by_source: dict[str, list[dict[str, Any]]] = {}
    for o in rendering.objects:
        by_source.setdefault(o.source, []).append(o.manifest)
    checked = 0
    for objects in by_source.values():
        gated = _webhook_backends(objects)
        for obj in objects:
            group = obj["apiVersion"].rpartition("/")[0]
            backend = gated.get((group, plurals.get((group, obj["kind"]), "")))
            if backend is None:
                continue
            checked += 1
            refs = str((_meta(obj).get("annotations") or {}).get(DEPENDS_ON, "")).split(",")
            assert backend in refs, f"{obj['kind']}/{_meta(obj)['name']} does not wait for {backend}"
    assert checked >= 11, "KServe's ClusterServingRuntimes are checked by its webhook"


def test_cluster_local_gateway_and_kubeflow_istio_resources_come_after_istio() -> None:
    plan = examples.plan("dev")
    by_name = {r["name"]: r for r in plan["resources"]}
    directories = {r["inputs"]["directory"]: r for r in plan["resources"] if "directory" in r["inputs"]}
    install = next(r for url, r in directories.items() if "/istio-install/" in url)
    crds = next(r for url, r in directories.items() if "/istio-crds/" in url)
    assert crds["urn"] in install["dependencies"]
    for path in ("common/istio/cluster-local-gateway/base", "common/istio/kubeflow-istio-resources/base"):
        after = next(r for url, r in directories.items() if f"/{path}?" in url)
        assert install["urn"] in after["dependencies"], path
    assert by_name  # every resource has a name


def test_versions_are_the_26_03_tested_set(rendered: dict[str, Rendering]) -> None:
    images = {
        c["image"]
        for o in _objects(rendered["dev"])
        if o["kind"] in ("Deployment", "DaemonSet")
        for c in o["spec"]["template"]["spec"]["containers"]
    }
    proxies = {i.rsplit(":", 1)[1] for i in images if "/istio-release/proxyv2:" in i}
    assert len(proxies) == 1, f"every gateway (ingress, cluster-local) runs one Istio version: {proxies}"
    pilot = {i.rsplit(":", 1)[1] for i in images if "/istio-release/pilot:" in i}
    assert pilot == proxies
    assert {i.rsplit(":", 1)[1] for i in images if "jetstack/cert-manager-controller" in i} == {"v1.19.4"}
    charts = {r["inputs"]["chart"].rsplit("/", 1)[-1] for r in _charts("sandbox")}
    assert not charts & {"base", "istiod", "gateway", "cni", "cert-manager", "kubeflow-trainer"}


def test_trainer_is_upstream_s_with_runtimes_and_aggregated_roles(mirror: Path) -> None:
    """The chart made its ClusterTrainingRuntimes in a post-install hook (helm.v4 runs none) and had no roles
    aggregating into `kubeflow-edit`; 26.03's directory has both as plain objects, in `kubeflow-system`."""
    plan = examples.plan("dev")
    trainer = [r for r in plan["resources"] if r["inputs"].get("directory", "").endswith("/trainer/overlays?ref=26.03")]
    assert len(trainer) == 1
    overlay = yamlio.load(upstream_file(mirror, "applications/trainer/overlays/kustomization.yaml"))
    assert overlay["namespace"] == "kubeflow-system"
    roles = yamlio.load_all(
        upstream_file(mirror, "applications/trainer/upstream/overlays/kubeflow-platform/kubeflow-trainer-roles.yaml")
    )
    aggregated = {
        r["metadata"]["name"]
        for r in roles
        if r and (r["metadata"].get("labels") or {}).get("rbac.authorization.kubeflow.org/aggregate-to-kubeflow-edit")
    }
    assert "kubeflow-trainer-edit" in aggregated
    runtimes = yamlio.load(upstream_file(mirror, "applications/trainer/upstream/base/runtimes/kustomization.yaml"))
    assert "torch_distributed.yaml" in runtimes["resources"]


def test_depends_on_keeps_references_already_there() -> None:
    props: dict[str, Any] = {"metadata": {"name": "x", "annotations": {DEPENDS_ON: "/namespaces/a/ConfigMap/b"}}}
    out = with_dependency(props, "apps/namespaces/a/Deployment/c", "/namespaces/a/ConfigMap/b")
    assert out["metadata"]["annotations"][DEPENDS_ON] == "/namespaces/a/ConfigMap/b,apps/namespaces/a/Deployment/c"
    assert props["metadata"]["annotations"][DEPENDS_ON] == "/namespaces/a/ConfigMap/b", "input left as it was"
