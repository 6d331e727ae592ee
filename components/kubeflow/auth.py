"""Identity: Dex (external OIDC/LDAP, or one generated lab user) and oauth2-proxy at the ingress.

No default credentials: there is no `user@example.com`/`12341234`. A lab's static user gets a
generated password, stored bcrypt-hashed in Dex's config and exported only as a secret output.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components import catalog
from components.kubeflow.base import ComponentArgs, KubeflowComponent

CLIENT_ID = "kubeflow-oidc-authservice"
DEX_CONFIG_SECRET = "dex-config"  # noqa: S105 - a Secret's name
OAUTH2_PROXY_SECRET = "oauth2-proxy-credentials"  # noqa: S105 - a Secret's name
GATEWAY = "kubeflow/kubeflow-gateway"


@dataclass(frozen=True)
class IdentitySettings:
    """Where identities come from; the connector's secret is a stack secret (client secret or bind password)."""

    hostname: str
    mode: Literal["oidc", "ldap", "staticUser"]
    connector: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """OIDC: issuer, clientID, name. LDAP: Dex's LDAP connector config without bindPW."""
    connector_secret: pulumi.Input[str] | None = None
    static_email: str | None = None


def dex_config(identity: IdentitySettings, client_secret: str, static_hash: str | None) -> dict[str, Any]:
    """Dex's config.yaml: one client (oauth2-proxy), and the connector or static user."""
    host = identity.hostname
    config: dict[str, Any] = {
        "issuer": f"https://{host}/dex",
        "storage": {"type": "kubernetes", "config": {"inCluster": True}},
        "web": {"http": "0.0.0.0:5556"},
        "oauth2": {"skipApprovalScreen": True},
        "enablePasswordDB": identity.mode == "staticUser",
        "staticClients": [
            {
                "id": CLIENT_ID,
                "name": "Kubeflow",
                "secret": client_secret,
                "redirectURIs": [f"https://{host}/oauth2/callback"],
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

    kind = "Dex"
    client_secret: pulumi.Output[str]
    static_password: pulumi.Output[str] | None

    def __init__(
        self, name: str, args: ComponentArgs, identity: IdentitySettings, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        self.identity = identity
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "auth", "restricted")
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
                name=DEX_CONFIG_SECRET, namespace="auth", labels=dict(self.args.labels)
            ),
            string_data={"config.yaml": config},
            opts=self.opts(ns),
        )
        chart = self.chart(f"{name}-chart", catalog.DEX, "auth", dex_values(), secret)
        self.custom(
            f"{name}-route",
            ("networking.istio.io/v1", "VirtualService", "dex", "auth"),
            _route("/dex/", "dex.auth.svc.cluster.local", 5556),
            chart,
        )


def _with_secret(identity: IdentitySettings, secret: Any) -> IdentitySettings:
    return IdentitySettings(identity.hostname, identity.mode, identity.connector, secret, identity.static_email)


def dex_values() -> dict[str, Any]:
    """Point the chart at our config Secret instead of rendering one from values."""
    return {"configSecret": {"create": False, "name": DEX_CONFIG_SECRET}}


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


def oauth2_proxy_values(hostname: str) -> dict[str, Any]:
    """oauth2-proxy against Dex; its client and cookie secrets come from our Secret through the environment."""
    env = [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": OAUTH2_PROXY_SECRET, "key": key}}}
        for var, key in (
            ("OAUTH2_PROXY_CLIENT_SECRET", "client-secret"),
            ("OAUTH2_PROXY_COOKIE_SECRET", "cookie-secret"),
        )
    ]
    return {
        "config": {"clientID": CLIENT_ID, "requiredSecretKeys": ["client-id"]},
        "extraEnv": env,
        "extraArgs": {
            "provider": "oidc",
            "oidc-issuer-url": f"https://{hostname}/dex",
            "redirect-url": f"https://{hostname}/oauth2/callback",
            "scope": "openid email groups profile offline_access",
            "email-domain": "*",
            "upstream": "static://200",
            "cookie-secure": "true",
            "cookie-samesite": "lax",
            "skip-provider-button": "true",
            "skip-jwt-bearer-tokens": "true",
            "set-xauthrequest": "true",
            "set-authorization-header": "true",
            "reverse-proxy": "true",
        },
    }


class OAuth2Proxy(KubeflowComponent):
    """oauth2-proxy (official chart) as Istio's ext-authz provider, and the mesh policies that use it."""

    kind = "OAuth2Proxy"

    def __init__(
        self,
        name: str,
        args: ComponentArgs,
        hostname: str,
        client_secret: pulumi.Input[str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        self.hostname = hostname
        self.client_secret = client_secret
        super().__init__(name, args, opts)

    def build(self, name: str) -> None:
        ns = self.namespace(f"{name}-namespace", "oauth2-proxy", "restricted")
        cookie = random.RandomPassword(
            f"{name}-cookie-secret", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        secret = k8s.core.v1.Secret(
            f"{name}-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=OAUTH2_PROXY_SECRET, namespace="oauth2-proxy", labels=dict(self.args.labels)
            ),
            string_data={"client-secret": pulumi.Output.secret(self.client_secret), "cookie-secret": cookie.result},
            opts=self.opts(ns),
        )
        chart = self.chart(
            f"{name}-chart", catalog.OAUTH2_PROXY, "oauth2-proxy", oauth2_proxy_values(self.hostname), secret
        )
        self.custom(
            f"{name}-route",
            ("networking.istio.io/v1", "VirtualService", "oauth2-proxy", "oauth2-proxy"),
            _route("/oauth2/", "oauth2-proxy.oauth2-proxy.svc.cluster.local", 80),
            chart,
        )
        self.custom(
            f"{name}-ext-authz",
            ("security.istio.io/v1", "AuthorizationPolicy", "istio-ingressgateway-oauth2-proxy", "istio-system"),
            {
                "action": "CUSTOM",
                "provider": {"name": "oauth2-proxy"},
                "selector": {"matchLabels": {"app": "istio-ingressgateway"}},
                "rules": [{"to": [{"operation": {"notPaths": ["/dex/*", "/dex/**", "/oauth2/*"]}}]}],
            },
            chart,
        )
        self.custom(
            f"{name}-dex-jwt",
            ("security.istio.io/v1", "RequestAuthentication", "dex-jwt", "istio-system"),
            {
                "selector": {"matchLabels": {"app": "istio-ingressgateway"}},
                "jwtRules": [
                    {
                        "issuer": f"https://{self.hostname}/dex",
                        "forwardOriginalToken": True,
                        "outputClaimToHeaders": [
                            {"header": "kubeflow-userid", "claim": "email"},
                            {"header": "kubeflow-groups", "claim": "groups"},
                        ],
                        "fromHeaders": [{"name": "Authorization", "prefix": "Bearer "}],
                    }
                ],
            },
            chart,
        )
