"""The Jupyter spawner generated from the stack: images, GPU pools per team (toleration groups and PodDefaults), idle
culling on by default, and the web app and controller restarted (hash annotation) when their config changes."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components import catalog
from components.kubeflow import spawner
from components.kubeflow.spawner import (
    CONFIG_HASH_ANNOTATION,
    CULLING_CONFIG_MAP,
    SPAWNER_CONFIG_KEY,
    SPAWNER_CONFIG_MAP,
    content_hash,
)
from components.labels import GPU_POOL_LABEL, TEAM_LABEL
from infra.errors import ConfigError
from infra.kfvs.lint import lint
from infra.kfvs.recorder import Recording
from infra.kfvs.rendered import RenderedObject, Rendering
from infra.kfvs.run import record_stack, validate_stack
from tests import yamlio
from tests.conftest import ExampleRenderings

FIXTURES = Path(__file__).parent / "fixtures" / "upstream" / "kubeflow-manifests-26.03"
POD_DEFAULT = "kubernetes:kubeflow.org/v1alpha1:PodDefault"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
ENV = "dev"


# --- helpers ---------------------------------------------------------------------------------------------------


def _stack_file_with(project: Path, key: str) -> Path:
    """The stack file of the dev environment that holds `kubeflow-vsphere:<key>` (one file, or one per layer)."""
    for path in sorted((project / "stacks").glob(f"Pulumi.{ENV}*.yaml")):
        if f"kubeflow-vsphere:{key}" in (yamlio.load(path.read_text()).get("config") or {}):
            return path
    raise AssertionError(f"no stack file of {ENV} sets kubeflow-vsphere:{key}")


def _edit_config(project: Path, key: str, edit: Callable[[Any], None]) -> None:
    path = _stack_file_with(project, key)
    document = yamlio.load(path.read_text())
    edit(document["config"][f"kubeflow-vsphere:{key}"])
    path.write_text(yamlio.dump(document, sort_keys=False))


def _edit_team(project: Path, team: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = project / f"stacks/teams/{team}.yaml"
    document = yamlio.load(path.read_text())
    edit(document["environments"][ENV])
    path.write_text(yamlio.dump(document, sort_keys=False))


def _config_map(recording: Recording, name: str) -> dict[str, str]:
    found = [r for r in recording.resources.values() if r.type == CONFIG_MAP and r.inputs["metadata"]["name"] == name]
    assert len(found) == 1, [r.urn for r in found]
    assert found[0].inputs["metadata"]["namespace"] == "kubeflow"
    return dict(found[0].inputs["data"])


def _spawner(recording: Recording) -> dict[str, Any]:
    document = yamlio.load(_config_map(recording, SPAWNER_CONFIG_MAP)[SPAWNER_CONFIG_KEY])
    assert isinstance(document, dict)
    return dict(document["spawnerFormDefaults"])


def _pod_defaults(recording: Recording) -> dict[str, dict[str, dict[str, Any]]]:
    """namespace -> PodDefault name -> its spec."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for r in recording.resources.values():
        if r.type == POD_DEFAULT:
            meta = r.inputs["metadata"]
            out.setdefault(meta["namespace"], {})[meta["name"]] = r.inputs["spec"]
    return out


def _groups(recording: Recording) -> dict[str, dict[str, Any]]:
    return {g["groupKey"]: g for g in _spawner(recording)["tolerationGroup"]["options"]}


def _affinities(recording: Recording) -> dict[str, dict[str, Any]]:
    return {a["configKey"]: a for a in _spawner(recording)["affinityConfig"]["options"]}


def _offered_to(recording: Recording, team: str) -> set[str]:
    """What a team's user can pick in the spawner: the cluster-wide toleration groups and the team's PodDefaults."""
    return set(_groups(recording)) | set(_pod_defaults(recording).get(team, {}))


