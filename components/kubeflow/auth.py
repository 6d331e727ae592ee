"""Identity: Dex (external OIDC/LDAP, or one generated lab user) and oauth2-proxy at the ingress.

No default credentials: there is no `user@example.com`/`12341234`. A lab's static user gets a
generated password, stored bcrypt-hashed in Dex's config and exported only as a secret output.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components import catalog
from components.kubeflow.base import KubeflowComponent
from components.kubeflow.settings import IdentitySettings

CLIENT_ID = "kubeflow-oidc-authservice"
DEX_CONFIG_SECRET = "dex-config"  # noqa: S105 - a Secret's name
OAUTH2_PROXY_SECRET = "oauth2-proxy-credentials"  # noqa: S105 - a Secret's name
GATEWAY = "kubeflow/kubeflow-gateway"

DEX_RELEASE = "dex"
"""Helm release name = the Service name: upstream routes `/dex/` and its JWT issuer to `dex.auth.svc`."""
DEX_NAMESPACE = "auth"
OAUTH2_PROXY_RELEASE = "oauth2-proxy"
"""Helm release name = the Service name Istio's ext-authz provider calls: `oauth2-proxy.oauth2-proxy.svc`."""
OAUTH2_PROXY_NAMESPACE = "oauth2-proxy"
DEX_SERVICE = f"{DEX_RELEASE}.{DEX_NAMESPACE}.svc.cluster.local"
OAUTH2_PROXY_SERVICE = f"{OAUTH2_PROXY_RELEASE}.{OAUTH2_PROXY_NAMESPACE}.svc.cluster.local"
DEX_ISSUER = f"http://{DEX_SERVICE}:5556/dex"
"""The in-cluster issuer, as 26.03 uses it: oauth2-proxy redeems and Istio fetches keys inside the cluster, so
no certificate of the public hostname (self-signed in labs) has to be trusted anywhere."""
PUBLIC_PATHS = ["/dex/*", "/dex/**", "/oauth2/*"]
"""Paths reachable without a session, so that people can sign in (upstream's `istio-external-auth`)."""
GATEWAY_SELECTOR = {"matchLabels": {"app": "istio-ingressgateway"}}
RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "runAsNonRoot": True,
    "runAsUser": 1001,
    "runAsGroup": 1001,
    "seccompProfile": {"type": "RuntimeDefault"},
}
"""Dex's container securityContext in 26.03 (`common/dex/base`): what Pod Security `restricted` admits."""


def dex_config(identity: IdentitySettings, client_secret: str, static_hash: str | None) -> dict[str, Any]:
    """Dex's config.yaml: one client (oauth2-proxy), and the connector or static user."""
    config: dict[str, Any] = {
        "issuer": DEX_ISSUER,
        "storage": {"type": "kubernetes", "config": {"inCluster": True}},
        "web": {"http": "0.0.0.0:5556"},
        "oauth2": {"skipApprovalScreen": True},
        "enablePasswordDB": identity.mode == "staticUser",
        "staticClients": [
            {
                "id": CLIENT_ID,
                "name": "Kubeflow",
                "secret": client_secret,
                "redirectURIs": ["/oauth2/callback"],
            }
        ],
    }
    if identity.mode == "staticUser":
        config["staticPasswords"] = [
            {
                "email": identity.static_email,
                "hash": static_hash,
                "username": identity.static_email,
                "userID": identity.static_email,
            }
        ]
    else:
        config["connectors"] = [_connector(identity)]
    return config


def _connector(identity: IdentitySettings) -> dict[str, Any]:
    settings = dict(identity.connector)
    name = str(settings.pop("name", identity.mode.upper()))
    if identity.mode == "oidc":
        settings |= {
            "clientSecret": identity.connector_secret,
            "redirectURI": f"https://{identity.hostname}/dex/callback",
            "scopes": ["openid", "profile", "email", "groups"],
            "insecureEnableGroups": True,
        }
    else:
        settings |= {"bindPW": identity.connector_secret}
    return {"type": identity.mode, "id": identity.mode, "name": name, "config": settings}


