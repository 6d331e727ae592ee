"""Workload clusters and their GPU services under mocks: objects, providers, secrets, pinned charts."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.catalog import GPU_OPERATOR
from components.labels import GPU_TAINT, TEAM_LABEL, toleration
from components.services.gpu_operator import GpuOperatorArgs, gpu_operator_values, tolerates
from components.tanzu.classes import CLUSTER_CLASSES, mismatches
from infra.kfvs.recorder import SECRET, Recording, Registration
from infra.kfvs.run import record_stack
from policies.usage import CAPI_CLUSTER, TKC, VM_CLASS
from tests import examples, yamlio
from tests.reference import chart_values, crd_schema

RELEASE = "kubernetes:helm.sh/v4:Chart"


@pytest.fixture(scope="module")
def dev() -> Recording:
    return examples.recording("dev")


def _one(rec: Recording, type_: str, name: str | None = None) -> Registration:
    found = [r for r in rec.of_type(type_) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def test_cluster_object_validates_against_the_cluster_api_crd(dev: Recording) -> None:
    schema = crd_schema("cluster.x-k8s.io_clusters.capi-v1.10.10.yaml", "v1beta1")
    cluster = _one(dev, CAPI_CLUSTER)
    body = {k: cluster.inputs[k] for k in ("apiVersion", "kind", "metadata", "spec")}
    jsonschema.validate(body, schema)
    topology = body["spec"]["topology"]
    assert topology["class"] == "tanzukubernetescluster"
    assert topology["version"] == "v1.31.4---vmware.1-fips-vkr.3"
    assert {v["name"] for v in topology["variables"]} >= {"vmClass", "storageClass", "defaultStorageClass", "trust"}


def test_gpu_pool_is_ubuntu_on_a_vgpu_class_with_volumes_taint_and_labels(dev: Recording) -> None:
    topology = _one(dev, CAPI_CLUSTER).inputs["spec"]["topology"]
    pools = {md["name"]: md for md in topology["workers"]["machineDeployments"]}
    gpu = pools["gpu-a100"]
    overrides = {o["name"]: o["value"] for o in gpu["variables"]["overrides"]}
    vgpu_classes = {r.inputs["name"] for r in dev.of_type(VM_CLASS) if r.inputs.get("vgpuDevices")}
    assert overrides["vmClass"] in vgpu_classes
    assert gpu["metadata"]["annotations"] == {"run.tanzu.vmware.com/resolve-os-image": "os-name=ubuntu"}
    assert (
        topology["controlPlane"]["metadata"]["annotations"]["run.tanzu.vmware.com/resolve-os-image"] == "os-name=ubuntu"
    )
    volumes = {v["mountPath"]: v["capacity"]["storage"] for v in overrides["nodePoolVolumes"]}
    assert volumes == {"/var/lib/containerd": "300Gi", "/var/lib/kubelet": "100Gi"}
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in overrides["nodePoolTaints"]
    assert {"key": "kubeflow-vsphere.io/gpu-pool", "value": "gpu-a100"} in overrides["nodePoolLabels"]
    cpu_overrides = {o["name"] for o in pools["cpu"]["variables"]["overrides"]}
    assert "nodePoolTaints" not in cpu_overrides


def test_cluster_waits_for_ready_and_kubeconfig_is_read_after_it(dev: Recording) -> None:
    cluster = _one(dev, CAPI_CLUSTER)
    assert cluster.inputs["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"
    assert cluster.custom_timeouts == {"create": "60m", "update": "60m"}
    supervisor = _one(dev, "pulumi:providers:kubernetes", "kubeflow-dev-supervisor")
    assert cluster.provider is not None
    assert cluster.provider.startswith(supervisor.urn)
    namespace = _one(dev, "vsphere:index/namespace:Namespace")
    assert namespace.urn in cluster.dependencies
    read = next(r for r in dev.reads if r.name == "kubeflow-dev-kubeconfig")
    assert read.id == "kubeflow-dev/kubeflow-dev-kubeconfig"
    assert read.provider is not None
    assert read.provider.startswith(supervisor.urn)
    assert cluster.urn in read.dependencies


def test_kubeconfig_stays_secret_and_cluster_objects_use_the_cluster_provider(dev: Recording) -> None:
    # Both layers have one: the infra layer's WorkloadCluster its own, the platform layer the one its charts use,
    # built from the infra stack's `clusters` export (docs/LAYERS.md).
    providers = [r for r in dev.of_type("pulumi:providers:kubernetes") if r.name == "kubeflow-dev-provider"]
    assert sorted(r.urn.split("::")[0] for r in providers) == ["urn:pulumi:dev-infra", "urn:pulumi:dev-platform"]
    assert all(r.inputs["kubeconfig"] == SECRET for r in providers)
    provider = next(r for r in providers if r.urn.startswith("urn:pulumi:dev-platform::"))
    operator_parts = [r for r in dev.resources.values() if "GpuOperator$" in r.urn]
    assert {r.type for r in operator_parts} == {"kubernetes:core/v1:Namespace", "kubernetes:core/v1:Secret", RELEASE}
    for r in operator_parts:
        assert r.provider is not None
        assert r.provider.startswith(provider.urn), r.urn


def test_gpu_operator_chart_is_pinned_and_secrets_stay_secret(dev: Recording) -> None:
    release = next(r for r in dev.of_type(RELEASE) if r.inputs["chart"] == "gpu-operator")
    assert release.inputs["chart"] == "gpu-operator"
    assert release.inputs["version"] == GPU_OPERATOR.version == "v26.3.3"
    assert release.inputs["repositoryOpts"] == {"repo": "https://helm.ngc.nvidia.com/nvidia"}
    driver = release.inputs["values"]["driver"]
    assert driver["licensingConfig"] == {"secretName": "licensing-config", "nlsEnabled": True}
    assert driver["imagePullSecrets"] == ["nvaie-registry"]
    licensing = _one(dev, "kubernetes:core/v1:Secret", "kubeflow-dev-gpu-operator-licensing")
    # One secret value makes the whole map secret on the wire: the token never shows.
    assert licensing.inputs["stringData"] == SECRET
    pull = _one(dev, "kubernetes:core/v1:Secret", "kubeflow-dev-gpu-operator-pull-secret")
    assert pull.inputs["type"] == "kubernetes.io/dockerconfigjson"
    assert pull.inputs["stringData"] == SECRET
    namespace = _one(dev, "kubernetes:core/v1:Namespace", "kubeflow-dev-gpu-operator-namespace")
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def _key_paths(values: Any, prefix: str = "") -> list[str]:
    if not isinstance(values, dict) or not values:
        return [prefix]
    return [p for k, v in values.items() for p in _key_paths(v, f"{prefix}.{k}" if prefix else k)]


def _exists(reference: Any, path: str) -> bool:
    node = reference
    for part in path.split("."):
        if isinstance(node, dict) and not node:
            return True  # a free-form map in the chart (e.g. devicePlugin.config.data)
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


@pytest.mark.parametrize("mig", ["single", "mixed", "none"])
@pytest.mark.parametrize("slices", [None, 4])
def test_gpu_operator_values_use_only_keys_of_the_pinned_chart(mig: str, slices: int | None) -> None:
    reference = chart_values("gpu-operator", GPU_OPERATOR.version)
    args = GpuOperatorArgs(
        provider=None,  # type: ignore[arg-type]
        driver_registry="nvcr.io",
        driver_repository="nvcr.io/nvidia/vgpu",
        driver_image="vgpu-guest-driver-7",
        driver_version="580.95.05",
        ngc_api_key="k",
        nls_client_token="t",
        mig_strategy=mig,
        time_slicing_replicas=slices,
        gpu_taints=[{"key": "kubeflow-vsphere.io/team", "value": "vision", "effect": "NoSchedule"}],
    )
    paths = _key_paths(gpu_operator_values(args))
    assert paths
    assert [p for p in paths if not _exists(reference, p)] == []


def test_tanzu_kubernetes_cluster_form(project: Path) -> None:
    path = project / "stacks/Pulumi.dev-infra.yaml"
    document = yamlio.load(path.read_text())
    document["config"]["kubeflow-vsphere:clusters"][0]["api"] = "tanzuKubernetesCluster"
    path.write_text(yamlio.dump(document))
    rec = record_stack("dev", project)[1]
    assert rec.of_type(CAPI_CLUSTER) == []
    tkc = _one(rec, TKC).inputs
    assert tkc["metadata"]["annotations"]["run.tanzu.vmware.com/resolve-os-image"] == "os-name=ubuntu"
    topology = tkc["spec"]["topology"]
    assert topology["controlPlane"]["tkr"] == {"reference": {"name": "v1.31.4---vmware.1-fips-vkr.3"}}
    gpu = next(p for p in topology["nodePools"] if p["name"] == "gpu-a100")
    assert gpu["vmClass"] == "gpu-a100-40c-16x128"
    assert {"name": "containerd", "mountPath": "/var/lib/containerd", "capacity": {"storage": "300Gi"}} in gpu[
        "volumes"
    ]
    assert gpu["taints"][0] == {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    network = tkc["spec"]["settings"]["network"]
    # v1alpha3 trust entries are {name, data}: the CA itself, base64-encoded once, travels in the object.
    (ca,) = network["trust"]["additionalTrustedCAs"]
    assert ca["name"] == "harbor-ca"
    assert base64.b64decode(ca["data"]).decode().startswith("-----BEGIN CERTIFICATE-----\n")
    assert tkc["spec"]["settings"]["storage"] == {"defaultClass": "kubeflow-dev-gold"}
    # The `<cluster>-user-trusted-ca-secret` is a ClusterClass convention; a TKC does not read it.
    assert [r.name for r in rec.of_type("kubernetes:core/v1:Secret") if r.name.endswith("trusted-cas")] == []


def _tolerated(tolerations: list[dict[str, str]], taint: dict[str, str]) -> bool:
    """Kubernetes' rule: same effect (or none), and Exists on the key (or none), or Equal on key and value."""
    for t in tolerations:
        if t.get("effect") not in (None, "", taint["effect"]):
            continue
        if t.get("operator", "Equal") == "Exists" and t.get("key") in (None, "", taint["key"]):
            return True
        if t.get("key") == taint["key"] and t.get("value", "") == taint.get("value", ""):
            return True
    return False