def _web_app_deployment() -> dict[str, Any]:
    """Shaped as 26.03's `jupyter-web-app-deployment` renders (the volumes the web app mounts)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": spawner.WEB_APP_DEPLOYMENT, "namespace": "kubeflow"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "jupyter-web-app"}},
                "spec": {
                    "containers": [{"name": "jupyter-web-app", "image": "ghcr.io/kubeflow/kubeflow/jupyter-web-app"}],
                    "volumes": [
                        {"name": "config-volume", "configMap": {"name": "jupyter-web-app-config-9c2fbg2gdc"}},
                        {"name": "logos-volume", "configMap": {"name": "jupyter-web-app-logos"}},
                    ],
                },
            }
        },
    }


Transforms = list[Callable[[pulumi.ResourceTransformArgs], Any]]


def _record(project: Path) -> tuple[Recording, Transforms]:
    """The dev environment under mocks, and the stack transforms that run registered (taken before the next run)."""
    recording = record_stack(ENV, project)[1]
    return recording, recording.transforms


def _transformed(transforms: Transforms, obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` (a Deployment) as the engine leaves it after a run's stack transforms."""
    props = copy.deepcopy(obj)
    for transform in transforms:
        args = pulumi.ResourceTransformArgs(
            custom=True, type_="kubernetes:apps/v1:Deployment", name="x", props=props, opts=pulumi.ResourceOptions()
        )
        result = transform(args)
        if result is not None:
            props = dict(result.props)
    return props


# --- GPU pools per team ------------------------------------------------------------------------------------------


def test_each_team_is_offered_exactly_the_gpu_pools_it_may_use(project: Path) -> None:
    """vision owns a pool (its team file's gpuNodePool), nlp and recsys do not: all share `gpu-a100`."""
    recording = record_stack(ENV, project)[1]
    groups = _groups(recording)
    assert set(groups) == {"gpu-gpu-a100"}, "the cluster-wide form lists only pools every team may use"
    assert set(_affinities(recording)) == {"gpu-gpu-a100"}
    defaults = _pod_defaults(recording)
    assert set(defaults["vision"]) == {"gpu-team-vision", "gpu-gpu-a100"}
    assert set(defaults["nlp"]) == {"gpu-gpu-a100"}
    assert set(defaults["recsys"]) == {"gpu-gpu-a100"}
    assert _offered_to(recording, "nlp") == {"gpu-gpu-a100"}

    own = defaults["vision"]["gpu-team-vision"]
    for fact in ("team-vision", "gpu-a100-40c-16x128", "A100 40GB", "grid_a100-40c"):
        assert fact in own["desc"], (fact, own["desc"])
    assert own["selector"] == {"matchLabels": {"gpu-team-vision": "true"}}
    assert {"key": TEAM_LABEL, "operator": "Equal", "value": "vision", "effect": "NoSchedule"} in own["tolerations"]
    assert {"key": "nvidia.com/gpu", "operator": "Equal", "value": "present", "effect": "NoSchedule"} in own[
        "tolerations"
    ]
    shared = groups["gpu-gpu-a100"]
    assert shared["tolerations"] == defaults["nlp"]["gpu-gpu-a100"]["tolerations"]
    assert all(t["key"] != TEAM_LABEL for t in shared["tolerations"]), "no team's taint in the shared form"
    # dev's GPU Operator time-slices each GPU 4 ways: a node of one vGPU advertises 4.
    assert "time-sliced 4 ways" in shared["displayName"]
    assert "at most 4 nvidia.com/gpu per notebook" in shared["displayName"]
    term = _affinities(recording)["gpu-gpu-a100"]["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"][0]
    assert term == {"matchExpressions": [{"key": GPU_POOL_LABEL, "operator": "In", "values": ["gpu-a100"]}]}
    gpus = _spawner(recording)["gpus"]["value"]
    assert gpus["vendors"] == [{"limitsKey": "nvidia.com/gpu", "uiName": "NVIDIA"}]


def test_the_pools_follow_the_team_files(project: Path) -> None:
    """Give recsys a pool of L40S and take vision's away: their PodDefaults follow, nobody else's move."""
    before = record_stack(ENV, project)[1]
    _edit_team(project, "recsys", lambda env: env.update(gpuNodePool={"vmClass": "gpu-l40s-48c-16x96", "replicas": 1}))
    _edit_team(project, "vision", lambda env: env.pop("gpuNodePool"))
    after = record_stack(ENV, project)[1]

    old, new = _pod_defaults(before), _pod_defaults(after)
    assert set(new["recsys"]) == {"gpu-team-recsys", "gpu-gpu-a100"}
    assert set(new["vision"]) == {"gpu-gpu-a100"}
    assert new["nlp"] == old["nlp"]
    recsys = new["recsys"]["gpu-team-recsys"]
    for fact in ("gpu-l40s-48c-16x96", "L40S", "grid_l40s-48c"):
        assert fact in recsys["desc"], (fact, recsys["desc"])
    assert {"key": TEAM_LABEL, "operator": "Equal", "value": "recsys", "effect": "NoSchedule"} in recsys["tolerations"]
    # A team's own pool never reaches the cluster-wide form, whoever owns it.
    assert set(_groups(after)) == set(_groups(before)) == {"gpu-gpu-a100"}


