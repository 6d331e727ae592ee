"""Issue 17: the first `pulumi up` of a new environment, as the engine plays its preview (kfvs plan --fresh).

The real components are run under `preview_fresh`, which answers as the engine does at a first preview:
outputs of what is being created are unknown, reads run with the IDs they are given, lookups of what is
created without a dependency on it find nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pulumi_kubernetes as k8s
import pytest

from components.tanzu.cluster import WorkloadCluster, WorkloadClusterArgs, kubeconfig_secret_id
from components.tanzu.specs import ClusterSpec
from components.vsphere.catalog import ContentLibraries, SubscribedLibrary
from components.vsphere.virtual_machine import Placement, Template, VirtualMachine, VirtualMachineArgs
from infra import paths
from infra.errors import ConfigError
from infra.kfvs.fresh import Effect, FreshPreview, Kind, fresh_stack, preview_fresh
from infra.kfvs.recorder import SECRET, Recording, record
from infra.kfvs.run import judge_stack, record_stack, validate_stack
from infra.kfvs.secrets import stack_secrets
from tests import yamlio
from tests.environment_files import edit_environment, join_environment

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


_PLACEMENT = Placement(
    datacenter_id="dc-1", resource_pool_id="rp-1", datastore_id="ds-1", folder="kubeflow", network_ids=["net-1"]
)


def _vm_program(by_id: bool) -> None:
    libraries = ContentLibraries(
        "libs",
        [
            SubscribedLibrary(
                name="dlvm", subscription_url="https://example.test/lib.json", on_demand=True, automatic_sync=False
            )
        ],
        datastore_id="ds-1",
    )
    VirtualMachine(
        "vm-1",
        VirtualMachineArgs(
            cpus=2,
            memory_mib=4096,
            disk_gib=[40],
            template=Template(
                name="ubuntu-2204-nvidia",
                content_library="dlvm",
                library_id=libraries.library_ids["dlvm"] if by_id else None,
            ),
            placement=_PLACEMENT,
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
                template=Template(name="ubuntu", content_library="published-elsewhere"),
                placement=_PLACEMENT,
                tag_ids=[],
            ),
        )

    recording = record(program, "proj", "st", {}, frozenset())
    tokens = [i.token.rsplit(":", 1)[-1] for i in recording.invocations]
    assert tokens == ["getContentLibrary", "getContentLibraryItem"]
    assert recording.invocations[0].args == {"name": "published-elsewhere"}


@pytest.mark.parametrize("stack", paths.list_stacks())
def test_no_example_stack_stops_its_first_preview(stack: str) -> None:
    preview = fresh_stack(stack)
    stopping = [h.line() for h in preview.hazards if h.effect is Effect.stops]
    assert stopping == []


def _names(recording: Recording) -> set[str]:
    """Each resource's qualified type and name: its URN without the stack and project."""
    return {r.urn.split("::", 2)[2] for r in recording.resources.values() if r.type != "pulumi:pulumi:Stack"}


@pytest.mark.fresh_runs
def test_the_layers_split_the_environment_and_keep_its_urns(project: Path) -> None:
    settings, infra = record_stack("dev-infra", project)
    settings, infra = record_stack("dev-infra", project)
    assert settings.stack == "dev"
    assert settings.layer == "infra"
    platform = record_stack("dev-platform", project)[1]
    join_environment(project, "dev")
    whole = record_stack("dev", project)[1]
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
    infra = fresh_stack("dev-infra", project)
    assert [h.line() for h in infra.hazards if h.effect is not Effect.later] == []
    platform = fresh_stack("dev-platform", project)
    # Went red with the platform layer's providers built from the cluster (as in the one-stack layout): 31+
    # charts and directories hidden from the preview.
    assert [h.line() for h in platform.hazards] == []
    assert platform.exit_status == 0


def test_a_platform_without_its_infra_stack_fails_by_name(project: Path) -> None:
    (project / "stacks" / "Pulumi.dev-infra.yaml").unlink()
    with pytest.raises(ConfigError, match="dev-infra"):
        record_stack("dev-platform", project)


