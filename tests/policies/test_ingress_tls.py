"""`ingress-tls`: the ingress answers HTTPS with a certificate and redirects plain HTTP."""

from __future__ import annotations

import pytest

from tests.policies.cases import KUSTOMIZE, Case, changed, gateway, messages, reg
from tests.policies.conftest import Judge

POLICY = "ingress-tls"
GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
MIRROR = "https://git.example.internal/mirrors/kubeflow/manifests"

CASES = [
    Case(
        "an ingress chart without a Gateway",
        changed(drop=["gw"]),
        ["the ingress gateway serves no Gateway with TLS: Kubeflow would be reachable over plain HTTP"],
    ),
    Case("no ingress and no Gateway", changed(drop=["gw", "gateway"])),
    Case(
        "upstream's Istio install (through a git mirror) without a Gateway",
        changed(
            reg(
                KUSTOMIZE, "istio-install", {"directory": f"{MIRROR}/common/istio/istio-install/overlays/oauth2-proxy"}
            ),
            drop=["gw", "gateway"],
        ),
        ["the ingress gateway serves no Gateway with TLS: Kubeflow would be reachable over plain HTTP"],
    ),
    Case(
        "upstream's Istio install with its Gateway served over HTTPS",
        changed(reg(KUSTOMIZE, "istio-install", {"directory": f"{MIRROR}/common/istio/istio-install/base"})),
    ),
    Case(
        "another upstream Istio directory brings no ingress",
        changed(
            reg(KUSTOMIZE, "istio-crds", {"directory": f"{MIRROR}/common/istio/istio-crds/base"}),
            drop=["gw", "gateway"],
        ),
    ),
    Case(
        "no HTTPS server",
        changed(gateway(https=False)),
        ["gateway 'gw' has no HTTPS server with a certificate (tls.credentialName)"],
    ),
    Case(
        "an HTTPS server without a certificate",
        changed(
            reg(
                "kubernetes:networking.istio.io/v1:GatewayPatch",
                "gw",
                {"spec": {"servers": [{"port": {"number": 443, "protocol": "HTTPS"}, "tls": {"mode": "SIMPLE"}}]}},
            )
        ),
        ["gateway 'gw' has no HTTPS server with a certificate (tls.credentialName)"],
    ),
    Case(
        "plain HTTP not redirected",
        changed(gateway(redirect=False)),
        ["gateway 'gw' serves plain HTTP without redirecting to HTTPS"],
    ),
    Case(
        "a Gateway of its own, not a patch, serving plain HTTP",
        changed(gateway(redirect=False, type_=GATEWAY, name="kubeflow-gateway"), drop=["gw"]),
        ["gateway 'kubeflow-gateway' serves plain HTTP without redirecting to HTTPS"],
    ),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: Case, judge: Judge) -> None:
    assert messages(judge(case.recording), POLICY) == case.messages
