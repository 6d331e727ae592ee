"""`kubeflow.stores`: an external MySQL and S3-compatible object store per component, instead of upstream's
in-cluster MySQL and SeaweedFS (components/kubeflow/stores.py wires them; docs/STORES.md shows how).

Credentials are a Secret that already exists in `kubeflow` (`existingSecret`, with upstream's keys:
`username`/`password` for MySQL, `accesskey`/`secretkey` for the store) or names of entries of the stack
secret `storeCredentials` (`pulumi config set --secret --path 'storeCredentials.<name>' ...`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, HttpUrl, SecretStr, model_validator

from components.kubeflow import stores as wiring
from infra import paths
from infra.errors import Problem
from infra.models.base import DnsLabel, Model, Name

STORE_CREDENTIALS = "storeCredentials"
"""The stack secret (an object: name -> value) the credentials' `*Secret` fields name entries of."""

CaPem = str


class MysqlCredentials(Model):
    """Either `existingSecret`, or `username` with `passwordSecret` (an entry of `storeCredentials`)."""

    existing_secret: DnsLabel | None = Field(default=None, description="a Secret in kubeflow: username, password")
    username: Name | None = None
    password_secret: Name | None = Field(default=None, description="an entry of the stack secret storeCredentials")

    @model_validator(mode="after")
    def _one_source(self) -> MysqlCredentials:
        if self.existing_secret is not None and (self.username or self.password_secret):
            raise ValueError("set existingSecret, or username with passwordSecret, not both")
        if self.existing_secret is None and not (self.username and self.password_secret):
            raise ValueError("set existingSecret, or both username and passwordSecret (an entry of storeCredentials)")
        return self


class S3Credentials(Model):
    """Either `existingSecret`, or `accessKeySecret` with `secretKeySecret` (entries of `storeCredentials`)."""

    existing_secret: DnsLabel | None = Field(default=None, description="a Secret in kubeflow: accesskey, secretkey")
    access_key_secret: Name | None = None
    secret_key_secret: Name | None = None

    @model_validator(mode="after")
    def _one_source(self) -> S3Credentials:
        pair = (self.access_key_secret, self.secret_key_secret)
        if self.existing_secret is not None and any(pair):
            raise ValueError("set existingSecret, or accessKeySecret with secretKeySecret, not both")
        if self.existing_secret is None and not all(pair):
            raise ValueError(
                "set existingSecret, or both accessKeySecret and secretKeySecret (entries of storeCredentials)"
            )
        return self


class MysqlServer(Model):
    host: Name
    port: int = Field(default=3306, ge=1, le=65535)
    tls: bool = Field(
        default=False, description="connect with TLS (the server's certificate from a public or system CA)"
    )
    credentials: MysqlCredentials


class PipelinesMysql(MysqlServer):
    """KFP's three databases; defaults are pipeline-install-config's."""

    pipeline_db: Name = "mlpipeline"
    mlmd_db: Name = "metadb"
    cache_db: Name = "cachedb"


KATIB_TLS = (
    "Katib v0.19.0's db-manager has no MySQL TLS setting (pkg/db/v1beta1/mysql reads only host, port, database, "
    "user and password); set tls to false, or keep Katib's database on a network you trust"
)


class KatibMysql(MysqlServer):
    database: Name = "katib"

    @model_validator(mode="after")
    def _no_tls(self) -> KatibMysql:
        if self.tls:
            raise ValueError(KATIB_TLS)
        return self


class ModelRegistryMysql(MysqlServer):
    database: Name = Field(default="metadb", description="the db overlay's MYSQL_DATABASE")


