"""External MySQL and S3-compatible object storage for Pipelines, Katib and Model Registry (kubeflow/manifests
26.03), through upstream's own parameters.

What upstream 26.03 offers, and how each is used here:

- Pipelines (`applications/pipeline/overlays`): the in-cluster MySQL (`third-party/mysql`) and SeaweedFS
  (`third-party/seaweedfs`) are resources of `env/platform-agnostic-multi-user`, which the overlay builds on,
  and no multi-user directory of 26.03 comes without them. The parameters are `pipeline-install-config`
  (`dbHost`, `mysqlHost`, `dbPort`, `mysqlPort`, `pipelineDb`, `mlmdDb`, `cacheDb`, `bucketName`,
  `defaultPipelineRoot`), the Secrets `mysql-secret` (username, password) and `mlpipeline-minio-artifact`
  (accesskey, secretkey) that every Deployment reads by name, the API server's `OBJECTSTORECONFIG_*` and
  `DBCONFIG_MYSQLCONFIG_EXTRAPARAMS`, the UI's `AWS_*`, and Argo's `workflow-controller-configmap`
  `artifactRepository`. A stack transform (as ordering.py's) sets them on the objects the provider renders;
  the in-cluster `mysql` and `seaweedfs` Deployments are scaled to zero (their Services, PVCs and policies
  stay: a transform cannot drop an object of a directory that must stay).
- The pipelines profile controller (its `sync.py`) makes each profile's `kfp-launcher`, `artifact-repositories`
  and `mlpipeline-minio-artifact` with SeaweedFS's IAM API and a fixed `mlpipeline` bucket: it cannot serve
  another store, so with an external store it is scaled to zero and `TeamArtifacts` makes those objects per
  team, with the team's own prefix (upstream's `private-artifacts/<namespace>/`).
- Katib (`installs/katib-with-kubeflow` builds on `katib-cert-manager`, which includes `components/mysql`):
  upstream's `installs/katib-external-db` patch is the parameter set (`DB_USER`, `DB_PASSWORD`,
  `KATIB_MYSQL_DB_HOST`, `KATIB_MYSQL_DB_PORT`, `KATIB_MYSQL_DB_DATABASE` on `katib-db-manager`); the
  `katib-mysql` Deployment is scaled to zero.
- Model Registry: `upstream/overlays/db` is `upstream/base` plus the database; with an external database the
  component installs `base`, whose server reads `mysql-secret` and `pipeline-install-config`
  (`embedmdDb`, `dbHost`, `dbPort`); those references are pointed at the registry's own Secret and ConfigMap.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

NAMESPACE = "kubeflow"
KFP_LABEL = ("application-crd-id", "kubeflow-pipelines")
"""Every object of the Pipelines directory carries it (26.03's `env/platform-agnostic-multi-user`)."""
MYSQL_SECRET = "mysql-secret"  # noqa: S105 - upstream's Secret name
ARTIFACT_SECRET = "mlpipeline-minio-artifact"  # noqa: S105 - upstream's Secret name
INSTALL_CONFIG = "pipeline-install-config"
IN_CLUSTER_DEPLOYMENTS = {
    "pipelines": {"database": "mysql", "objectStore": "seaweedfs"},
    "katib": {"database": "katib-mysql"},
    "modelRegistry": {"database": "model-registry-db"},
}
"""Upstream's in-cluster store Deployments (namespace kubeflow) per component and store."""
PROFILE_CONTROLLER = "kubeflow-pipelines-profile-controller"
DEFAULT_DATABASES = {
    "pipelines": {"pipelineDb": "mlpipeline", "mlmdDb": "metadb", "cacheDb": "cachedb"},
    "katib": {"katib": "katib"},
    "modelRegistry": {"embedmdDb": "metadb"},
}
"""Upstream's database names (pipeline-install-config; katib's `KATIB_MYSQL_DB_DATABASE` default; the model
registry db overlay's `MYSQL_DATABASE`)."""
EXCLUDE_PORTS = "traffic.sidecar.istio.io/excludeOutboundPorts"
STORES_ANNOTATION = "kubeflow-vsphere.io/external-stores"
"""Stamped on what the wiring makes: which component and which store it points elsewhere."""


@dataclass(frozen=True)
class Credentials:
    """Either a Secret that already exists in `kubeflow` (with upstream's keys), or values from stack secrets."""

    existing_secret: str | None = None
    values: Mapping[str, pulumi.Input[str]] = field(default_factory=dict[str, "pulumi.Input[str]"])


@dataclass(frozen=True)
class Database:
    host: str
    port: int
    databases: Mapping[str, str]
    credentials: Credentials
    tls: bool = False


@dataclass(frozen=True)
class ObjectStore:
    host: str
    port: int
    secure: bool
    region: str
    bucket: str
    path_style: bool
    credentials: Credentials
    prefix: str = ""
    """Key prefix inside the bucket, before upstream's `private-artifacts/<namespace>/`."""
    ca_pem: str | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"


@dataclass(frozen=True)
class ComponentStores:
    database: Database | None = None
    object_store: ObjectStore | None = None


@dataclass(frozen=True)
class StoreSettings:
    """What each component points elsewhere; a component absent here keeps upstream's in-cluster stores."""

    pipelines: ComponentStores | None = None
    katib: ComponentStores | None = None
    model_registry: ComponentStores | None = None

    def of(self, key: str) -> ComponentStores | None:
        return {"pipelines": self.pipelines, "katib": self.katib, "modelRegistry": self.model_registry}.get(key)


def secret_name(component: str, store: str, credentials: Credentials) -> str:
    """The Secret the wiring points at: the existing one, or the one `credential_secret` makes."""
    if credentials.existing_secret:
        return credentials.existing_secret
    return f"{_kebab(component)}-{'mysql' if store == 'database' else 'object-store'}-credentials"


def ca_config_map(component: str) -> str:
    return f"{_kebab(component)}-object-store-ca"


def _kebab(key: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)


def stamp(component: str, stores: ComponentStores) -> str:
    """The annotation's value: the stores a component has outside the cluster, as JSON."""
    out: dict[str, Any] = {"component": component}
    if stores.database is not None:
        out["database"] = f"{stores.database.host}:{stores.database.port}"
    if stores.object_store is not None:
        out["objectStore"] = f"{stores.object_store.url}/{stores.object_store.bucket}"
    return json.dumps(out, sort_keys=True)


# --- what the components make ------------------------------------------------------------------------------


def wiring(
    component: str,
    stores: ComponentStores,
    name: str,
    labels: Mapping[str, str],
    opts: pulumi.ResourceOptions,
) -> list[pulumi.Resource]:
    """The objects a component's external stores need in `kubeflow`: credential Secrets made from stack secrets,
    the ConfigMap stamped with the endpoints (Model Registry reads its database parameters from it), and the
    object store's CA."""
    made: list[pulumi.Resource] = []
    annotations = {STORES_ANNOTATION: stamp(component, stores)}
    for store, creds in (
        ("database", stores.database.credentials if stores.database else None),
        ("objectStore", stores.object_store.credentials if stores.object_store else None),
    ):
        if creds is None or creds.existing_secret:
            continue
        made.append(
            k8s.core.v1.Secret(
                f"{name}-{'mysql' if store == 'database' else 'object-store'}-credentials",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=secret_name(component, store, creds),
                    namespace=NAMESPACE,
                    labels=dict(labels),
                    annotations=annotations,
                ),
                string_data={k: pulumi.Output.secret(v) for k, v in creds.values.items()},
                opts=opts,
            )
        )
    data: dict[str, str] = {}
    if stores.database is not None:
        db = stores.database
        data |= {"dbHost": db.host, "dbPort": str(db.port), **db.databases}
    if stores.object_store is not None:
        store_ = stores.object_store
        data |= {"objectStoreEndpoint": store_.url, "bucketName": store_.bucket, "region": store_.region}
    made.append(
        k8s.core.v1.ConfigMap(
            f"{name}-external-stores",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=f"{_kebab(component)}-external-stores",
                namespace=NAMESPACE,
                labels=dict(labels),
                annotations=annotations,
            ),
            data=data,
            opts=opts,
        )
    )
    if stores.object_store is not None and stores.object_store.ca_pem:
        made.append(
            k8s.core.v1.ConfigMap(
                f"{name}-object-store-ca",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=ca_config_map(component), namespace=NAMESPACE, labels=dict(labels)
                ),
                data={"ca.crt": stores.object_store.ca_pem},
                opts=opts,
            )
        )
    return made