class Dex(KubeflowComponent):
    """Dex from its official chart; its config (with secrets) lives in a Secret we own, not in chart values."""

    key = "dex"
    kind = "Dex"
    summary = "Dex, with its config in a Secret the program owns"
    needs = ("istio",)
    client_secret: pulumi.Output[str]
    static_password: pulumi.Output[str] | None

    extra_artifacts = (catalog.DEX,)

    @property
    def identity(self) -> IdentitySettings:
        return self.args.identity

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", DEX_NAMESPACE, "restricted")
        child = pulumi.ResourceOptions(parent=self)
        self.client_secret = random.RandomPassword(f"{name}-client-secret", length=32, special=False, opts=child).result
        static_hash: pulumi.Output[str] | None = None
        self.static_password = None
        if self.identity.mode == "staticUser":
            password = random.RandomPassword(f"{name}-static-user", length=24, special=False, opts=child)
            self.static_password = password.result
            static_hash = password.bcrypt_hash
        # Secret because the client secret (a RandomPassword result) is: secretness flows through apply.
        config = pulumi.Output.all(self.client_secret, static_hash, self.identity.connector_secret).apply(
            lambda v: yaml.safe_dump(dex_config(_with_secret(self.identity, v[2]), v[0], v[1]), sort_keys=True)
        )
        secret = k8s.core.v1.Secret(
            f"{name}-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=DEX_CONFIG_SECRET, namespace=DEX_NAMESPACE, labels=dict(self.args.labels)
            ),
            string_data={"config.yaml": config},
            opts=self.opts(ns),
        )
        chart = self.chart(f"{name}-chart", catalog.DEX, DEX_NAMESPACE, dex_values(), secret, release=DEX_RELEASE)
        self.custom(
            f"{name}-route",
            ("networking.istio.io/v1", "VirtualService", "dex", DEX_NAMESPACE),
            _route("/dex/", DEX_SERVICE, 5556),
            chart,
        )


def _with_secret(identity: IdentitySettings, secret: Any) -> IdentitySettings:
    return replace(identity, connector_secret=secret)


def dex_values() -> dict[str, Any]:
    """Point the chart at our config Secret instead of rendering one from values; run Dex 2.45.0 (26.03's) as
    `restricted` admits it (the chart's securityContext is empty)."""
    return {
        "configSecret": {"create": False, "name": DEX_CONFIG_SECRET},
        "image": {"tag": catalog.DEX_IMAGE_TAG},
        "podSecurityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": dict(RESTRICTED_CONTAINER),
    }


def _route(prefix: str, host: str, port: int) -> dict[str, Any]:
    return {
        "gateways": [GATEWAY],
        "hosts": ["*"],
        "http": [
            {
                "match": [{"uri": {"prefix": prefix}}],
                "route": [{"destination": {"host": host, "port": {"number": port}}}],
            }
        ],
    }


def oauth2_proxy_values() -> dict[str, Any]:
    """oauth2-proxy as 26.03 configures it (`common/oauth2-proxy/base/oauth2_proxy.cfg`): against Dex's in-cluster
    issuer with discovery skipped and relative redirects, so the public hostname's certificate is never fetched;
    secure cookies because TLS ends at the gateway; client and cookie secrets from the Secret the program owns."""
    env = [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": OAUTH2_PROXY_SECRET, "key": key}}}
        for var, key in (
            ("OAUTH2_PROXY_CLIENT_SECRET", "client-secret"),
            ("OAUTH2_PROXY_COOKIE_SECRET", "cookie-secret"),
        )
    ]
    return {
        "image": {"tag": catalog.OAUTH2_PROXY_IMAGE_TAG},
        "config": {"clientID": CLIENT_ID, "requiredSecretKeys": ["client-id"]},
        "extraEnv": env,
        "extraArgs": {
            "provider": "oidc",
            "oidc-issuer-url": DEX_ISSUER,
            "skip-oidc-discovery": "true",
            "login-url": "/dex/auth",
            "redeem-url": f"{DEX_ISSUER}/token",
            "oidc-jwks-url": f"{DEX_ISSUER}/keys",
            "redirect-url": "/oauth2/callback",
            "relative-redirect-url": "true",
            "scope": "profile email groups openid",
            "email-domain": "*",
            "upstream": "static://200",
            "skip-auth-route": "^/dex/",
            "api-route": ["/api/", "/apis/", "^/ml_metadata"],
            "prompt": "none",
            "skip-provider-button": "false",
            "set-authorization-header": "true",
            "set-xauthrequest": "true",
            "skip-jwt-bearer-tokens": "true",
            "cookie-name": "oauth2_proxy_kubeflow",
            "cookie-expire": "24h",
            "cookie-refresh": "0",
            "cookie-secure": "true",
            "code-challenge-method": "S256",
        },
    }


