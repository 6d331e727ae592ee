"""Issue 17: the first `pulumi up` of a new environment, as the engine plays its preview (kfvs plan --fresh).

The real components are run under `preview_fresh`, which answers as the engine does at a first preview:
outputs of what is being created are unknown, reads run with the IDs they are given, lookups of what is
created without a dependency on it find nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pulumi_kubernetes as k8s
import pytest
import yaml

from components.tanzu.cluster import WorkloadCluster, WorkloadClusterArgs, kubeconfig_secret_id
from components.tanzu.specs import ClusterSpec
from components.vsphere.catalog import ContentLibraries, SubscribedLibrary
from components.vsphere.virtual_machine import Placement, Template, VirtualMachine, VirtualMachineArgs
from infra.errors import ConfigError
from infra.kfvs.fresh import Effect, FreshPreview, Kind, fresh_stack, preview_fresh
from infra.kfvs.recorder import SECRET, Recording, record
from infra.kfvs.run import record_stack
from infra.layers import LAYERS

SUPERVISOR_KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"


def _fresh(program: Callable[[], None]) -> FreshPreview:
    return preview_fresh(program, "proj", "st", {}, frozenset())


def _spec() -> ClusterSpec:
    return ClusterSpec(
        name="c1",
        namespace="ns-1",
        cluster_class="tanzukubernetescluster",
        tkr="v1.31.4---vmware.1-fips-vkr.3",
        storage_class="vsan-default",
        control_plane_replicas=1,
        control_plane_vm_class="best-effort-large",
        control_plane_storage_class="vsan-default",
        pools=[],
        pods=["192.168.0.0/16"],
        services=["10.96.0.0/12"],
        service_domain="cluster.local",
    )


def _cluster_program() -> None:
    supervisor = k8s.Provider("supervisor", kubeconfig=SUPERVISOR_KUBECONFIG)
    WorkloadCluster("c1", WorkloadClusterArgs(spec=_spec(), supervisor=supervisor))


def test_the_kubeconfig_read_is_skipped_at_the_first_preview() -> None:
    preview = _fresh(_cluster_program)
    # Went red with the read's ID fixed (`f"{ns}/{name}-kubeconfig"`) or derived from `metadata`, which a
    # preview answers with its inputs: both are known at preview, so the read ran and found nothing.
    assert [h for h in preview.hazards if h.kind is Kind.read] == []
    assert [h.effect for h in preview.hazards if h.effect is Effect.stops] == []


def test_the_kubeconfig_is_read_after_the_cluster_with_the_cluster_api_secret_id() -> None:
    recording = record(_cluster_program, "proj", "st", {}, frozenset())
    (read,) = recording.reads
    assert read.id == kubeconfig_secret_id("ns-1", "c1") == "ns-1/c1-kubeconfig"
    cluster = next(r for r in recording.resources.values() if r.name == "c1-cluster")
    assert cluster.urn in read.dependencies
    assert read.provider is not None
    assert "::supervisor::" in read.provider


def _vm_program(by_id: bool) -> None:
    libraries = ContentLibraries(
        "libs", [SubscribedLibrary("dlvm", "https://example.test/lib.json", True, False)], datastore_id="ds-1"
    )
    VirtualMachine(
        "vm-1",
        VirtualMachineArgs(
            cpus=2,
            memory_mib=4096,
            disk_gib=[40],
            template=Template(
                "ubuntu-2204-nvidia", "dlvm", library_id=libraries.library_ids["dlvm"] if by_id else None
            ),
            placement=Placement("dc-1", "rp-1", "ds-1", "kubeflow", ["net-1"]),
            tag_ids=[],
        ),
    )


@pytest.mark.parametrize("by_id", [True, False])
def test_a_library_the_run_creates_is_passed_by_id_not_looked_up_by_name(by_id: bool) -> None:
    preview = _fresh(lambda: _vm_program(by_id))
    invokes = [h for h in preview.hazards if h.kind is Kind.invoke]
    if by_id:
        assert invokes == []
    else:
        # The by-name lookup of a library the same run subscribes: the preview (and `up`) stops there.
        assert [h.urn.rsplit("::", 1)[-1] for h in invokes] == ["libs-dlvm"]
        assert invokes[0].effect is Effect.stops


def test_a_library_outside_the_stack_is_still_looked_up_by_name() -> None:
    def program() -> None:
        VirtualMachine(
            "vm-1",
            VirtualMachineArgs(
                cpus=2,
                memory_mib=4096,
                disk_gib=[40],
                template=Template("ubuntu", "published-elsewhere"),
                placement=Placement("dc-1", "rp-1", "ds-1", "kubeflow", ["net-1"]),
                tag_ids=[],
            ),
        )

    recording = record(program, "proj", "st", {}, frozenset())
    tokens = [i.token.rsplit(":", 1)[-1] for i in recording.invocations]
    assert tokens == ["getContentLibrary", "getContentLibraryItem"]
    assert recording.invocations[0].args == {"name": "published-elsewhere"}


@pytest.mark.parametrize("stack", ["dev", "staging", "prod", "sandbox"])
def test_no_example_stack_stops_its_first_preview(stack: str) -> None:
    preview = fresh_stack(stack)
    stopping = [h.line() for h in preview.hazards if h.effect is Effect.stops]
    assert stopping == []


def _split(project: Path, env: str = "dev") -> None:
    """The environment's stack file as its two layers' files (docs/LAYERS.md: `<env>-infra`, `<env>-platform`)."""
    source = project / "stacks" / f"Pulumi.{env}.yaml"
    for layer in LAYERS:
        document = yaml.safe_load(source.read_text())
        document["config"]["kubeflow-vsphere:layer"] = layer
        (project / "stacks" / f"Pulumi.{env}-{layer}.yaml").write_text(yaml.safe_dump(document))


def _names(recording: Recording) -> set[str]:
    """Each resource's qualified type and name: its URN without the stack and project."""
    return {r.urn.split("::", 2)[2] for r in recording.resources.values() if r.type != "pulumi:pulumi:Stack"}


