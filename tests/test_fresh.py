"""`kfvs plan --fresh`: the first preview of an empty stack as the engine plays it, and each hazard it meets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
import pulumi_vsphere as vsphere
import pytest
from typer.testing import CliRunner

from infra.kfvs import cli
from infra.kfvs.fresh import EXIT_FAILS, EXIT_HIDES, EXIT_STOPS, Effect, FreshPreview, Kind, fresh_stack, preview_fresh
from infra.kfvs.recorder import UNKNOWN
from infra.paths import list_stacks
from tests.conftest import KfvsRunner
from tests.environment_files import join_environment

KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"


def _fresh(program: Callable[[], None]) -> FreshPreview:
    return preview_fresh(program, "proj", "st", {}, frozenset())


def _kinds(preview: FreshPreview) -> list[tuple[Kind, str]]:
    return [(h.kind, h.urn.rsplit("::", 1)[-1]) for h in preview.hazards]


def _cluster(name: str, provider: k8s.Provider) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name,
        api_version="cluster.x-k8s.io/v1beta1",
        kind="Cluster",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace="ns"),
        spec={"topology": {"class": "tanzukubernetescluster"}},
        opts=pulumi.ResourceOptions(provider=provider),
    )


def _supervisor() -> k8s.Provider:
    return k8s.Provider("supervisor", kubeconfig=KUBECONFIG)


def test_the_one_stack_layout_hides_its_charts_from_the_first_preview(project: Path) -> None:
    # The kubeconfig read's ID is an output of the cluster and the template lookup takes the library's ID, so
    # neither runs at the first preview (tests/test_layers.py breaks each on purpose).
    join_environment(project, "dev")
    preview = fresh_stack("dev", project)
    assert [h for h in preview.hazards if h.effect is Effect.stops] == []
    assert preview.exit_status != EXIT_STOPS
    # In one stack the Kubeflow cluster's provider is built from that (now skipped) read, so its charts and
    # directories stay hidden: what the platform layer's StackReference fixes.
    hidden = [h for h in preview.hazards if h.kind is Kind.construct]
    assert any(h.urn.endswith("::kubeflow-dev-gpu-operator-chart") for h in hidden)
    assert all("kubeflow-dev-provider" in h.reason for h in hidden)
    assert preview.exit_status == EXIT_HIDES


def test_cli_prints_one_line_per_hazard_and_its_exit_status(project: Path, kfvs: KfvsRunner) -> None:
    join_environment(project, "dev")
    done = kfvs("plan", "dev", "--fresh")
    assert done.returncode == EXIT_HIDES, done.stderr
    errors = [line for line in done.stdout.splitlines() if line.startswith("error [hidden from the preview] urn:")]
    assert any(line.split(": ", 1)[0].endswith("::kubeflow-dev-gpu-operator-chart") for line in errors)
    done = kfvs("plan", "dev", "--fresh", "--format", "json")
    body = json.loads(done.stdout)
    assert {"kind": "construct", "effect": "hides"}.items() <= body["hazards"][0].items()


def test_the_layered_example_environments_preview_with_no_hazard_but_the_clusters_wait() -> None:
    done = CliRunner().invoke(cli.app, ["plan", "dev", "--fresh"])
    assert done.exit_code == 0, done.output
    assert "dev-infra: first preview" in done.output
    assert "dev-platform: first preview" in done.output
    assert [line for line in done.output.splitlines() if line.startswith("error ")] == []


def test_a_program_without_reads_has_no_hazard_even_on_unknown_outputs() -> None:
    seen: list[str] = []

    def program() -> None:
        category = vsphere.TagCategory("cat", name="c", cardinality="SINGLE", associable_types=["VirtualMachine"])
        # At preview the ID of a new resource is unknown: the apply must not run (it would crash on None).
        category.id.apply(lambda i: seen.append(i.upper()))
        vsphere.Tag("tag", name="t", category_id=category.id)
        provider = _supervisor()
        _cluster("c1", provider)

    preview = _fresh(program)
    assert preview.hazards == []
    assert preview.exit_status == 0
    assert seen == []
    tag = next(r for r in preview.recording.resources.values() if r.name == "tag")
    assert tag.inputs["categoryId"] == UNKNOWN


def test_a_read_after_a_creation_stops_the_preview_and_an_existing_one_does_not() -> None:
    seen: list[str] = []

    def program() -> None:
        supervisor = _supervisor()
        cluster = _cluster("c1", supervisor)
        on_supervisor = pulumi.ResourceOptions(provider=supervisor)
        existing = k8s.core.v1.Secret.get("existing", "ns/registry-ca", opts=on_supervisor)
        existing.id.apply(seen.append)  # read for real at preview: known
        k8s.core.v1.Secret.get(
            "c1-kubeconfig", "ns/c1-kubeconfig", opts=pulumi.ResourceOptions(provider=supervisor, depends_on=[cluster])
        )

    preview = _fresh(program)
    assert _kinds(preview) == [(Kind.read, "c1-kubeconfig")]
    assert preview.exit_status == EXIT_STOPS
    assert seen == ["ns/registry-ca"]


def test_a_read_of_an_object_the_run_registers_fails_without_depends_on_before_or_after_it() -> None:
    def config_map(name: str, opts: pulumi.ResourceOptions) -> None:
        k8s.core.v1.ConfigMap(name, metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace="ns"), opts=opts)

    def program() -> None:
        supervisor = pulumi.ResourceOptions(provider=_supervisor())
        config_map("settings", supervisor)
        k8s.core.v1.ConfigMap.get("settings-read", "ns/settings", opts=supervisor)
        # Read first, registered after: the engine still reads before the object exists.
        k8s.core.v1.ConfigMap.get("early-read", "ns/later", opts=supervisor)
        config_map("later", supervisor)

    assert _kinds(_fresh(program)) == [(Kind.read, "early-read"), (Kind.read, "settings-read")]


def test_reads_arriving_together_are_each_judged_as_themselves() -> None:
    """The SDK sends each request from an executor thread of its own, so reads overlap: each is judged by its own
    request (judging the last one recorded had some reads judged twice and others never)."""

    def program() -> None:
        supervisor = pulumi.ResourceOptions(provider=_supervisor())
        for i in range(40):
            k8s.core.v1.ConfigMap(
                f"cm{i}", metadata=k8s.meta.v1.ObjectMetaArgs(name=f"cm{i}", namespace="ns"), opts=supervisor
            )
            k8s.core.v1.ConfigMap.get(f"read{i}", f"ns/cm{i}", opts=supervisor)

    assert sorted(_kinds(_fresh(program))) == sorted((Kind.read, f"read{i}") for i in range(40))


def test_a_read_whose_id_is_unknown_is_skipped_and_its_provider_hides_charts() -> None:
    def program() -> None:
        supervisor = _supervisor()
        cluster = _cluster("c1", supervisor)
        secret = k8s.core.v1.Secret.get(
            "c1-kubeconfig",
            cluster.id.apply(lambda _: "ns/c1-kubeconfig"),
            opts=pulumi.ResourceOptions(provider=supervisor),
        )
        workload = k8s.Provider("c1-provider", kubeconfig=secret.data.apply(lambda d: str(d["value"])))
        k8s.helm.v4.Chart(
            "operator", chart="gpu-operator", version="v1", opts=pulumi.ResourceOptions(provider=workload)
        )
        k8s.kustomize.v2.Directory(
            "known", directory="https://example.test/x?ref=v1", opts=pulumi.ResourceOptions(provider=supervisor)
        )

    preview = _fresh(program)
    assert _kinds(preview) == [(Kind.construct, "operator")]
    assert "c1-provider" in preview.hazards[0].reason
    assert "c1-kubeconfig" in preview.hazards[0].reason
    assert preview.exit_status == EXIT_HIDES


def test_a_lookup_by_name_of_what_the_run_creates_is_named_unless_it_waits() -> None:
    def program(wait: bool) -> Callable[[], None]:
        def run() -> None:
            library = vsphere.ContentLibrary("lib", name="images", storage_backings=["ds-1"])
            opts = pulumi.InvokeOutputOptions(depends_on=[library] if wait else [])
            vsphere.get_content_library_output(name="images", opts=opts)
            vsphere.get_content_library_output(name="published-elsewhere", opts=opts)

        return run

    assert _kinds(_fresh(program(wait=False))) == [(Kind.invoke, "lib")]
    assert _fresh(program(wait=True)).hazards == []


def test_wait_for_a_condition_is_a_warning_for_later_updates() -> None:
    def program() -> None:
        k8s.apiextensions.CustomResource(
            "c1",
            api_version="cluster.x-k8s.io/v1beta1",
            kind="Cluster",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="c1", namespace="ns", annotations={"pulumi.com/waitFor": "condition=Ready"}
            ),
            opts=pulumi.ResourceOptions(
                provider=_supervisor(), custom_timeouts=pulumi.CustomTimeouts(create="60m", update="60m")
            ),
        )
        k8s.apiextensions.CustomResource(
            "c2",
            api_version="example.test/v1",
            kind="Thing",
            metadata=k8s.meta.v1.ObjectMetaArgs(annotations={"pulumi.com/waitFor": "jsonpath={.status.phase}=Done"}),
        )

    preview = _fresh(program)
    assert _kinds(preview) == [(Kind.wait_for, "c1")]
    assert preview.hazards[0].effect is Effect.later
    assert "(60m)" in preview.hazards[0].reason
    assert preview.exit_status == 0


def _crd(
    provider: k8s.Provider, opts: pulumi.ResourceOptions | None = None
) -> k8s.apiextensions.v1.CustomResourceDefinition:
    return k8s.apiextensions.v1.CustomResourceDefinition(
        "widgets",
        metadata=k8s.meta.v1.ObjectMetaArgs(name="widgets.example.test"),
        spec=k8s.apiextensions.v1.CustomResourceDefinitionSpecArgs(
            group="example.test",
            scope="Namespaced",
            names=k8s.apiextensions.v1.CustomResourceDefinitionNamesArgs(kind="Widget", plural="widgets"),
            versions=[
                k8s.apiextensions.v1.CustomResourceDefinitionVersionArgs(
                    name="v1",
                    served=True,
                    storage=True,
                    schema=k8s.apiextensions.v1.CustomResourceValidationArgs(
                        open_apiv3_schema=k8s.apiextensions.v1.JSONSchemaPropsArgs(
                            type="object", x_kubernetes_preserve_unknown_fields=True
                        )
                    ),
                )
            ],
        ),
        opts=pulumi.ResourceOptions.merge(pulumi.ResourceOptions(provider=provider), opts),
    )


def _widget(name: str, opts: pulumi.ResourceOptions) -> k8s.apiextensions.CustomResource:
    return k8s.apiextensions.CustomResource(
        name,
        api_version="example.test/v1",
        kind="Widget",
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace="ns"),
        spec={"size": 1},
        opts=opts,
    )


class _Installer(pulumi.ComponentResource):
    """A component that installs the CRD among other things, as a platform component would."""

    def __init__(self, provider: k8s.Provider) -> None:
        super().__init__("test:index:Installer", "installer")
        _crd(provider, pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def test_a_custom_object_not_waiting_for_its_crd_fails_at_up_and_one_waiting_does_not() -> None:
    def program() -> None:
        provider = _supervisor()
        crd = _crd(provider)
        on = pulumi.ResourceOptions(provider=provider)
        _widget("loose", on)
        k8s.apiextensions.CustomResourcePatch(
            "loose-patch",
            api_version="example.test/v1",
            kind="Widget",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="other", namespace="ns"),
            spec={"size": 2},
            opts=on,
        )
        _widget("direct", pulumi.ResourceOptions(provider=provider, depends_on=[crd]))
        # Through a chain: it waits for a ConfigMap that waits for the CRD.
        config = k8s.core.v1.ConfigMap(
            "config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="c", namespace="ns"),
            opts=on.merge(pulumi.ResourceOptions(depends_on=[crd])),
        )
        _widget("chained", pulumi.ResourceOptions(provider=provider, depends_on=[config]))
        # Through its parent: the component is registered after the CRD, its children after it.
        parent = pulumi.ComponentResource("test:index:Team", "team", opts=pulumi.ResourceOptions(depends_on=[crd]))
        _widget("child", pulumi.ResourceOptions(parent=parent, provider=provider))
        # Same group and kind on another cluster: that cluster has no such CRD from this run.
        _widget("elsewhere", pulumi.ResourceOptions(provider=k8s.Provider("other", kubeconfig=KUBECONFIG)))

    preview = _fresh(program)
    assert _kinds(preview) == [(Kind.crd, "loose"), (Kind.crd, "loose-patch")]
    hazard = preview.hazards[0]
    assert hazard.effect is Effect.fails
    assert hazard.line().startswith("error [fails at up] urn:")
    assert "Widget (example.test/v1) on provider supervisor, whose CRD widgets this run creates" in hazard.reason
    assert hazard.issue == "pulumi-kubernetes#2881"
    assert preview.exit_status == EXIT_FAILS
    assert "fix (crd): make the custom object depend on its CRD" in preview.text()


def test_depending_on_the_component_that_installs_the_crd_is_enough() -> None:
    def program(wait: bool) -> Callable[[], None]:
        def run() -> None:
            provider = _supervisor()
            installer = _Installer(provider)
            _widget("w", pulumi.ResourceOptions(provider=provider, depends_on=[installer] if wait else []))

        return run

    assert _kinds(_fresh(program(wait=False))) == [(Kind.crd, "w")]
    assert _fresh(program(wait=True)).hazards == []


def test_a_hazard_that_fails_at_up_outranks_a_hidden_chart_and_a_read_outranks_both() -> None:
    def program(read: bool) -> Callable[[], None]:
        def run() -> None:
            supervisor = _supervisor()
            cluster = _cluster("c1", supervisor)
            _crd(supervisor)
            _widget("w", pulumi.ResourceOptions(provider=supervisor))
            unknown = k8s.Provider("c1-provider", kubeconfig=cluster.id.apply(lambda _: KUBECONFIG))
            k8s.helm.v4.Chart("operator", chart="x", version="v1", opts=pulumi.ResourceOptions(provider=unknown))
            if read:
                k8s.core.v1.Secret.get(
                    "c1-kubeconfig",
                    "ns/c1-kubeconfig",
                    opts=pulumi.ResourceOptions(provider=supervisor, depends_on=[cluster]),
                )

        return run

    hides_and_fails = _fresh(program(read=False))
    assert [h.effect for h in hides_and_fails.hazards] == [Effect.fails, Effect.hides]
    assert hides_and_fails.exit_status == EXIT_FAILS
    everything = _fresh(program(read=True))
    assert [h.effect for h in everything.hazards] == [Effect.stops, Effect.fails, Effect.hides]
    assert everything.exit_status == EXIT_STOPS


@pytest.mark.parametrize("stack", list_stacks())
def test_no_example_stack_creates_a_custom_object_before_its_crd(stack: str) -> None:
    preview = fresh_stack(stack)
    assert [h.line() for h in preview.hazards if h.kind is Kind.crd] == []
