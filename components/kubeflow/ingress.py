"""cert-manager, Istio and the HTTPS ingress of the platform."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components import catalog
from components.kubeflow.base import KubeflowComponent
from components.kubeflow.settings import IngressSettings

INGRESS_TLS_SECRET = "kubeflow-ingress-tls"  # noqa: S105 - a Secret's name
GATEWAY_LABELS = {"istio": "ingressgateway", "app": "istio-ingressgateway"}


SELF_SIGNING_ISSUER = "kubeflow-self-signing-issuer"
"""The ClusterIssuer Kubeflow's webhooks take their certificates from (cert-manager's `overlays/kubeflow`)."""


class CertManager(KubeflowComponent):
    """cert-manager as 26.03 installs it: `common/cert-manager/base` (CRDs, namespace at `restricted`), then,
    once its webhook answers, the self-signing ClusterIssuer of `overlays/kubeflow`. Upstream's script waits for
    the webhook between the two applies; here the issuer waits for the Directory, whose Deployments are awaited."""

    key = "certManager"
    kind = "CertManager"
    summary = "cert-manager and Kubeflow's self-signing ClusterIssuer"
    extra_artifacts = (catalog.CERT_MANAGER,)

    def build(self, name: str) -> None:
        base = self.kustomize(f"{name}-base", catalog.CERT_MANAGER)
        self.custom(
            f"{name}-self-signing-issuer",
            ("cert-manager.io/v1", "ClusterIssuer", SELF_SIGNING_ISSUER, None),
            {"selfSigned": {}},
            base,
        )


INGRESS_GATEWAY_SERVICE = "istio-ingressgateway"
"""The gateway Service of `istio-install` (ClusterIP upstream); the platform makes it the site's load balancer."""
INGRESS_GATEWAY_ACCOUNT = "istio-ingressgateway-service-account"
"""The gateway's ServiceAccount: every 26.03 AuthorizationPolicy, KFAM and the profile controller allow it."""
INGRESS_GATEWAY_PRINCIPAL = f"cluster.local/ns/istio-system/sa/{INGRESS_GATEWAY_ACCOUNT}"


def load_balancer_spec(ingress: IngressSettings) -> k8s.core.v1.ServiceSpecPatchArgs:
    """The gateway Service as a LoadBalancer (NSX or Avi), optionally at a fixed address."""
    return k8s.core.v1.ServiceSpecPatchArgs(type="LoadBalancer", load_balancer_ip=ingress.load_balancer_ip)


class Istio(KubeflowComponent):
    """Istio as 26.03 installs it (`istio-crds`, `istio-namespace`, `istio-install/overlays/oauth2-proxy`: Istio CNI,
    so injected pods pass `restricted`; the gateway's account `istio-ingressgateway-service-account`; the mesh's
    ext-authz provider `oauth2-proxy`; `global-deny-all`), then the cluster-local gateway and Kubeflow's Istio
    resources once the control plane and its CRDs are there. The platform's own changes, one per concern: the
    gateway Service becomes a LoadBalancer, and TLS ends at `kubeflow-gateway` with a cert-manager certificate."""

    key = "istio"
    kind = "Istio"
    summary = (
        "CRDs, namespace, control plane with CNI and ingress gateway, cluster-local gateway, "
        "Kubeflow Istio resources, TLS"
    )
    needs = ("certManager", "kubeflowNamespace")

    extra_artifacts = (
        catalog.ISTIO_CRDS,
        catalog.ISTIO_NAMESPACE,
        catalog.ISTIO_INSTALL,
        catalog.CLUSTER_LOCAL_GATEWAY,
        catalog.KUBEFLOW_ISTIO_RESOURCES,
    )

    @property
    def ingress(self) -> IngressSettings:
        return self.args.ingress

    def build(self, name: str) -> None:
        crds = self.kustomize(f"{name}-crds", catalog.ISTIO_CRDS)
        ns = self.kustomize(f"{name}-istio-namespace", catalog.ISTIO_NAMESPACE)
        install = self.kustomize(f"{name}-install", catalog.ISTIO_INSTALL, crds, ns)
        # Names kept from the first release so that their URNs do not change.
        local = catalog.CLUSTER_LOCAL_GATEWAY
        self.kustomize(f"{name}-{local.path.replace('/', '-')}", local, install)
        resources = self.kustomize(f"{name}-kubeflow-istio-resources", catalog.KUBEFLOW_ISTIO_RESOURCES, install)
        self._load_balancer(name, install)
        secret = self._certificate(name, ns)
        self._https_gateway(name, secret, resources)

    def _load_balancer(self, name: str, install: pulumi.Resource) -> None:
        k8s.core.v1.ServicePatch(
            f"{name}-load-balancer",
            metadata=k8s.meta.v1.ObjectMetaPatchArgs(
                name=INGRESS_GATEWAY_SERVICE,
                namespace="istio-system",
                annotations={**self.ingress.service_annotations, "pulumi.com/patchForce": "true"},
            ),
            spec=load_balancer_spec(self.ingress),
            opts=self.opts(install),
        )

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