def test_every_gpu_operator_daemonset_and_nfd_tolerates_every_gpu_pool_taint(dev: Recording) -> None:
    """Team pools carry a second taint: without a toleration no driver, plugin or NFD pod ever runs there."""
    topology = _one(dev, CAPI_CLUSTER).inputs["spec"]["topology"]
    taints = [
        taint
        for md in topology["workers"]["machineDeployments"]
        for o in md["variables"]["overrides"]
        if o["name"] == "nodePoolTaints"
        for taint in o["value"]
    ]
    assert {"key": "kubeflow-vsphere.io/team", "value": "vision", "effect": "NoSchedule"} in taints
    values = next(r for r in dev.of_type(RELEASE) if r.inputs["chart"] == "gpu-operator").inputs["values"]
    operands = values["daemonsets"]["tolerations"]
    nfd = values["node-feature-discovery"]["worker"]["tolerations"]
    for taint in taints:
        assert _tolerated(operands, taint), taint
        assert _tolerated(nfd, taint), taint
    # Setting either list replaces the chart's default: every default toleration of the pinned chart stays.
    chart = chart_values("gpu-operator", GPU_OPERATOR.version)
    for default in chart["daemonsets"]["tolerations"]:
        assert default in operands
    for default in chart["node-feature-discovery"]["worker"]["tolerations"]:
        assert default in nfd