# --- the stack transforms ------------------------------------------------------------------------------------

Transform = Callable[[pulumi.ResourceTransformArgs], pulumi.ResourceTransformResult | None]


def _meta(props: Mapping[str, Any]) -> tuple[str, str, Mapping[str, str]]:
    metadata = props.get("metadata") or {}
    return str(metadata.get("name", "")), str(metadata.get("namespace", "")), metadata.get("labels") or {}


def _kind(type_: str) -> str:
    return type_.rsplit(":", 1)[-1]


def _containers(props: dict[str, Any]) -> list[dict[str, Any]]:
    return list((((props.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])


def _redirect_refs(value: Any, renames: Mapping[tuple[str, str], tuple[str, str | None]]) -> Any:
    """`value` with every `secretKeyRef` / `configMapKeyRef` named in `renames` ((kind, name) -> (new name,
    key map or None)) pointed at the new object; keys are kept unless the rename maps them."""
    if isinstance(value, list):
        return [_redirect_refs(v, renames) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: _redirect_refs(v, renames) for k, v in value.items()}
    for ref in ("secretKeyRef", "configMapKeyRef"):
        target = out.get(ref)
        if isinstance(target, dict):
            hit = renames.get((ref, str(target.get("name"))))
            if hit is not None:
                out[ref] = {**target, "name": hit[0]}
    return out


def _set_env(container: dict[str, Any], values: Mapping[str, Any]) -> None:
    """Set (or add) env entries: a str is a value, a dict a `valueFrom`."""
    env = [e for e in container.get("env") or [] if e.get("name") not in values]
    for key, value in values.items():
        env.append({"name": key, "value": value} if isinstance(value, str) else {"name": key, "valueFrom": value})
    container["env"] = env


def _scaled_to_zero(props: dict[str, Any]) -> dict[str, Any]:
    out = dict(props)
    out["spec"] = {**(out.get("spec") or {}), "replicas": 0}
    return out


def store_transform(settings: StoreSettings) -> Transform:
    """The stack transform: upstream's parameters set to the external stores on the objects the provider renders
    from each component's directory, the in-cluster stores scaled to zero. Pure on its input, so `kfvs render`
    runs it on the rendered objects and shows the same result."""

    def transform(args: pulumi.ResourceTransformArgs) -> pulumi.ResourceTransformResult | None:
        props = dict(args.props)
        name, namespace, labels = _meta(props)
        if namespace not in ("", NAMESPACE):
            return None
        kind = _kind(args.type_)
        out: dict[str, Any] | None = None
        if settings.pipelines is not None and labels.get(KFP_LABEL[0]) == KFP_LABEL[1]:
            out = _pipelines(kind, name, props, settings.pipelines)
        elif (
            settings.katib is not None
            and settings.katib.database is not None
            and kind == "Deployment"
            and name in ("katib-mysql", "katib-db-manager")
        ):
            out = _katib(name, props, settings.katib.database)
        elif (
            settings.model_registry is not None
            and settings.model_registry.database is not None
            and (kind, name) == ("Deployment", "model-registry-deployment")
        ):
            out = _model_registry(props, settings.model_registry.database)
        if out is None:
            return None
        return pulumi.ResourceTransformResult(props=out, opts=args.opts)

    return transform


def _pipelines(kind: str, name: str, props: dict[str, Any], stores: ComponentStores) -> dict[str, Any] | None:
    db, store = stores.database, stores.object_store
    if kind == "Deployment" and (
        (name == "mysql" and db is not None) or (name in ("seaweedfs", PROFILE_CONTROLLER) and store is not None)
    ):
        return _scaled_to_zero(props)
    if kind == "ConfigMap" and name == INSTALL_CONFIG:
        data = dict(props.get("data") or {})
        if db is not None:
            data |= {"dbHost": db.host, "mysqlHost": db.host, "dbPort": str(db.port), "mysqlPort": str(db.port)}
            data |= {k: v for k, v in db.databases.items() if k in DEFAULT_DATABASES["pipelines"]}
        if store is not None:
            data |= {
                "bucketName": store.bucket,
                "defaultPipelineRoot": f"s3://{store.bucket}/{store.prefix}v2/artifacts",
            }
        return {**props, "data": data}
    if kind == "ConfigMap" and name == "workflow-controller-configmap" and store is not None:
        data = dict(props.get("data") or {})
        repository = yaml.safe_load(str(data.get("artifactRepository") or "")) or {}
        s3 = dict(repository.get("s3") or {})
        s3 |= {
            "endpoint": store.endpoint,
            "bucket": store.bucket,
            "insecure": not store.secure,
            "region": store.region,
            "keyFormat": _prefixed(str(s3.get("keyFormat", "")), store.prefix),
            "accessKeySecret": {"name": ARTIFACT_SECRET, "key": "accesskey"},
            "secretKeySecret": {"name": ARTIFACT_SECRET, "key": "secretkey"},
        }
        repository["s3"] = s3
        data["artifactRepository"] = yaml.safe_dump(repository, sort_keys=False)
        return {**props, "data": data}
    if kind != "Deployment":
        return None
    return _pipelines_deployment(name, props, db, store)


def _pipelines_deployment(
    name: str, props: dict[str, Any], db: Database | None, store: ObjectStore | None
) -> dict[str, Any]:
    """A Pipelines Deployment with its Secret references, object store and database TLS pointed elsewhere."""
    renames: dict[tuple[str, str], tuple[str, str | None]] = {}
    if db is not None:
        renames[("secretKeyRef", MYSQL_SECRET)] = (secret_name("pipelines", "database", db.credentials), None)
    if store is not None:
        renames[("secretKeyRef", ARTIFACT_SECRET)] = (secret_name("pipelines", "objectStore", store.credentials), None)
    out: dict[str, Any] = _redirect_refs(props, renames)
    for container in _containers(out):
        if name == "ml-pipeline" and container.get("name") == "ml-pipeline-api-server":
            if store is not None:
                _set_env(
                    container,
                    {
                        "OBJECTSTORECONFIG_HOST": store.host,
                        "OBJECTSTORECONFIG_PORT": str(store.port),
                        "OBJECTSTORECONFIG_SECURE": "true" if store.secure else "false",
                        "OBJECTSTORECONFIG_REGION": store.region,
                    },
                )
            if db is not None and db.tls:
                _set_env(container, {"DBCONFIG_MYSQLCONFIG_EXTRAPARAMS": json.dumps({"tls": "true"})})
        if name == "ml-pipeline-ui" and store is not None:
            ref = secret_name("pipelines", "objectStore", store.credentials)
            _set_env(
                container,
                {
                    "AWS_S3_ENDPOINT": store.host,
                    "AWS_REGION": store.region,
                    "AWS_SSL": "true" if store.secure else "false",
                    "AWS_ACCESS_KEY_ID": {"secretKeyRef": {"name": ref, "key": "accesskey"}},
                    "AWS_SECRET_ACCESS_KEY": {"secretKeyRef": {"name": ref, "key": "secretkey"}},
                },
            )
            if store.ca_pem:
                _set_env(container, {"NODE_EXTRA_CA_CERTS": "/etc/object-store-ca/ca.crt"})
                _mount_ca(out, container)
        if name == "ml-pipeline" and store is not None and store.ca_pem:
            # Go adds the certificates of SSL_CERT_DIR to its default bundle file.
            _set_env(container, {"SSL_CERT_DIR": "/etc/ssl/certs:/etc/object-store-ca"})
            _mount_ca(out, container)
    _set_containers(out, _containers(out))
    return out


def _prefixed(key_format: str, prefix: str) -> str:
    """Upstream's key format under the store's prefix (once, however often the transform sees the object)."""
    if not prefix or key_format.startswith(prefix):
        return key_format
    return key_format.replace("private-artifacts/", f"{prefix}private-artifacts/", 1)


def _set_containers(props: dict[str, Any], containers: list[dict[str, Any]]) -> None:
    spec = dict(props.get("spec") or {})
    template = dict(spec.get("template") or {})
    pod = dict(template.get("spec") or {})
    pod["containers"] = containers
    template["spec"] = pod
    spec["template"] = template
    props["spec"] = spec


def _mount_ca(props: dict[str, Any], container: dict[str, Any]) -> None:
    mounts = [m for m in container.get("volumeMounts") or [] if m.get("name") != "object-store-ca"]
    container["volumeMounts"] = [*mounts, {"name": "object-store-ca", "mountPath": "/etc/object-store-ca"}]
    spec = props.setdefault("spec", {}).setdefault("template", {}).setdefault("spec", {})
    volumes = [v for v in spec.get("volumes") or [] if v.get("name") != "object-store-ca"]
    spec["volumes"] = [*volumes, {"name": "object-store-ca", "configMap": {"name": ca_config_map("pipelines")}}]


def _katib(name: str, props: dict[str, Any], db: Database) -> dict[str, Any] | None:
    if name == "katib-mysql":
        return _scaled_to_zero(props)
    if name != "katib-db-manager":
        return None
    out = dict(props)
    containers = _containers(out)
    ref = secret_name("katib", "database", db.credentials)
    for container in containers:
        if container.get("name") == "katib-db-manager":
            # upstream's installs/katib-external-db/patches/db-manager.yaml, with the endpoint as plain values
            container["env"] = [
                {"name": "DB_NAME", "value": "mysql"},
                {"name": "DB_USER", "valueFrom": {"secretKeyRef": {"name": ref, "key": "username"}}},
                {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": ref, "key": "password"}}},
                {"name": "KATIB_MYSQL_DB_DATABASE", "value": db.databases.get("katib", "katib")},
                {"name": "KATIB_MYSQL_DB_HOST", "value": db.host},
                {"name": "KATIB_MYSQL_DB_PORT", "value": str(db.port)},
            ]
    _set_containers(out, containers)
    return out


def _model_registry(props: dict[str, Any], db: Database) -> dict[str, Any]:
    renames: dict[tuple[str, str], tuple[str, str | None]] = {
        ("secretKeyRef", MYSQL_SECRET): (secret_name("modelRegistry", "database", db.credentials), None),
        ("configMapKeyRef", INSTALL_CONFIG): ("model-registry-external-stores", None),
    }
    out: dict[str, Any] = _redirect_refs(props, renames)
    containers = _containers(out)
    for container in containers:
        if db.tls:
            container["args"] = [
                str(a).replace("?charset=utf8mb4", "?charset=utf8mb4&tls=true") for a in container.get("args") or []
            ]
    _set_containers(out, containers)
    template = dict(out["spec"]["template"])
    metadata = dict(template.get("metadata") or {})
    # As upstream's db overlay does for its own database: the database is reached outside the mesh.
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        EXCLUDE_PORTS: str(db.port),
    }
    template["metadata"] = metadata
    out["spec"] = {**out["spec"], "template": template}
    return out


# --- per team -----------------------------------------------------------------------------------------------


def launcher_config(store: ObjectStore, namespace: str) -> dict[str, str]:
    """The team's `kfp-launcher` (KFP 2.16 `backend/src/v2/config`): its pipeline root under its own prefix,
    and the S3 provider with the endpoint and the namespace's `mlpipeline-minio-artifact`."""
    providers = {
        "s3": {
            "default": {
                "endpoint": store.url,
                "region": store.region,
                "disableSSL": not store.secure,
                "forcePathStyle": store.path_style,
                "credentials": {
                    "fromEnv": False,
                    "secretRef": {
                        "secretName": ARTIFACT_SECRET,
                        "accessKeyKey": "accesskey",
                        "secretKeyKey": "secretkey",
                    },
                },
            }
        }
    }
    return {
        "defaultPipelineRoot": f"s3://{store.bucket}/{team_prefix(store, namespace)}v2/artifacts",
        "providers": yaml.safe_dump(providers, sort_keys=False),
    }


def team_prefix(store: ObjectStore, namespace: str) -> str:
    """Upstream's per-profile prefix (`private-artifacts/<namespace>/`), under the store's own prefix."""
    return f"{store.prefix}private-artifacts/{namespace}/"


def artifact_repository(store: ObjectStore, namespace: str) -> str:
    """Argo's namespaced default artifact repository, as upstream's profile controller writes it."""
    key_format = (
        f"{team_prefix(store, namespace)}{{{{workflow.name}}}}/{{{{workflow.creationTimestamp.Y}}}}/"
        "{{workflow.creationTimestamp.m}}/{{workflow.creationTimestamp.d}}/{{pod.name}}"
    )
    return json.dumps(
        {
            "archiveLogs": True,
            "s3": {
                "endpoint": store.endpoint,
                "bucket": store.bucket,
                "region": store.region,
                "keyFormat": key_format,
                "insecure": not store.secure,
                "accessKeySecret": {"name": ARTIFACT_SECRET, "key": "accesskey"},
                "secretKeySecret": {"name": ARTIFACT_SECRET, "key": "secretkey"},
            },
        }
    )


@dataclass(frozen=True, kw_only=True)
class TeamArtifactsArgs:
    team: str
    namespace: str
    store: ObjectStore
    provider: pulumi.ProviderResource
    credentials: Mapping[str, pulumi.Input[str]]
    """accesskey and secretkey for the team's namespace (a Secret cannot be read across namespaces)."""
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    depends_on: Sequence[pulumi.Resource] = ()


class TeamArtifacts(pulumi.ComponentResource):
    """What upstream's pipelines profile controller makes in a profile's namespace, for an external store: the
    `kfp-launcher` and `artifact-repositories` ConfigMaps under the team's prefix, `metadata-grpc-configmap`,
    and the `mlpipeline-minio-artifact` Secret. Built after the team's namespace exists."""

    def __init__(self, name: str, args: TeamArtifactsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:kubeflow:TeamArtifacts", name, None, opts)
        child = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=list(args.depends_on))

        def meta(object_name: str, annotations: Mapping[str, str] | None = None) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=object_name, namespace=args.namespace, labels=dict(args.labels), annotations=annotations
            )

        k8s.core.v1.ConfigMap(
            f"{name}-kfp-launcher",
            metadata=meta("kfp-launcher"),
            data=launcher_config(args.store, args.namespace),
            opts=child,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-artifact-repositories",
            metadata=meta(
                "artifact-repositories", {"workflows.argoproj.io/default-artifact-repository": "default-namespaced"}
            ),
            data={"default-namespaced": artifact_repository(args.store, args.namespace)},
            opts=child,
        )
        k8s.core.v1.ConfigMap(
            f"{name}-metadata-grpc",
            metadata=meta("metadata-grpc-configmap"),
            data={"METADATA_GRPC_SERVICE_HOST": "metadata-grpc-service.kubeflow", "METADATA_GRPC_SERVICE_PORT": "8080"},
            opts=child,
        )
        k8s.core.v1.Secret(
            f"{name}-artifact-credentials",
            metadata=meta(ARTIFACT_SECRET),
            string_data={k: pulumi.Output.secret(v) for k, v in args.credentials.items()},
            opts=child,
        )
        self.register_outputs({"prefix": team_prefix(args.store, args.namespace)})


def register_transform(key: str, settings: StoreSettings | None) -> ComponentStores | None:
    """The component's own stores, with their transform registered (call before its directories register: the
    engine applies a stack transform to later registrations only); None when it keeps upstream's."""
    stores = settings.of(key) if settings is not None else None
    if stores is None or (stores.database is None and stores.object_store is None):
        return None
    only = StoreSettings(**{{"modelRegistry": "model_registry"}.get(key, key): stores})
    pulumi.runtime.register_resource_transform(store_transform(only))
    return stores
