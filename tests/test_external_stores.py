"""External MySQL and object storage (components/kubeflow/stores.py, infra/models/stores.py): the program under
mocks with and without them, the transform on upstream's object shapes, bad input, and a render."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import catalog
from components.kubeflow import stores
from infra.errors import ConfigError
from infra.kfvs.recorder import SECRET, Recording
from infra.kfvs.rendering import render_stack
from infra.kfvs.run import record_stack, validate_stack
from infra.stackfile import PLACEHOLDER_CIPHERTEXT
from tests import yamlio

SECURE = {"secure": PLACEHOLDER_CIPHERTEXT}
SECRET_TYPE = "kubernetes:core/v1:Secret"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
DIRECTORY = "kubernetes:kustomize/v2:Directory"

EXTERNAL: dict[str, Any] = {
    "pipelines": {
        "mysql": {
            "host": "mysql.dev.example.internal",
            "tls": True,
            "credentials": {"username": "kfp", "passwordSecret": "kfpMysql"},
        },
        "objectStore": {
            "endpoint": "https://s3.dev.example.internal:9443",
            "region": "eu-west-1",
            "bucket": "kubeflow-dev",
            "prefix": "kfp/",
            "credentials": {"accessKeySecret": "s3Access", "secretKeySecret": "s3Secret"},
        },
    },
    "katib": {"mysql": {"host": "mysql.dev.example.internal", "credentials": {"existingSecret": "katib-db"}}},
    "modelRegistry": {
        "mysql": {
            "host": "mysql.dev.example.internal",
            "database": "modelregistry",
            "credentials": {"username": "mr", "passwordSecret": "mrMysql"},
        }
    },
}
CREDENTIALS = {"kfpMysql": SECURE, "s3Access": SECURE, "s3Secret": SECURE, "mrMysql": SECURE}


def _platform_file(project: Path, env: str = "dev") -> Path:
    for path in sorted((project / "stacks").glob(f"Pulumi.{env}*.yaml")):
        if "kubeflow-vsphere:kubeflow" in (yamlio.load(path.read_text()).get("config") or {}):
            return path
    raise AssertionError(f"no stack file of {env} holds kubeflow-vsphere:kubeflow")


def _configure(project: Path, edit: Callable[[dict[str, Any]], None], env: str = "dev") -> Path:
    path = _platform_file(project, env)
    document = yamlio.load(path.read_text())
    edit(document["config"])
    path.write_text(yamlio.dump(document, sort_keys=False))
    return path


def _external(config: dict[str, Any], section: dict[str, Any] | None = None) -> None:
    config["kubeflow-vsphere:kubeflow"]["stores"] = json.loads(json.dumps(section or EXTERNAL))
    config["kubeflow-vsphere:storeCredentials"] = dict(CREDENTIALS)


def _named(rec: Recording, type_: str, name: str) -> list[dict[str, Any]]:
    return [r.inputs for r in rec.of_type(type_) if (r.inputs.get("metadata") or {}).get("name") == name]


def _directories(rec: Recording) -> dict[str, str]:
    return {r.urn: str(r.inputs["directory"]) for r in rec.of_type(DIRECTORY)}


@pytest.fixture
def recorded(project: Path) -> Callable[[bool], Recording]:
    def run(external: bool) -> Recording:
        if external:
            _configure(project, _external)
        return record_stack("dev", project)[1]

    return run


def test_without_stores_nothing_changes(recorded: Callable[[bool], Recording]) -> None:
    rec = recorded(False)
    assert catalog.MODEL_REGISTRY.url in _directories(rec).values()
    assert catalog.MODEL_REGISTRY_EXTERNAL_DB.url not in _directories(rec).values()
    stamped = [r for r in rec.resources.values() if stores.STORES_ANNOTATION in json.dumps(r.inputs)]
    assert stamped == []


def test_with_stores_the_components_point_at_the_external_endpoints(
    recorded: Callable[[bool], Recording], project: Path
) -> None:
    before = _directories(record_stack("dev", project)[1])
    rec = recorded(True)
    after = _directories(rec)
    # Model Registry: upstream's base instead of the db overlay, under the same URN; nothing else moves.
    assert set(after) == set(before)
    swapped = {urn for urn in after if after[urn] != before[urn]}
    assert [after[u] for u in swapped] == [catalog.MODEL_REGISTRY_EXTERNAL_DB.url]
    assert before[next(iter(swapped))] == catalog.MODEL_REGISTRY.url
    # Credentials from stack secrets become Secrets with upstream's keys, values kept secret; Katib's is existing.
    # (the recording masks a Secret's stringData whole: the plan never shows a credential)
    for made in (
        "pipelines-mysql-credentials",
        "pipelines-object-store-credentials",
        "model-registry-mysql-credentials",
    ):
        assert [s["stringData"] for s in _named(rec, SECRET_TYPE, made)] == [SECRET], made
    assert _named(rec, SECRET_TYPE, "katib-mysql-credentials") == []
    registry = _named(rec, CONFIG_MAP, "model-registry-external-stores")
    assert [(c["data"]["dbHost"], c["data"]["dbPort"], c["data"]["embedmdDb"]) for c in registry] == [
        ("mysql.dev.example.internal", "3306", "modelregistry")
    ]
    kfp = _named(rec, CONFIG_MAP, "pipelines-external-stores")[0]
    stamp = json.loads(kfp["metadata"]["annotations"][stores.STORES_ANNOTATION])
    assert stamp == {
        "component": "pipelines",
        "database": "mysql.dev.example.internal:3306",
        "objectStore": "https://s3.dev.example.internal:9443/kubeflow-dev",
    }


# --- the transform on upstream 26.03's shapes (names, labels and keys as `kfvs render` shows them) -------------

KFP_LABELS = {"application-crd-id": "kubeflow-pipelines"}


def _object(kind: str, name: str, body: dict[str, Any], labels: dict[str, str] | None = None) -> dict[str, Any]:
    metadata = {"name": name, "namespace": "kubeflow", "labels": labels or {}}
    return {"apiVersion": "apps/v1" if kind == "Deployment" else "v1", "kind": kind, "metadata": metadata, **body}


def _deployment(name: str, env: list[dict[str, Any]], labels: dict[str, str] | None = None, **c: Any) -> dict[str, Any]:
    spec = {"replicas": 1, "template": {"spec": {"containers": [{"name": c.pop("container", name), "env": env, **c}]}}}
    return _object("Deployment", name, {"spec": spec}, labels)


def _ref(kind: str, name: str, key: str) -> dict[str, Any]:
    return {"valueFrom": {kind: {"name": name, "key": key}}}


def _apply(settings: stores.StoreSettings, obj: dict[str, Any]) -> dict[str, Any]:
    kind = obj["kind"]
    type_ = f"kubernetes:{'core/v1' if obj['apiVersion'] == 'v1' else obj['apiVersion']}:{kind}"
    args = pulumi.ResourceTransformArgs(custom=True, type_=type_, name="x", props=obj, opts=pulumi.ResourceOptions())
    result = stores.store_transform(settings)(args)
    return obj if result is None else dict(result.props)


def _settings() -> stores.StoreSettings:
    db = stores.Database(
        host="db.example.internal",
        port=3307,
        databases={"pipelineDb": "p", "mlmdDb": "m", "cacheDb": "c"},
        credentials=stores.Credentials(existing_secret="kfp-db"),
        tls=True,
    )
    store = stores.ObjectStore(
        host="s3.example.internal",
        port=9443,
        secure=True,
        region="eu-west-1",
        bucket="kf",
        path_style=True,
        credentials=stores.Credentials(existing_secret="kfp-s3"),
        prefix="team-data/",
    )
    katib = stores.Database(
        host="db.example.internal", port=3307, databases={"katib": "k"}, credentials=stores.Credentials(values={})
    )
    registry = stores.Database(
        host="db.example.internal", port=3307, databases={"embedmdDb": "r"}, credentials=stores.Credentials(), tls=True
    )
    return stores.StoreSettings(
        pipelines=stores.ComponentStores(database=db, object_store=store),
        katib=stores.ComponentStores(database=katib),
        model_registry=stores.ComponentStores(database=registry),
    )


def _env(obj: dict[str, Any]) -> dict[str, Any]:
    container = obj["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_pipeline_install_config_points_at_the_external_database_and_bucket() -> None:
    data = {"dbHost": "mysql", "mysqlHost": "mysql", "dbPort": "3306", "mysqlPort": "3306", "bucketName": "mlpipeline"}
    out = _apply(_settings(), _object("ConfigMap", "pipeline-install-config", {"data": data}, KFP_LABELS))
    assert out["data"] == {
        "dbHost": "db.example.internal",
        "mysqlHost": "db.example.internal",
        "dbPort": "3307",
        "mysqlPort": "3307",
        "pipelineDb": "p",
        "mlmdDb": "m",
        "cacheDb": "c",
        "bucketName": "kf",
        "defaultPipelineRoot": "s3://kf/team-data/v2/artifacts",
    }


def test_the_api_server_reads_the_external_store_and_credentials() -> None:
    env = [
        {"name": "OBJECTSTORECONFIG_HOST", "value": "seaweedfs.kubeflow"},
        {"name": "OBJECTSTORECONFIG_PORT", "value": "9000"},
        {"name": "OBJECTSTORECONFIG_SECURE", "value": "false"},
        {"name": "DBCONFIG_USER", **_ref("secretKeyRef", "mysql-secret", "username")},
        {"name": "OBJECTSTORECONFIG_ACCESSKEY", **_ref("secretKeyRef", "mlpipeline-minio-artifact", "accesskey")},
    ]
    out = _env(_apply(_settings(), _deployment("ml-pipeline", env, KFP_LABELS, container="ml-pipeline-api-server")))
    assert out["OBJECTSTORECONFIG_HOST"] == "s3.example.internal"
    assert out["OBJECTSTORECONFIG_PORT"] == "9443"
    assert out["OBJECTSTORECONFIG_SECURE"] == "true"
    assert out["OBJECTSTORECONFIG_REGION"] == "eu-west-1"
    assert out["DBCONFIG_USER"] == {"secretKeyRef": {"name": "kfp-db", "key": "username"}}
    assert out["OBJECTSTORECONFIG_ACCESSKEY"] == {"secretKeyRef": {"name": "kfp-s3", "key": "accesskey"}}
    assert json.loads(out["DBCONFIG_MYSQLCONFIG_EXTRAPARAMS"]) == {"tls": "true"}


def test_in_cluster_stores_and_the_seaweedfs_profile_controller_are_scaled_to_zero() -> None:
    settings = _settings()
    for name in ("mysql", "seaweedfs", "kubeflow-pipelines-profile-controller"):
        assert _apply(settings, _deployment(name, [], KFP_LABELS))["spec"]["replicas"] == 0, name
    assert _apply(settings, _deployment("katib-mysql", []))["spec"]["replicas"] == 0
    # Only what has an external replacement: Katib's own Deployments keep running, and a database-only
    # Pipelines setting leaves SeaweedFS and the profile controller alone.
    assert _apply(settings, _deployment("katib-controller", []))["spec"]["replicas"] == 1
    only_db = stores.StoreSettings(pipelines=stores.ComponentStores(database=settings.pipelines.database))  # type: ignore[union-attr]
    assert _apply(only_db, _deployment("seaweedfs", [], KFP_LABELS))["spec"]["replicas"] == 1
    assert _apply(only_db, _deployment("mysql", [], KFP_LABELS))["spec"]["replicas"] == 0


def test_argo_writes_to_the_external_bucket_under_upstreams_per_namespace_prefix() -> None:
    repository = (
        'archiveLogs: true\ns3:\n  endpoint: "seaweedfs.kubeflow:9000"\n  bucket: "mlpipeline"\n'
        '  keyFormat: "private-artifacts/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"\n  insecure: true\n'
    )
    body = {"data": {"artifactRepository": repository}}
    out = _apply(_settings(), _object("ConfigMap", "workflow-controller-configmap", body, KFP_LABELS))
    s3 = yamlio.load(out["data"]["artifactRepository"])["s3"]
    assert (s3["endpoint"], s3["bucket"], s3["insecure"], s3["region"]) == (
        "s3.example.internal:9443",
        "kf",
        False,
        "eu-west-1",
    )
    assert s3["keyFormat"] == "team-data/private-artifacts/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}"


def test_katib_db_manager_takes_upstreams_external_db_parameters() -> None:
    env = [
        {"name": "DB_NAME", "value": "mysql"},
        {"name": "DB_PASSWORD", **_ref("secretKeyRef", "katib-mysql-secrets", "MYSQL_ROOT_PASSWORD")},
    ]
    out = _env(_apply(_settings(), _deployment("katib-db-manager", env)))
    assert out == {
        "DB_NAME": "mysql",
        "DB_USER": {"secretKeyRef": {"name": "katib-mysql-credentials", "key": "username"}},
        "DB_PASSWORD": {"secretKeyRef": {"name": "katib-mysql-credentials", "key": "password"}},
        "KATIB_MYSQL_DB_DATABASE": "k",
        "KATIB_MYSQL_DB_HOST": "db.example.internal",
        "KATIB_MYSQL_DB_PORT": "3307",
    }


def test_model_registry_base_reads_its_own_secret_and_config_map() -> None:
    env = [
        {"name": "DBCONFIG_USER", **_ref("secretKeyRef", "mysql-secret", "username")},
        {"name": "MYSQL_HOST", **_ref("configMapKeyRef", "pipeline-install-config", "dbHost")},
    ]
    dsn = (
        "--embedmd-database-dsn=$(DBCONFIG_USER):$(DBCONFIG_PASSWORD)@tcp($(MYSQL_HOST):$(MYSQL_PORT))/"
        "$(MYSQL_DATABASE)?charset=utf8mb4"
    )
    obj = _deployment("model-registry-deployment", env, container="rest-container", args=[dsn])
    out = _apply(_settings(), obj)
    assert _env(out) == {
        "DBCONFIG_USER": {"secretKeyRef": {"name": "model-registry-mysql-credentials", "key": "username"}},
        "MYSQL_HOST": {"configMapKeyRef": {"name": "model-registry-external-stores", "key": "dbHost"}},
    }
    assert out["spec"]["template"]["spec"]["containers"][0]["args"] == [dsn + "&tls=true"]
    assert out["spec"]["template"]["metadata"]["annotations"] == {stores.EXCLUDE_PORTS: "3307"}


def test_objects_of_other_namespaces_and_components_are_left_alone() -> None:
    settings = _settings()
    other = _deployment("mysql", [], KFP_LABELS)
    other["metadata"]["namespace"] = "team-a"
    assert _apply(settings, other)["spec"]["replicas"] == 1
    unlabelled = _object("ConfigMap", "pipeline-install-config", {"data": {"dbHost": "mysql"}})
    assert _apply(settings, unlabelled)["data"] == {"dbHost": "mysql"}


def test_each_team_gets_upstreams_namespace_objects_under_its_own_prefix() -> None:
    store = _settings().pipelines.object_store  # type: ignore[union-attr]
    assert store is not None
    launcher = stores.launcher_config(store, "team-a")
    assert launcher["defaultPipelineRoot"] == "s3://kf/team-data/private-artifacts/team-a/v2/artifacts"
    s3 = yamlio.load(launcher["providers"])["s3"]["default"]
    assert (s3["endpoint"], s3["region"], s3["disableSSL"], s3["forcePathStyle"]) == (
        "https://s3.example.internal:9443",
        "eu-west-1",
        False,
        True,
    )
    repository = json.loads(stores.artifact_repository(store, "team-b"))["s3"]
    assert repository["keyFormat"].startswith("team-data/private-artifacts/team-b/")
    assert stores.team_prefix(store, "team-a") != stores.team_prefix(store, "team-b")


# --- bad input -----------------------------------------------------------------------------------------------


def _problems(project: Path, edit: Callable[[dict[str, Any]], None]) -> dict[str, list[str]]:
    path = _configure(project, edit)
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev", project)
    out: dict[str, list[str]] = {}
    for p in caught.value.problems:
        assert p.file == str(path.relative_to(project)), p
        out.setdefault(p.key, []).append(p.message)
    return out


STORES = "kubeflow-vsphere:kubeflow.stores"


def _with(path: list[str], value: Any, *, credentials: bool = True) -> Callable[[dict[str, Any]], None]:
    def edit(config: dict[str, Any]) -> None:
        section = json.loads(json.dumps(EXTERNAL))
        cursor = section
        for key in path[:-1]:
            cursor = cursor[key]
        if value is None:
            del cursor[path[-1]]
        else:
            cursor[path[-1]] = value
        config["kubeflow-vsphere:kubeflow"]["stores"] = section
        if credentials:
            config["kubeflow-vsphere:storeCredentials"] = dict(CREDENTIALS)

    return edit


BAD = [
    (
        "a missing credential entry",
        _with(["pipelines", "mysql", "credentials", "passwordSecret"], "nope"),
        f"{STORES}.pipelines.mysql.credentials.passwordSecret",
        "'nope' is not an entry of the stack secret storeCredentials",
    ),
    (
        "both credential sources",
        _with(["katib", "mysql", "credentials", "username"], "k"),
        f"{STORES}.katib.mysql.credentials",
        "not both",
    ),
    ("Katib with TLS", _with(["katib", "mysql", "tls"], True), f"{STORES}.katib.mysql", "no MySQL TLS setting"),
    (
        "a bucket in the endpoint",
        _with(["pipelines", "objectStore", "endpoint"], "https://s3.example.internal/kubeflow-dev"),
        f"{STORES}.pipelines.objectStore",
        "the bucket is `bucket`",
    ),
    (
        "one database for two components",
        _with(["modelRegistry", "mysql", "database"], "metadb"),
        f"{STORES}.modelRegistry.mysql",
        "database 'metadb' on mysql.dev.example.internal:3306 is pipelines's too",
    ),
    ("an unknown key", _with(["pipelines", "minio"], {}), f"{STORES}.pipelines.minio", ""),
]


@pytest.mark.parametrize(("edit", "key", "says"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_store_settings_are_one_line_each(project: Path, edit: Any, key: str, says: str) -> None:
    problems = _problems(project, edit)
    assert key in problems, problems
    assert len(problems[key]) == 1
    assert says in problems[key][0]


def test_plain_text_credentials_are_refused(project: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        _external(config)
        config["kubeflow-vsphere:storeCredentials"] = dict.fromkeys(CREDENTIALS, "plain")

    problems = _problems(project, edit)
    assert any(k.endswith("storeCredentials") for k in problems), problems


def test_stores_of_a_component_that_is_off(project: Path) -> None:
    def edit(config: dict[str, Any]) -> None:
        _external(config)
        config["kubeflow-vsphere:kubeflow"].setdefault("components", {})["katib"] = False

    problems = _problems(project, edit)
    assert "katib is not enabled" in problems[f"{STORES}.katib"][0]


# --- render -------------------------------------------------------------------------------------------------


def test_rendered_objects_carry_the_external_endpoint(
    project: Path, upstream_mirror: Path, kustomize_cache: Path
) -> None:
    _configure(project, _external)
    rendering = render_stack("dev", project, upstream_mirror, cache_dir=kustomize_cache, keep_going=True)
    found = {(o.manifest["kind"], o.manifest["metadata"].get("name")): o.manifest for o in rendering.objects}
    assert found[("ConfigMap", "pipeline-install-config")]["data"]["mysqlHost"] == "mysql.dev.example.internal"
    api = _env(found[("Deployment", "ml-pipeline")])
    assert api["OBJECTSTORECONFIG_HOST"] == "s3.dev.example.internal"
    for name in ("mysql", "seaweedfs", "katib-mysql", "kubeflow-pipelines-profile-controller"):
        assert found[("Deployment", name)]["spec"]["replicas"] == 0, name
    assert ("Deployment", "model-registry-db") not in found
    assert _env(found[("Deployment", "katib-db-manager")])["KATIB_MYSQL_DB_HOST"] == "mysql.dev.example.internal"
    registry = found[("Deployment", "model-registry-deployment")]
    assert "model-registry-external-stores" in json.dumps(registry)
    assert "pipeline-install-config" not in json.dumps(registry)