def test_mig_strategy_none_sets_the_charts_strategy_and_disables_the_mig_manager() -> None:
    args = GpuOperatorArgs(
        provider=None,  # type: ignore[arg-type]
        driver_registry="nvcr.io",
        driver_repository="nvcr.io/nvidia/vgpu",
        driver_image="vgpu-guest-driver-7",
        driver_version="580.95.05",
        ngc_api_key="k",
        nls_client_token="t",
        mig_strategy="none",
    )
    values = gpu_operator_values(args)
    assert values["mig"] == {"strategy": "none"}
    assert values["migManager"] == {"enabled": False}


def test_guest_driver_image_follows_the_nvaie_release(dev: Recording) -> None:
    driver = next(r for r in dev.of_type(RELEASE) if r.inputs["chart"] == "gpu-operator").inputs["values"]["driver"]
    assert (driver["repository"], driver["image"], driver["version"]) == (
        "nvcr.io/nvidia/vgpu",
        "vgpu-guest-driver-7",
        "580.95.05",
    )


def _variables(topology: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every variable the Cluster sets: cluster-wide and each machine deployment's overrides, with where."""
    out = [("topology.variables", v) for v in topology["variables"]]
    for md in topology["workers"]["machineDeployments"]:
        out += [(f"machineDeployments[{md['name']}]", v) for v in md["variables"]["overrides"]]
    return out


def _record_with_class(project: Path, name: str) -> Recording:
    path = project / "stacks/Pulumi.dev-infra.yaml"
    document = yamlio.load(path.read_text())
    cluster = document["config"]["kubeflow-vsphere:clusters"][0]
    cluster["clusterClass"] = name
    cluster["proxy"] = {"httpProxy": "http://proxy:3128", "httpsProxy": "http://proxy:3128", "noProxy": ["svc"]}
    path.write_text(yamlio.dump(document))
    return record_stack("dev", project)[1]


@pytest.mark.parametrize("name", sorted(CLUSTER_CLASSES))
def test_cluster_sets_only_variables_its_class_defines(project: Path, name: str) -> None:
    """Cluster API rejects variables a class does not define: check every one against the class's schema."""
    topology = _one(_record_with_class(project, name), CAPI_CLUSTER).inputs["spec"]["topology"]
    assert topology["class"] == name
    known = CLUSTER_CLASSES[name].variables
    found = [f"{where}.{v['name']}" for where, v in _variables(topology) if v["name"] not in known]
    found += [m for where, v in _variables(topology) for m in mismatches(v["value"], known.get(v["name"]), where)]
    assert found == []
    names = {v["name"] for _, v in _variables(topology)}
    if CLUSTER_CLASSES[name].schema == "legacy":
        assert {"nodePoolVolumes", "nodePoolTaints", "trust", "proxy", "defaultStorageClass"} <= names
    else:
        assert {"volumes", "node", "osConfiguration", "vsphereOptions"} <= names
        assert not names & {"nodePoolVolumes", "nodePoolTaints", "nodePoolLabels", "trust", "defaultStorageClass"}


def test_generic_class_carries_storage_trust_taints_and_volumes(project: Path) -> None:
    topology = _one(_record_with_class(project, "builtin-generic-v3.3.0"), CAPI_CLUSTER).inputs["spec"]["topology"]
    variables = {v["name"]: v["value"] for v in topology["variables"]}
    assert variables["vsphereOptions"]["persistentVolumes"]["defaultStorageClass"] == "kubeflow-dev-gold"
    assert variables["osConfiguration"]["systemProxy"] == {
        "http": "http://proxy:3128",
        "https": "http://proxy:3128",
        "noProxy": ["svc"],
    }
    assert variables["osConfiguration"]["trust"]["additionalTrustedCAs"] == [
        {"caCert": {"secretRef": {"name": "kubeflow-dev-user-trusted-ca-secret", "key": "harbor-ca"}}}
    ]
    gpu = next(md for md in topology["workers"]["machineDeployments"] if md["name"] == "gpu-a100")
    overrides = {o["name"]: o["value"] for o in gpu["variables"]["overrides"]}
    assert {"name": "containerd", "mountPath": "/var/lib/containerd", "capacity": "300Gi"}.items() <= overrides[
        "volumes"
    ][0].items()
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"} in overrides["node"]["taints"]
    assert overrides["node"]["labels"]["kubeflow-vsphere.io/gpu-pool"] == "gpu-a100"


def test_the_schema_check_tells_the_two_variable_sets_apart() -> None:
    """The check above could not pass by accident: legacy values do not fit the generic class, nor the reverse."""
    legacy, generic = CLUSTER_CLASSES["builtin-generic-v3.1.0"], CLUSTER_CLASSES["builtin-generic-v3.2.0"]
    assert "nodePoolVolumes" not in generic.variables
    assert "vsphereOptions" not in legacy.variables
    volume = [{"name": "containerd", "mountPath": "/var/lib/containerd", "capacity": {"storage": "300Gi"}}]
    assert mismatches(volume, generic.variables["volumes"]) == ["[0].capacity: expected str"]
    trust = {"additionalTrustedCAs": [{"name": "ca"}]}
    assert mismatches(trust, generic.variables["osConfiguration"]["trust"]) == [
        ".additionalTrustedCAs[0].name: not defined"
    ]


def test_a_pods_gpu_toleration_is_derived_from_the_taint_gpu_pools_carry() -> None:
    """PodDefaults tolerate exactly the GPU pools' taint: the same key and value, nothing wider."""
    gpu = toleration(GPU_TAINT)
    assert gpu == {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"}
    assert tolerates([gpu], GPU_TAINT)
    assert not tolerates([gpu], {**GPU_TAINT, "value": "absent"})
    assert not tolerates([gpu], {"key": TEAM_LABEL, "value": "vision", "effect": "NoSchedule"})