class ObjectStoreSettings(Model):
    """An S3-compatible store; its scheme says whether TLS is used."""

    endpoint: HttpUrl = Field(description="https://host[:port] (http:// only for a store on a trusted network)")
    region: Name = "us-east-1"
    bucket: DnsLabel
    path_style: bool = Field(default=True, description="bucket in the path (MinIO, Ceph), not in the host name")
    prefix: str = Field(default="", pattern=r"^([a-z0-9][a-z0-9._-]*/)*$", description="key prefix, ending in /")
    ca_pem: CaPem | None = Field(default=None, pattern=r"-----BEGIN CERTIFICATE-----")
    credentials: S3Credentials

    @model_validator(mode="after")
    def _bare_endpoint(self) -> ObjectStoreSettings:
        if (self.endpoint.path or "/") != "/" or self.endpoint.query:
            raise ValueError("endpoint is the store's address only (https://host[:port]); the bucket is `bucket`")
        return self


class PipelinesStores(Model):
    mysql: PipelinesMysql | None = None
    object_store: ObjectStoreSettings | None = None


class KatibStores(Model):
    mysql: KatibMysql | None = None


class ModelRegistryStores(Model):
    mysql: ModelRegistryMysql | None = None


class StoresSettings(Model):
    """Each component optional: one left out keeps upstream's in-cluster stores."""

    pipelines: PipelinesStores | None = None
    katib: KatibStores | None = None
    model_registry: ModelRegistryStores | None = None

    def databases(self) -> dict[str, MysqlServer]:
        out: dict[str, MysqlServer] = {}
        for key, section in (
            ("pipelines", self.pipelines),
            ("katib", self.katib),
            ("modelRegistry", self.model_registry),
        ):
            if section is not None and section.mysql is not None:
                out[key] = section.mysql
        return out


def _names(db: MysqlServer) -> dict[str, str]:
    """Each database name the component uses, by upstream's parameter."""
    if isinstance(db, PipelinesMysql):
        return {"pipelineDb": db.pipeline_db, "mlmdDb": db.mlmd_db, "cacheDb": db.cache_db}
    if isinstance(db, KatibMysql):
        return {"katib": db.database}
    assert isinstance(db, ModelRegistryMysql)
    return {"embedmdDb": db.database}


def check_stores(
    stores: StoresSettings | None,
    enabled: list[str],
    credentials: Mapping[str, Any] | None,
    secret_keys: frozenset[str],
    file: str,
) -> list[Problem]:
    """Cross-key problems: a component that is off, a credential entry that is missing or not a secret, two
    components sharing one database on one server."""
    if stores is None:
        return []
    base = f"{paths.PROJECT_NAME}:kubeflow.stores"
    problems: list[Problem] = []
    sections = {"pipelines": stores.pipelines, "katib": stores.katib, "modelRegistry": stores.model_registry}
    for key, section in sections.items():
        if section is not None and key not in enabled:
            problems.append(
                Problem(file, f"{base}.{key}", f"{key} is not enabled (kubeflow.components.{key}): remove this section")
            )
    problems += _credential_problems(stores, credentials, secret_keys, file)
    seen: dict[tuple[str, int, str], str] = {}
    for key, db in stores.databases().items():
        for parameter, database in _names(db).items():
            place = (db.host, db.port, database)
            if place in seen and seen[place] != key:
                problems.append(
                    Problem(
                        file,
                        f"{base}.{key}.mysql",
                        f"database '{database}' on {db.host}:{db.port} is {seen[place]}'s too ({parameter}): give "
                        "each component its own database name",
                    )
                )
            seen.setdefault(place, key)
    return problems


