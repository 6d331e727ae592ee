"""cert-manager, Istio and the HTTPS ingress of the platform."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
from components.kubeflow.base import ComponentArgs, KubeflowComponent

INGRESS_TLS_SECRET = "kubeflow-ingress-tls"  # noqa: S105 - a Secret's name
OAUTH2_PROXY_SERVICE = "oauth2-proxy.oauth2-proxy.svc.cluster.local"
GATEWAY_LABELS = {"istio": "ingressgateway", "app": "istio-ingressgateway"}


class CertManager(KubeflowComponent):
    """cert-manager from its official chart, CRDs included."""

    kind = "CertManager"

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "cert-manager", "restricted")
        self.chart(f"{name}-chart", catalog.CERT_MANAGER, "cert-manager", cert_manager_values(), ns)


def cert_manager_values() -> dict[str, Any]:
    """Install the CRDs with the chart, and keep them when the chart goes."""
    return {"crds": {"enabled": True, "keep": True}}


@dataclass(frozen=True)
class IngressSettings:
    """How users reach the platform: hostname, certificate source and the load balancer."""

    hostname: str
    tls: Literal["selfSigned", "acme", "existingSecret"] = "selfSigned"
    acme_server: str | None = None
    acme_email: str | None = None
    existing_secret: str | None = None
    load_balancer_ip: str | None = None
    service_annotations: Mapping[str, str] = field(default_factory=dict[str, str])


def istiod_values() -> dict[str, Any]:
    """The mesh sends ingress requests to oauth2-proxy for authentication (ext-authz)."""
    return {
        "meshConfig": {
            "accessLogFile": "/dev/stdout",
            "extensionProviders": [
                {
                    "name": "oauth2-proxy",
                    "envoyExtAuthzHttp": {
                        "service": OAUTH2_PROXY_SERVICE,
                        "port": 80,
                        "includeRequestHeadersInCheck": ["authorization", "cookie"],
                        "headersToUpstreamOnAllow": [
                            "authorization",
                            "path",
                            "x-auth-request-email",
                            "x-auth-request-groups",
                            "x-auth-request-user",
                        ],
                        "headersToDownstreamOnDeny": ["content-type", "set-cookie"],
                    },
                }
            ],
        }
    }


def gateway_values(ingress: IngressSettings) -> dict[str, Any]:
    """The ingress gateway as a LoadBalancer Service (NSX or Avi), optionally at a fixed address."""
    service: dict[str, Any] = {"type": "LoadBalancer", "annotations": dict(ingress.service_annotations)}
    if ingress.load_balancer_ip:
        service["loadBalancerIP"] = ingress.load_balancer_ip
    return {"name": "istio-ingressgateway", "labels": dict(GATEWAY_LABELS), "service": service}


class Istio(KubeflowComponent):
    """Istio CRDs, control plane and ingress gateway (charts); cluster-local gateway and Kubeflow's Istio
    resources (manifests); TLS at the gateway from a cert-manager Certificate (or an existing secret)."""

    kind = "Istio"
    kustomizations = (catalog.CLUSTER_LOCAL_GATEWAY,)

    def __init__(
        self, name: str, args: ComponentArgs, ingress: IngressSettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.ingress = ingress
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "istio-system", "privileged")
        base = self.chart(f"{name}-base", catalog.ISTIO_BASE, "istio-system", {}, ns)
        istiod = self.chart(f"{name}-istiod", catalog.ISTIOD, "istio-system", istiod_values(), base)
        self.chart(f"{name}-gateway", catalog.ISTIO_GATEWAY, "istio-system", gateway_values(self.ingress), istiod)
        resources = self.kustomize(f"{name}-kubeflow-istio-resources", catalog.KUBEFLOW_ISTIO_RESOURCES, istiod)
        secret = self._certificate(name, ns)
        self._https_gateway(name, secret, resources)

    def _certificate(self, name: str, ns: pulumi.Resource) -> str:
        """The gateway's certificate secret in istio-system; cert-manager issues it unless one exists."""
        ingress = self.ingress
        if ingress.tls == "existingSecret":
            return ingress.existing_secret or INGRESS_TLS_SECRET
        issuer = f"{name}-ca-issuer" if ingress.tls == "selfSigned" else f"{name}-acme"
        if ingress.tls == "selfSigned":
            self._self_signed_ca(name, issuer)
        else:
            self.custom(
                f"{name}-acme",
                ("cert-manager.io/v1", "ClusterIssuer", issuer, None),
                {
                    "acme": {
                        "server": ingress.acme_server,
                        "email": ingress.acme_email,
                        "privateKeySecretRef": {"name": f"{issuer}-account"},
                        "solvers": [{"http01": {"ingress": {"ingressClassName": "istio"}}}],
                    }
                },
            )
        self.custom(
            f"{name}-certificate",
            ("cert-manager.io/v1", "Certificate", "kubeflow-ingress", "istio-system"),
            {
                "secretName": INGRESS_TLS_SECRET,
                "dnsNames": [ingress.hostname],
                "issuerRef": {"name": issuer, "kind": "ClusterIssuer", "group": "cert-manager.io"},
            },
            ns,
        )
        return INGRESS_TLS_SECRET

    def _self_signed_ca(self, name: str, issuer: str) -> None:
        """A lab CA: a self-signed root in cert-manager's namespace, and a ClusterIssuer signing with it."""
        root = f"{name}-selfsigned"
        self.custom(f"{name}-selfsigned", ("cert-manager.io/v1", "ClusterIssuer", root, None), {"selfSigned": {}})
        self.custom(
            f"{name}-ca",
            ("cert-manager.io/v1", "Certificate", f"{name}-ca", "cert-manager"),
            {
                "isCA": True,
                "commonName": f"{self.ingress.hostname} CA",
                "secretName": f"{name}-ca",
                "privateKey": {"algorithm": "ECDSA", "size": 256},
                "issuerRef": {"name": root, "kind": "ClusterIssuer", "group": "cert-manager.io"},
            },
        )
        self.custom(
            f"{name}-ca-issuer",
            ("cert-manager.io/v1", "ClusterIssuer", issuer, None),
            {"ca": {"secretName": f"{name}-ca"}},
        )

    def _https_gateway(self, name: str, secret: str, after: pulumi.Resource) -> None:
        """Kubeflow's gateway (from the manifests) answers HTTPS only: HTTP redirects, TLS ends here."""
        k8s.apiextensions.CustomResourcePatch(
            f"{name}-https",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="kubeflow-gateway", namespace="kubeflow", annotations={"pulumi.com/patchForce": "true"}
            ),
            spec={
                "selector": {"istio": GATEWAY_LABELS["istio"]},
                "servers": [
                    {
                        "port": {"number": 80, "name": "http", "protocol": "HTTP"},
                        "hosts": ["*"],
                        "tls": {"httpsRedirect": True},
                    },
                    {
                        "port": {"number": 443, "name": "https", "protocol": "HTTPS"},
                        "hosts": ["*"],
                        "tls": {"mode": "SIMPLE", "credentialName": secret},
                    },
                ],
            },
            opts=self.opts(after),
        )
