"""The Kubeflow section: which components, how people sign in, TLS, the gateway, and an optional mirror."""

from __future__ import annotations

import re
from ipaddress import IPv4Address
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, HttpUrl, create_model, field_validator, model_validator

from components.kubeflow.registry import COMPONENTS
from infra.models.base import DnsLabel, DnsName, Email, Model, Name
from infra.models.notebooks import NotebookSettings
from infra.models.stores import StoresSettings

PACHYDERM_REFUSED = (
    "Pachyderm 2.11.6 stores its data in an object store (deployTarget with bucket and credentials) that this "
    "platform does not provide or configure yet, and its chart takes the credentials only as plain values; "
    "set it to false (install Pachyderm with its own object store outside this program)"
)


class _ComponentSwitches(Model):
    """Each component switchable; prerequisites are checked (kubeflow/dependencies). The switches themselves are
    made from the components' declarations (components/kubeflow/registry.py), below."""

    pachyderm: bool = Field(default=False, description="refused: see PACHYDERM_REFUSED")

    @field_validator("pachyderm")
    @classmethod
    def _no_pachyderm(cls, value: bool) -> bool:
        if value:
            raise ValueError(PACHYDERM_REFUSED)
        return value

    def enabled(self) -> list[str]:
        """Enabled components by their camelCase keys, as the dependency map names them."""
        return [info.alias or name for name, info in type(self).model_fields.items() if getattr(self, name)]


