"""What the whole installation tells its components: how users reach it and where identities come from.

Plain data without components, so that the base every component shares can carry it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi


@dataclass(frozen=True, kw_only=True)
class IngressSettings:
    """How users reach the platform: hostname, certificate source and the load balancer."""

    hostname: str
    tls: Literal["selfSigned", "acme", "existingSecret"] = "selfSigned"
    acme_server: str | None = None
    acme_email: str | None = None
    existing_secret: str | None = None
    load_balancer_ip: str | None = None
    service_annotations: Mapping[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True, kw_only=True)
class IdentitySettings:
    """Where identities come from; the connector's secret is a stack secret (client secret or bind password)."""

    hostname: str
    mode: Literal["oidc", "ldap", "staticUser"]
    connector: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """OIDC: issuer, clientID, name. LDAP: Dex's LDAP connector config without bindPW."""
    connector_secret: pulumi.Input[str] | None = None
    static_email: str | None = None