def test_the_layers_split_the_environment_and_keep_its_urns(project: Path) -> None:
    _split(project)
    whole = record_stack("dev", project)[1]
    settings, infra = record_stack("dev-infra", project)
    assert settings.stack == "dev"
    assert settings.layer == "infra"
    platform = record_stack("dev-platform", project)[1]
    types = {r.type for r in infra.resources.values()}
    assert "vsphere:index/virtualMachine:VirtualMachine" in types
    assert "kubernetes:helm.sh/v4:Chart" not in types
    assert not any(r.type.startswith("vsphere:") for r in platform.resources.values())
    assert not any(r.type == "kubeflow-vsphere:tanzu:WorkloadCluster" for r in platform.resources.values())
    # Every resource of the one-stack layout keeps its URN (apart from the stack name) in one layer, except the
    # GPU Operator's, whose parent (the WorkloadCluster) stays in the infra layer: they carry an alias of it.
    # Only the shared root is in both (the same `Platform` component, so the parent chains stay).
    assert _names(infra) & _names(platform) == {"kubeflow-vsphere:index:Platform::kubeflow-dev"}
    missing = _names(whole) - _names(infra) - _names(platform)
    assert missing
    assert all("WorkloadCluster$kubeflow-vsphere:services:GpuOperator" in n for n in missing)
    moved = {n.replace("kubeflow-vsphere:tanzu:WorkloadCluster$", "") for n in missing}
    assert moved <= _names(platform)
    operator = next(r for r in platform.resources.values() if r.name == "kubeflow-dev-gpu-operator")
    assert operator.parent is not None
    assert operator.parent.endswith("kubeflow-vsphere:index:Platform::kubeflow-dev")


def test_the_platform_reads_each_kubeconfig_from_the_infra_stack_as_a_secret(project: Path) -> None:
    _split(project)
    infra = record_stack("dev-infra", project)[1]
    assert infra.outputs is not None
    assert "clusters" in infra.outputs.secret_names
    assert infra.outputs.values["clusters"]["kubeflow-dev"]["namespace"] == "kubeflow-dev"
    platform = record_stack("dev-platform", project)[1]
    (reference,) = [r for r in platform.reads if r.type == "pulumi:pulumi:StackReference"]
    assert reference.id == "organization/kubeflow-vsphere/dev-infra"
    provider = next(r for r in platform.of_type("pulumi:providers:kubernetes") if r.name == "kubeflow-dev-provider")
    assert provider.inputs["kubeconfig"] == SECRET
    assert provider.parent is not None
    assert provider.parent.endswith("::kubeflow-dev")


def test_the_platform_layer_previews_its_charts_on_known_providers(project: Path) -> None:
    _split(project)
    infra = fresh_stack("dev-infra", project)
    assert [h.line() for h in infra.hazards if h.effect is not Effect.later] == []
    platform = fresh_stack("dev-platform", project)
    # Went red with the platform layer's providers built from the cluster (as in the one-stack layout): 31+
    # charts and directories hidden from the preview.
    assert [h.line() for h in platform.hazards] == []
    assert platform.exit_status == 0


def test_a_platform_without_its_infra_stack_fails_by_name(project: Path) -> None:
    _split(project)
    (project / "stacks" / "Pulumi.dev-infra.yaml").unlink()
    with pytest.raises(ConfigError, match="dev-infra"):
        record_stack("dev-platform", project)