def switch_field(key: str) -> str:
    """The model's field name of a component's key: `oauth2Proxy` -> `oauth2_proxy`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _switches() -> dict[str, Any]:
    return {
        switch_field(c.key): (bool, Field(default=c.enabled_by_default, alias=c.key, description=c.kind))
        for c in COMPONENTS
    }


if TYPE_CHECKING:
    KubeflowComponents = _ComponentSwitches
else:
    KubeflowComponents = create_model(
        "KubeflowComponents", __base__=_ComponentSwitches, __module__=__name__, **_switches()
    )
    KubeflowComponents.__doc__ = _ComponentSwitches.__doc__


CaBundle = Annotated[str, Field(pattern=r"-----BEGIN CERTIFICATE-----")]
"""PEM certificates Dex trusts besides the system's roots when it reaches the identity provider: with the
in-cluster issuer, Dex is the only piece that fetches anything from outside the cluster."""


class OidcSettings(Model):
    """An external OpenID Connect provider; its client secret is the stack secret `oidcClientSecret`."""

    issuer: HttpUrl
    client_id: Name
    name: Name = "Single sign-on"
    ca_bundle: CaBundle | None = Field(
        default=None, description="PEM of the CA that signed the issuer's certificate, when not a public one"
    )


class LdapSearch(Model):
    """Where users (or groups) are found in the directory."""

    base_dn: Name = Field(alias="baseDN")
    filter: str = ""
    username: Name = "uid"
    id_attr: Name = "uid"
    email_attr: Name = "mail"
    name_attr: Name = "cn"


class LdapSettings(Model):
    """An LDAP directory; the bind password is the stack secret `ldapBindPassword`."""

    host: Name
    bind_dn: Name = Field(alias="bindDN")
    user_search: LdapSearch
    ca_bundle: CaBundle | None = Field(default=None, description="PEM of the CA of the directory's certificate")
    name: Name = "Directory"


class StaticUser(Model):
    """One lab user with a generated password (exported as a secret output); not for production."""

    email: Email


class AuthSettings(Model):
    """Identity comes from exactly one place; there is never a default login."""

    mode: Literal["oidc", "ldap", "staticUser"]
    oidc: OidcSettings | None = None
    ldap: LdapSettings | None = None
    static_user: StaticUser | None = None

    @model_validator(mode="after")
    def _section_for_mode(self) -> AuthSettings:
        section = {"oidc": self.oidc, "ldap": self.ldap, "staticUser": self.static_user}[self.mode]
        if section is None:
            raise ValueError(f"mode is '{self.mode}': add the '{self.mode}' section beside it")
        return self


class AcmeSettings(Model):
    """An ACME CA (Let's Encrypt, or an internal one such as step-ca); HTTP-01 through the gateway."""

    server: HttpUrl
    email: Email


class TlsSettings(Model):
    """Where the gateway's certificate comes from."""

    issuer: Literal["selfSigned", "acme", "existingSecret"] = "selfSigned"
    acme: AcmeSettings | None = None
    secret_name: DnsLabel | None = Field(default=None, description="existingSecret: a TLS Secret in istio-system")

    @model_validator(mode="after")
    def _section_for_issuer(self) -> TlsSettings:
        if self.issuer == "acme" and self.acme is None:
            raise ValueError("issuer is 'acme': add the 'acme' section (server, email)")
        if self.issuer == "existingSecret" and self.secret_name is None:
            raise ValueError("issuer is 'existingSecret': set secretName to the TLS Secret in istio-system")
        return self


class GatewaySettings(Model):
    """The ingress gateway's LoadBalancer Service (NSX or Avi)."""

    load_balancer_ip: IPv4Address | None = Field(default=None, alias="loadBalancerIP")
    annotations: dict[str, str] = Field(default_factory=dict[str, str])


RETIRED_FRAMEWORKS = {
    "mxnet": "MXNet (MXJob) was retired from the Kubeflow Training Operator upstream; use PyTorchJob or Trainer v2",
    "chainer": "Chainer (ChainerJob) was retired upstream with Chainer itself; use PyTorchJob or Trainer v2",
}


TRAINER_RUNTIMES_GONE = (
    "Trainer is installed as 26.03 tested it, with all of its ClusterTrainingRuntimes (torch-distributed, "
    "deepspeed-distributed, mlx-distributed, torchtune-*): remove 'trainerRuntimes'"
)


class TrainingSettings(Model):
    """Which job kinds teams use (Training Operator v1). Trainer v2 brings upstream's runtimes, all of them."""

    frameworks: list[str] = Field(default_factory=lambda: ["tensorflow", "pytorch", "mpi", "xgboost"])
    trainer_runtimes: list[str] | None = Field(default=None, description="no longer a setting: refused")

    @field_validator("trainer_runtimes")
    @classmethod
    def _no_runtime_choice(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            raise ValueError(TRAINER_RUNTIMES_GONE)
        return value

    @model_validator(mode="after")
    def _supported(self) -> TrainingSettings:
        known = {"tensorflow", "pytorch", "mpi", "xgboost", "paddle", "jax"}
        for framework in self.frameworks:
            if framework in RETIRED_FRAMEWORKS:
                raise ValueError(RETIRED_FRAMEWORKS[framework])
            if framework not in known:
                raise ValueError(f"unknown framework '{framework}'; supported: {', '.join(sorted(known))}")
        return self


class ServingSettings(Model):
    """KServe's mode: serverless on Knative (default) or raw Deployments for sites without Knative."""

    raw_deployment: bool = False


class KubeflowSettings(Model):
    """Kubeflow on one workload cluster."""

    cluster: DnsLabel
    hostname: DnsName | None = Field(default=None, description="defaults to environment.domain")
    components: KubeflowComponents = Field(default_factory=KubeflowComponents)
    auth: AuthSettings
    tls: TlsSettings = Field(default_factory=TlsSettings)
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    training: TrainingSettings = Field(default_factory=TrainingSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    notebooks: NotebookSettings = Field(default_factory=NotebookSettings)
    stores: StoresSettings | None = Field(default=None, description="external MySQL / object stores (docs/STORES.md)")


class RegistryMirrorSettings(Model):
    """Air-gapped: every image and chart from this Harbor, the manifests from a git mirror."""

    host: Name = Field(description="registry host and project, e.g. harbor.example.internal/proxy")
    manifests: HttpUrl = Field(description="git mirror of https://github.com/kubeflow/manifests")
    pull_secret: DnsLabel | None = None