def test_a_new_shared_pool_reaches_every_team_and_restarts_the_web_app(project: Path) -> None:
    before, before_transforms = _record(project)

    def add_pool(clusters: list[dict[str, Any]]) -> None:
        pools = clusters[0]["nodePools"]
        pools.append({"name": "gpu-l40s", "gpu": True, "replicas": 1, "vmClass": "gpu-l40s-48c-16x96"})

    _edit_config(project, "clusters", add_pool)
    after, after_transforms = _record(project)
    assert set(_groups(after)) == {"gpu-gpu-a100", "gpu-gpu-l40s"}
    assert "NVIDIA L40S (vGPU grid_l40s-48c)" in _groups(after)["gpu-gpu-l40s"]["displayName"]
    for team in ("vision", "nlp", "recsys"):
        assert "gpu-gpu-l40s" in _pod_defaults(after)[team]
        assert _offered_to(after, team) - _offered_to(before, team) == {"gpu-gpu-l40s"}
    # The hash the web app's pod template gets is that of the ConfigMap it now mounts, and it moved.
    hashes = []
    for recording, transforms in ((before, before_transforms), (after, after_transforms)):
        deployment = _transformed(transforms, _web_app_deployment())
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations[CONFIG_HASH_ANNOTATION] == content_hash(_config_map(recording, SPAWNER_CONFIG_MAP))
        hashes.append(annotations[CONFIG_HASH_ANNOTATION])
    assert hashes[0] != hashes[1]


def test_the_web_app_mounts_the_programs_config_and_keeps_its_other_volumes(project: Path) -> None:
    transforms = _record(project)[1]
    volumes = _transformed(transforms, _web_app_deployment())["spec"]["template"]["spec"]["volumes"]
    assert volumes == [
        {"name": "config-volume", "configMap": {"name": SPAWNER_CONFIG_MAP}},
        {"name": "logos-volume", "configMap": {"name": "jupyter-web-app-logos"}},
    ]
    other = {**_web_app_deployment(), "metadata": {"name": "volumes-web-app-deployment", "namespace": "kubeflow"}}
    assert _transformed(transforms, other) == other


# --- culling ------------------------------------------------------------------------------------------------------


def test_idle_culling_is_on_by_default_with_upstreams_times(project: Path) -> None:
    upstream = dict(line.split("=", 1) for line in (FIXTURES / "notebook-controller-params.env").read_text().split())
    assert upstream["ENABLE_CULLING"] == "false", "upstream ships culling off"
    culling = _config_map(record_stack(ENV, project)[1], CULLING_CONFIG_MAP)
    assert culling == {
        "ENABLE_CULLING": "true",
        "CULL_IDLE_TIME": upstream["CULL_IDLE_TIME"],
        "IDLENESS_CHECK_PERIOD": upstream["IDLENESS_CHECK_PERIOD"],
    }