def gateway_auth_policies() -> list[tuple[str, str, dict[str, Any]]]:
    """26.03's `istio-external-auth` at the ingress gateway, as (kind, name, spec): oauth2-proxy checks requests
    WITHOUT an Authorization header; a DENY for any request without a verified JWT; and the RequestAuthentication
    that verifies Dex's JWTs (in-cluster issuer) and turns their claims into the `kubeflow-userid` header."""
    return [
        (
            "AuthorizationPolicy",
            "istio-ingressgateway-oauth2-proxy",
            {
                "action": "CUSTOM",
                "provider": {"name": "oauth2-proxy"},
                "selector": GATEWAY_SELECTOR,
                "rules": [
                    {
                        "when": [{"key": "request.headers[authorization]", "notValues": ["*"]}],
                        "to": [{"operation": {"notPaths": PUBLIC_PATHS}}],
                    }
                ],
            },
        ),
        (
            "AuthorizationPolicy",
            "istio-ingressgateway-require-jwt",
            {
                "action": "DENY",
                "selector": GATEWAY_SELECTOR,
                "rules": [
                    {
                        "from": [{"source": {"notRequestPrincipals": ["*"]}}],
                        "to": [{"operation": {"notPaths": PUBLIC_PATHS}}],
                    }
                ],
            },
        ),
        (
            "RequestAuthentication",
            "dex-jwt",
            {
                "selector": GATEWAY_SELECTOR,
                "jwtRules": [
                    {
                        "issuer": DEX_ISSUER,
                        "forwardOriginalToken": True,
                        "outputClaimToHeaders": [
                            {"header": "kubeflow-userid", "claim": "email"},
                            {"header": "kubeflow-groups", "claim": "groups"},
                        ],
                        "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}],
                    }
                ],
            },
        ),
    ]


class OAuth2Proxy(KubeflowComponent):
    """oauth2-proxy (official chart) as Istio's ext-authz provider, and the mesh policies that use it."""

    key = "oauth2Proxy"
    kind = "OAuth2Proxy"
    summary = "oauth2-proxy as the gateway's ext-authz provider, and its mesh policies"
    needs = ("istio", "dex")

    extra_artifacts = (catalog.OAUTH2_PROXY,)

    def build(self, name: str) -> None:
        dex = self.args.installed["dex"]
        assert isinstance(dex, Dex), "oauth2-proxy needs Dex: its prerequisite"
        client_secret: pulumi.Input[str] = dex.client_secret
        ns = self.namespace(f"{name}-namespace", OAUTH2_PROXY_NAMESPACE, "restricted")
        cookie = random.RandomPassword(
            f"{name}-cookie-secret", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=OAUTH2_PROXY_SECRET, namespace=OAUTH2_PROXY_NAMESPACE, labels=dict(self.args.labels)
            ),
            string_data={"client-secret": pulumi.Output.secret(client_secret), "cookie-secret": cookie.result},
            opts=self.opts(ns),
        )
        chart = self.chart(
            f"{name}-chart",
            catalog.OAUTH2_PROXY,
            OAUTH2_PROXY_NAMESPACE,
            oauth2_proxy_values(),
            secret,
            release=OAUTH2_PROXY_RELEASE,
        )
        self.custom(
            f"{name}-route",
            ("networking.istio.io/v1", "VirtualService", "oauth2-proxy", OAUTH2_PROXY_NAMESPACE),
            _route("/oauth2/", OAUTH2_PROXY_SERVICE, 80),
            chart,
        )
        # Resource names of the first release kept, so that the URNs do not change.
        names = {"istio-ingressgateway-oauth2-proxy": "ext-authz", "dex-jwt": "dex-jwt"}
        for kind, object_name, spec in gateway_auth_policies():
            self.custom(
                f"{name}-{names.get(object_name, object_name)}",
                ("security.istio.io/v1", kind, object_name, "istio-system"),
                spec,
                chart,
            )