def _credential_problems(
    stores: StoresSettings, credentials: Mapping[str, Any] | None, secret_keys: frozenset[str], file: str
) -> list[Problem]:
    """Each credential entry the stores name is in the stack secret `storeCredentials`, which is a secret."""
    base = f"{paths.PROJECT_NAME}:kubeflow.stores"
    secret_key = f"{paths.PROJECT_NAME}:{STORE_CREDENTIALS}"
    problems: list[Problem] = []
    wanted: list[tuple[str, str]] = []
    for key, db in stores.databases().items():
        if db.credentials.password_secret:
            wanted.append((f"{base}.{key}.mysql.credentials.passwordSecret", db.credentials.password_secret))
    if stores.pipelines is not None and stores.pipelines.object_store is not None:
        creds = stores.pipelines.object_store.credentials
        where = f"{base}.pipelines.objectStore.credentials"
        wanted += [(f"{where}.accessKeySecret", n) for n in (creds.access_key_secret,) if n]
        wanted += [(f"{where}.secretKeySecret", n) for n in (creds.secret_key_secret,) if n]
    available = credentials or {}
    if credentials is None and wanted:
        # The whole secret is missing: one line on it, naming every entry it needs.
        names = ", ".join(sorted({name for _, name in wanted}))
        problems.append(
            Problem(
                file,
                secret_key,
                f"required by kubeflow.stores (entries {names}): set each with "
                f"`pulumi config set --secret --path '{STORE_CREDENTIALS}.<name>' <value>`",
            )
        )
        wanted = []
    for where, name in wanted:
        if name not in available:
            problems.append(
                Problem(
                    file,
                    where,
                    f"'{name}' is not an entry of the stack secret {STORE_CREDENTIALS}: set it with "
                    f"`pulumi config set --secret --path '{STORE_CREDENTIALS}.{name}' <value>`",
                )
            )
    if credentials is not None and secret_key not in secret_keys:
        problems.append(
            Problem(
                file, secret_key, "is stored in plain text: set its entries with `pulumi config set --secret --path`"
            )
        )
    return problems


def store_settings(
    stores: StoresSettings | None, credentials: Mapping[str, SecretStr] | None
) -> wiring.StoreSettings | None:
    """The components' view: endpoints, names and credentials (stack secrets as their values, wrapped as Pulumi
    secrets by the component). Run after `check_stores` found nothing."""
    if stores is None:
        return None
    values = credentials or {}

    def secret(name: str | None) -> str:
        assert name is not None, "check_stores requires every entry"
        assert name in values, "check_stores requires every entry"
        return values[name].get_secret_value()

    def database(db: MysqlServer | None) -> wiring.Database | None:
        if db is None:
            return None
        c = db.credentials
        creds = (
            wiring.Credentials(existing_secret=c.existing_secret)
            if c.existing_secret
            else wiring.Credentials(values={"username": c.username or "", "password": secret(c.password_secret)})
        )
        return wiring.Database(host=db.host, port=db.port, databases=_names(db), credentials=creds, tls=db.tls)

    def object_store(s: ObjectStoreSettings | None) -> wiring.ObjectStore | None:
        if s is None:
            return None
        c = s.credentials
        creds = (
            wiring.Credentials(existing_secret=c.existing_secret)
            if c.existing_secret
            else wiring.Credentials(
                values={"accesskey": secret(c.access_key_secret), "secretkey": secret(c.secret_key_secret)}
            )
        )
        secure = s.endpoint.scheme == "https"
        return wiring.ObjectStore(
            host=s.endpoint.host or "",
            port=s.endpoint.port or (443 if secure else 80),
            secure=secure,
            region=s.region,
            bucket=s.bucket,
            path_style=s.path_style,
            credentials=creds,
            prefix=s.prefix,
            ca_pem=s.ca_pem,
        )

    p, k, m = stores.pipelines, stores.katib, stores.model_registry
    return wiring.StoreSettings(
        pipelines=wiring.ComponentStores(database=database(p.mysql), object_store=object_store(p.object_store))
        if p is not None
        else None,
        katib=wiring.ComponentStores(database=database(k.mysql)) if k is not None else None,
        model_registry=wiring.ComponentStores(database=database(m.mysql)) if m is not None else None,
    )


def credential_users(stores: StoresSettings | None) -> list[str]:
    """What reads entries of the stack secret `storeCredentials`: each component whose database or object store
    takes its credentials from it (not from an existingSecret). For `kfvs secrets` and the README's checklist."""
    if stores is None:
        return []
    users = [
        f"the external database of {key}"
        for key, db in stores.databases().items()
        if not db.credentials.existing_secret
    ]
    pipelines = stores.pipelines
    if (
        pipelines is not None
        and pipelines.object_store is not None
        and not pipelines.object_store.credentials.existing_secret
    ):
        users.append("the external object store of pipelines")
    return users