def test_culling_settings_reach_the_controller_and_restart_it(project: Path) -> None:
    before, before_transforms = _record(project)
    _edit_config(
        project, "kubeflow", lambda kf: kf.update(notebooks={"culling": {"idleMinutes": 120, "checkPeriodMinutes": 5}})
    )
    after, after_transforms = _record(project)
    assert _config_map(after, CULLING_CONFIG_MAP) == {
        "ENABLE_CULLING": "true",
        "CULL_IDLE_TIME": "120",
        "IDLENESS_CHECK_PERIOD": "5",
    }
    controller = {
        "metadata": {"name": spawner.CONTROLLER_DEPLOYMENT, "namespace": "kubeflow"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "manager",
                            "env": [
                                {
                                    "name": "USE_ISTIO",
                                    "valueFrom": {"configMapKeyRef": {"name": "c", "key": "USE_ISTIO"}},
                                },
                                {
                                    "name": "CULL_IDLE_TIME",
                                    "valueFrom": {"configMapKeyRef": {"name": "c", "key": "CULL_IDLE_TIME"}},
                                },
                            ],
                        }
                    ]
                }
            }
        },
    }
    hashes = []
    for recording, transforms in ((before, before_transforms), (after, after_transforms)):
        out = _transformed(transforms, controller)
        env = {
            e["name"]: e["valueFrom"]["configMapKeyRef"]["name"]
            for e in out["spec"]["template"]["spec"]["containers"][0]["env"]
        }
        assert env == {"USE_ISTIO": "c", "CULL_IDLE_TIME": CULLING_CONFIG_MAP}
        value = out["spec"]["template"]["metadata"]["annotations"][CONFIG_HASH_ANNOTATION]
        assert value == content_hash(_config_map(recording, CULLING_CONFIG_MAP))
        hashes.append(value)
    assert hashes[0] != hashes[1]


def test_culling_can_be_switched_off(project: Path) -> None:
    _edit_config(project, "kubeflow", lambda kf: kf.update(notebooks={"culling": {"enabled": False}}))
    assert _config_map(record_stack(ENV, project)[1], CULLING_CONFIG_MAP)["ENABLE_CULLING"] == "false"


# --- images ------------------------------------------------------------------------------------------------------


def test_pinned_images_are_26_03s_own_and_cuda_ones_are_offered(project: Path) -> None:
    upstream = yamlio.load((FIXTURES / "spawner_ui_config.yaml").read_text())["spawnerFormDefaults"]
    offered = {g: set(upstream[g]["options"]) for g in ("image", "imageGroupOne", "imageGroupTwo")}
    for image in catalog.NOTEBOOK_IMAGES:
        assert image.ref in offered[image.group], image.ref
    form = _spawner(record_stack(ENV, project)[1])
    assert form["image"]["value"] == upstream["image"]["value"]
    assert any(i.cuda and i.ref in form["image"]["options"] for i in catalog.NOTEBOOK_IMAGES)
    assert form["imageGroupOne"]["options"] == upstream["imageGroupOne"]["options"]


def test_the_generated_form_keeps_every_key_of_upstreams(project: Path) -> None:
    """The web app reads upstream's keys; a key it expects and we drop would break the form."""
    upstream = yamlio.load((FIXTURES / "spawner_ui_config.yaml").read_text())["spawnerFormDefaults"]
    form = _spawner(record_stack(ENV, project)[1])
    assert set(form) == set(upstream)
    for key, section in upstream.items():
        if isinstance(section, dict):
            assert set(section) <= set(form[key]), key


def test_extra_images_default_and_the_registry_mirror(project: Path) -> None:
    extra = "harbor.example.internal/ml/jupyter-rapids:24.10"
    _edit_config(project, "kubeflow", lambda kf: kf.update(notebooks={"images": {"extra": [extra], "default": extra}}))
    form = _spawner(record_stack(ENV, project)[1])
    assert form["image"]["value"] == extra
    assert form["image"]["options"][0] == extra
    assert len(form["image"]["options"]) == 1 + sum(i.group == "image" for i in catalog.NOTEBOOK_IMAGES)

    def mirror(config: dict[str, Any]) -> None:
        config["kubeflow-vsphere:registryMirror"] = {
            "host": "harbor.example.internal/proxy",
            "manifests": "https://git.example.internal/kubeflow/manifests",
        }

    path = _stack_file_with(project, "kubeflow")
    document = yamlio.load(path.read_text())
    mirror(document["config"])
    path.write_text(yamlio.dump(document, sort_keys=False))
    mirrored = _spawner(record_stack(ENV, project)[1])
    assert (
        "harbor.example.internal/proxy/ghcr.io/kubeflow/kubeflow/notebook-servers/jupyter-scipy:v1.10.0"
        in (mirrored["image"]["options"])
    )
    assert extra in mirrored["image"]["options"], "an image the stack names is pulled as written"