def test_a_key_in_the_other_layers_file_names_the_file_it_belongs_in(project: Path) -> None:
    infra = project / "stacks" / "Pulumi.dev-infra.yaml"
    document = yamlio.load(infra.read_text())
    document["config"]["kubeflow-vsphere:registryMirror"] = {"host": "harbor.example.internal"}
    document["config"]["kubeflow-vsphere:ngcApiKey"] = {"secure": "v1:REPLACE-WITH-pulumi-config-set-secret"}
    infra.write_text(yamlio.dump(document))
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev-infra", project)
    moved = [str(p) for p in caught.value.problems if "belongs to the platform layer" in p.message]
    assert moved == [
        "stacks/Pulumi.dev-infra.yaml: kubeflow-vsphere:ngcApiKey: belongs to the platform layer: move it to "
        "stacks/Pulumi.dev-platform.yaml",
        "stacks/Pulumi.dev-infra.yaml: kubeflow-vsphere:registryMirror: belongs to the platform layer: move it to "
        "stacks/Pulumi.dev-platform.yaml",
    ]


def test_vcenter_keys_do_not_belong_in_the_platform_layer(project: Path) -> None:
    platform = project / "stacks" / "Pulumi.dev-platform.yaml"
    document = yamlio.load(platform.read_text())
    document["config"]["vsphere:vsphereServer"] = "vcenter.dev.example.internal"
    platform.write_text(yamlio.dump(document))
    with pytest.raises(ConfigError) as caught:
        validate_stack("dev-platform", project)
    assert [p.key for p in caught.value.problems] == ["vsphere:vsphereServer"]
    assert "move it to stacks/Pulumi.dev-infra.yaml" in caught.value.problems[0].message


def test_a_problem_in_the_infra_keys_names_the_infra_file_from_either_layer(project: Path) -> None:
    edit_environment(project, "dev", lambda c: c["kubeflow-vsphere:environment"].update(tier="qa"))
    for stack in ("dev-infra", "dev-platform"):
        with pytest.raises(ConfigError) as caught:
            validate_stack(stack, project)
        files = {p.file for p in caught.value.problems if p.key.startswith("kubeflow-vsphere:environment")}
        assert files == {"stacks/Pulumi.dev-infra.yaml"}, stack


def test_each_layer_asks_only_for_the_secrets_it_uses() -> None:
    needed = {stack: {s.key for s in stack_secrets(stack) if s.needed} for stack in ("dev-infra", "dev-platform")}
    assert needed["dev-infra"] == {
        "vsphere:password",
        "kubeflow-vsphere:supervisorKubeconfig",
        "kubeflow-vsphere:nlsClientToken",  # the licensed vGPU guests of pool dev-infer-l40s
    }
    assert needed["dev-platform"] == {"kubeflow-vsphere:ngcApiKey", "kubeflow-vsphere:nlsClientToken"}


def test_the_platform_layers_quotas_count_the_infra_layers_pools(project: Path) -> None:
    # vision's GPUs: 4 in its profile quota (platform layer) and 5 in pools and GPU VMs (infra layer: the
    # passthrough pool dev-train-a100 and its own). A budget of 6 holds either half alone, not both together.
    budgets = project / "policies" / "quotas" / "config" / "dev.json"
    config = json.loads(budgets.read_text())
    config["team-quotas"]["teams"]["vision"]["gpus"] = 6
    budgets.write_text(json.dumps(config))
    verdicts = judge_stack("dev-platform", project)[2]
    over = [v.message for v in verdicts if v.policy == "team-quotas" and "team 'vision' asks for" in v.message]
    assert len(over) == 1, over
    assert "GPUs" in over[0]
    assert "stack-level pools" in over[0]
    infra_alone = judge_stack("dev-infra", project)[2]
    assert not [v for v in infra_alone if v.policy == "team-quotas" and "team 'vision' asks for" in v.message]