@pytest.mark.parametrize(
    ("notebooks", "key", "says"),
    [
        ({"images": {"extra": ["jupyter/base-notebook:latest"]}}, "images.extra[0]", "pinned tag or digest"),
        ({"images": {"default": "harbor.example.internal/ml/x:1"}}, "images", "is not one of the images offered"),
        ({"culling": {"idleMinutes": 30, "checkPeriodMinutes": 60}}, "culling", "make it at most idleMinutes"),
        ({"cullling": {}}, "cullling", "did you mean 'culling'"),
    ],
)
def test_bad_notebook_settings_are_one_line_each(project: Path, notebooks: dict[str, Any], key: str, says: str) -> None:
    _edit_config(project, "kubeflow", lambda kf: kf.update(notebooks=notebooks))
    with pytest.raises(ConfigError) as caught:
        validate_stack(ENV, project)
    problems = caught.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert problem.file == _stack_file_with(project, "kubeflow").relative_to(project).as_posix()
    assert problem.key == f"kubeflow-vsphere:kubeflow.notebooks.{key}"
    assert says in problem.message


# --- rendered and linted --------------------------------------------------------------------------------------------


def _rendered(rendering: Rendering, kind: str, name: str) -> RenderedObject:
    found = [
        o
        for o in rendering.objects
        if o.manifest.get("kind") == kind
        and o.manifest["metadata"].get("name") == name
        and o.manifest["metadata"].get("namespace") == "kubeflow"
    ]
    assert len(found) == 1, (kind, name, len(found))
    return found[0]


@pytest.mark.slow
def test_rendered_web_app_and_controller_read_the_programs_config(example_renderings: ExampleRenderings) -> None:
    rendering = example_renderings(ENV)
    web = _rendered(rendering, "Deployment", spawner.WEB_APP_DEPLOYMENT).manifest["spec"]["template"]
    config = _rendered(rendering, "ConfigMap", SPAWNER_CONFIG_MAP).manifest
    mounted = {v["name"]: v.get("configMap", {}).get("name") for v in web["spec"]["volumes"]}
    assert mounted["config-volume"] == SPAWNER_CONFIG_MAP
    assert web["metadata"]["annotations"][CONFIG_HASH_ANNOTATION] == content_hash(config["data"])

    manager = _rendered(rendering, "Deployment", spawner.CONTROLLER_DEPLOYMENT).manifest["spec"]["template"]
    culling = _rendered(rendering, "ConfigMap", CULLING_CONFIG_MAP).manifest
    refs = {
        e["name"]: e["valueFrom"]["configMapKeyRef"]["name"]
        for c in manager["spec"]["containers"]
        for e in c.get("env", [])
        if "configMapKeyRef" in e.get("valueFrom", {})
    }
    assert {refs[k] for k in spawner.CULLING_KEYS} == {CULLING_CONFIG_MAP}
    assert all(v != CULLING_CONFIG_MAP for k, v in refs.items() if k not in spawner.CULLING_KEYS)
    assert manager["metadata"]["annotations"][CONFIG_HASH_ANNOTATION] == content_hash(culling["data"])


@pytest.mark.slow
def test_lint_finds_the_configs_and_would_see_one_missing(example_renderings: ExampleRenderings) -> None:
    """No finding names the program's ConfigMaps; without the spawner's, lint names the Deployment that mounts it
    (`references`, or `unverified` while a directory of the same namespace cannot be rendered offline)."""
    rendering = example_renderings(ENV)
    ours = (SPAWNER_CONFIG_MAP, CULLING_CONFIG_MAP)
    assert [f.line() for f in lint(rendering) if any(n in f.line() for n in ours)] == []
    without = Rendering(
        rendering.stack,
        [
            o
            for o in rendering.objects
            if not (o.manifest.get("kind") == "ConfigMap" and o.manifest["metadata"]["name"] == SPAWNER_CONFIG_MAP)
        ],
        rendering.not_rendered,
        rendering.depends_on,
        rendering.kubernetes_version,
        chart_inputs=json.loads(json.dumps(rendering.chart_inputs)),
    )
    missing = [f for f in lint(without) if SPAWNER_CONFIG_MAP in f.line()]
    assert [(f.rule in ("references", "unverified"), f.kind, f.name) for f in missing] == [
        (True, "Deployment", spawner.WEB_APP_DEPLOYMENT)
    ]
