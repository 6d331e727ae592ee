"""`kfvs render`: kustomize directories built as the provider builds them, through git, cached, transformed by
the program's own stack transforms, with the plan's objects, charts listed, and the dependency graph."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from components import mirror as mirror_module
from components.catalog import MANIFESTS_REPO, MANIFESTS_TAG
from components.mirror import RegistryMirror
from infra.kfvs import checkout, cli, kustomize, rendering, yamlstream
from infra.kfvs.checkout import RemoteDirectory
from infra.kfvs.kustomize import KustomizeError, Kustomizer, MirrorError, git_mirror_env
from infra.kfvs.recorder import SECRET, Recording, record
from infra.kfvs.rendered import Rendering
from infra.kfvs.rendering import render_recording
from tests import yamlio

NAMESPACE_BASE = f"{MANIFESTS_REPO}/common/kubeflow-namespace/base?ref={MANIFESTS_TAG}"
HARBOR = "harbor.example.internal/proxy"


@pytest.fixture
def no_git(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A PATH with no git on it: any fetch fails, so only the cache can answer."""
    empty = tmp_path / "no-git-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _kustomization(folder: Path, resources: dict[str, dict[str, Any]], extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, obj in resources.items():
        (folder / name).write_text(yamlio.dump(obj))
    (folder / "kustomization.yaml").write_text(f"resources: [{', '.join(resources)}]\n{extra}")
    return folder


_DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
        },
    },
}
_ROLE = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}}
_SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "creds"}, "stringData": {"password": "hunter2"}}


class _App(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kubeflow-vsphere:test:App", name, None, opts)
        self.register_outputs({})


def _program(directory: str, *, with_mirror: bool) -> Callable[[], None]:
    """A small program shaped like the platform: a mirror transform, a provider, components holding a kustomize
    directory, a chart and plain objects, and dependencies on components."""

    def program() -> None:
        if with_mirror:
            pulumi.runtime.register_resource_transform(
                RegistryMirror(
                    host=HARBOR, manifests="https://git.example.internal/kubeflow/manifests", pull_secret="harbor-pull"
                ).transform()
            )
        provider = k8s.Provider("cluster", kubeconfig="{}")
        base = _App("base", pulumi.ResourceOptions(provider=provider))
        namespace = k8s.core.v1.Namespace(
            "ns", metadata={"name": "apps"}, opts=pulumi.ResourceOptions(parent=base, provider=provider)
        )
        k8s.helm.v4.Chart(
            "cm",
            chart="cert-manager",
            version="v1.20.2",
            repository_opts={"repo": "https://charts.jetstack.io"},
            opts=pulumi.ResourceOptions(parent=base, provider=provider),
        )
        app = _App("app", pulumi.ResourceOptions(depends_on=[base]))
        k8s.kustomize.v2.Directory(
            "web",
            directory=directory,
            namespace="apps",
            opts=pulumi.ResourceOptions(parent=app, provider=provider),
        )
        k8s.core.v1.ConfigMap(
            "settings",
            metadata={"name": "settings", "namespace": "apps"},
            data={"a": "1"},
            opts=pulumi.ResourceOptions(provider=provider, depends_on=[base, namespace]),
        )
        k8s.core.v1.Secret(
            "token",
            metadata={"name": "token", "namespace": "apps"},
            string_data={"token": pulumi.Output.secret("s3cret")},
            opts=pulumi.ResourceOptions(provider=provider),
        )

    return program


def _render(tmp_path: Path, *, with_mirror: bool = True) -> tuple[Recording, Rendering]:
    folder = _kustomization(tmp_path / "web", {"deploy.yaml": _DEPLOYMENT, "role.yaml": _ROLE, "secret.yaml": _SECRET})
    recording = record(_program(str(folder), with_mirror=with_mirror), "proj", "st", {}, frozenset())
    result = render_recording(recording, recording.transforms, Kustomizer(cache_dir=tmp_path / "cache"))
    return recording, result


def _by_name(recording: Recording) -> dict[str, str]:
    return {r.name: r.urn for r in recording.resources.values()}


def _object(result: Rendering, kind: str, name: str) -> dict[str, Any]:
    found = [
        o.manifest for o in result.objects if o.manifest["kind"] == kind and o.manifest["metadata"]["name"] == name
    ]
    assert len(found) == 1, f"{kind} {name}: {len(found)} objects"
    return found[0]


def test_remote_directory_builds_through_the_mirror_and_then_from_the_cache(
    upstream_mirror: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path).build(NAMESPACE_BASE)
    assert not first.cached
    names = {(o["kind"], o["metadata"]["name"]) for o in first.objects}
    assert ("Namespace", "kubeflow") in names
    assert ("Namespace", "kubeflow-system") in names

    empty = tmp_path / "no-git-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no git and no mirror: only the cache can answer
    again = Kustomizer(cache_dir=tmp_path).build(NAMESPACE_BASE)
    assert again.cached
    assert again.objects == first.objects
    with pytest.raises(KustomizeError, match="kubeflow-namespace/base"):
        Kustomizer(cache_dir=tmp_path, refresh=True).build(NAMESPACE_BASE)


def test_other_refs_are_other_cache_entries(tmp_path: Path, no_git: None) -> None:
    other = NAMESPACE_BASE.replace(f"ref={MANIFESTS_TAG}", "ref=v1.10.0")
    assert Kustomizer.cache_key(other) != Kustomizer.cache_key(NAMESPACE_BASE)
    with pytest.raises(KustomizeError):
        Kustomizer(cache_dir=tmp_path).build(other)


class _CountingCloner:
    """The real clone, each call recorded: how many checkouts a build made, of what, and where."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.destinations: list[Path] = []

    def __call__(self, repository: str, ref: str, destination: Path, env: Mapping[str, str]) -> None:
        self.calls.append((repository, ref))
        self.destinations.append(destination)
        checkout.clone(repository, ref, destination, env)


def _manifests(path: str, ref: str = MANIFESTS_TAG) -> str:
    return f"{MANIFESTS_REPO}/{path}?ref={ref}"


def _mirror_of(tmp_path: Path, files: dict[str, str]) -> Path:
    """A mirror folder serving `https://github.com/acme/widgets` at tag v1 with `files` in it."""
    seed = tmp_path / "seed"
    for name, text in files.items():
        (seed / name).parent.mkdir(parents=True, exist_ok=True)
        (seed / name).write_text(text)
    git = ["git", "-C", str(seed), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    mirror = tmp_path / "mirror"
    subprocess.run(["git", "clone", "-q", "--bare", str(seed), str(mirror / "acme" / "widgets.git")], check=True)
    return mirror


def test_directories_of_one_repository_and_ref_share_one_checkout(upstream_mirror: Path, tmp_path: Path) -> None:
    paths = ["common/kubeflow-namespace/base", "common/kubeflow-roles/base", "common/istio/istio-namespace/base"]
    directories = [_manifests(p) for p in paths]
    cloner = _CountingCloner()
    built = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path, cloner=cloner).build_all(directories * 2)
    assert cloner.calls == [(MANIFESTS_REPO, MANIFESTS_TAG)]
    assert list(built) == directories
    assert all(isinstance(b, kustomize.Build) and b.objects and not b.cached for b in built.values())
    assert not cloner.destinations[0].exists()  # the checkout is gone once the builds are done

    again = _CountingCloner()  # every directory in the cache: nothing to clone
    cached = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path, cloner=again).build_all(directories)
    assert again.calls == []
    assert all(isinstance(b, kustomize.Build) and b.cached for b in cached.values())
    assert {d: b.objects for d, b in cached.items() if isinstance(b, kustomize.Build)} == {
        d: b.objects for d, b in built.items() if isinstance(b, kustomize.Build)
    }

    fresh = _CountingCloner()  # one miss among hits: one clone, for the miss only; refresh rebuilds them all
    extra = _manifests("common/istio/kubeflow-istio-resources/base")
    mixed = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path, cloner=fresh).build_all([*directories, extra])
    assert fresh.calls == [(MANIFESTS_REPO, MANIFESTS_TAG)]
    assert [d for d, b in mixed.items() if isinstance(b, kustomize.Build) and not b.cached] == [extra]
    refreshed = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path, refresh=True, cloner=fresh).build_all(
        directories
    )
    assert len(fresh.calls) == 2
    assert not any(isinstance(b, kustomize.Build) and b.cached for b in refreshed.values())


class _SlowCloner(_CountingCloner):
    """A clone that takes a while, so that a second render sharing the cache starts while the first clones."""

    def __call__(self, repository: str, ref: str, destination: Path, env: Mapping[str, str]) -> None:
        time.sleep(0.5)
        super().__call__(repository, ref, destination, env)


class _CountingKustomizer(Kustomizer):
    """Kustomize's own fetch counted, and slow enough that two renders overlap."""

    builds: ClassVar[list[str]] = []

    def _run(self, directory: str) -> list[dict[str, Any]]:
        self.builds.append(directory)
        time.sleep(0.5)
        return super()._run(directory)


def test_renders_sharing_a_cache_build_each_directory_once(tmp_path: Path) -> None:
    """Two renders at once with one cache (a CI job per stack, or `kfvs render` twice): the second waits for the
    first's checkout and builds, then reads them from the cache, by either way of building."""
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "up"}}
    mirror = _mirror_of(
        tmp_path, {"app/cm.yaml": yamlio.dump(config_map), "app/kustomization.yaml": "resources: [cm.yaml]\n"}
    )
    checked_out = "https://github.com/acme/widgets/app?ref=v1"
    fetched = "https://github.com/acme/widgets//app?ref=v1"  # a form left to kustomize's own fetch
    cloner = _SlowCloner()

    def render(directory: str) -> kustomize.Build | KustomizeError:
        return _CountingKustomizer(mirror=mirror, cache_dir=tmp_path / "cache", cloner=cloner).build_all([directory])[
            directory
        ]

    for directory in (checked_out, fetched):
        with ThreadPoolExecutor(max_workers=2) as pool:
            both = list(pool.map(render, [directory, directory]))
        assert all(isinstance(b, kustomize.Build) for b in both), both
        builds = [b for b in both if isinstance(b, kustomize.Build)]
        assert sorted(b.cached for b in builds) == [False, True]
        assert builds[0].objects == builds[1].objects == (config_map,)
    assert cloner.calls == [("https://github.com/acme/widgets", "v1")]
    assert _CountingKustomizer.builds == [fetched]


def test_a_directory_built_from_the_checkout_equals_kustomizes_own_fetch(upstream_mirror: Path, tmp_path: Path) -> None:
    cloner = _CountingCloner()
    shared = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path / "a", cloner=cloner).build_all([NAMESPACE_BASE])
    assert cloner.calls == [(MANIFESTS_REPO, MANIFESTS_TAG)]
    fetched = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path / "b").build(NAMESPACE_BASE)  # kustomize's own
    assert not fetched.cached
    assert shared[NAMESPACE_BASE] == dataclasses.replace(fetched, cached=False)
    assert len(fetched.objects) > 1


def test_a_checkout_loads_only_below_the_root_as_kustomizes_own_clone_does(tmp_path: Path) -> None:
    """kustomize restricts loads in a root it cloned whatever `--load-restrictor` says: a directory of a
    checkout fails as kustomize's fetch fails it, and the error names the URL, not the temporary checkout."""
    mirror = _mirror_of(
        tmp_path,
        {
            "cm.yaml": yamlio.dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "up"}}),
            "app/kustomization.yaml": "resources: [../cm.yaml]\n",
        },
    )
    directory = "https://github.com/acme/widgets/app?ref=v1"
    cloner = _CountingCloner()
    error = Kustomizer(mirror=mirror, cache_dir=tmp_path / "a", cloner=cloner).build_all([directory])[directory]
    with pytest.raises(KustomizeError) as fetched:
        Kustomizer(mirror=mirror, cache_dir=tmp_path / "b").build(directory)
    assert cloner.calls == [("https://github.com/acme/widgets", "v1")]
    assert isinstance(error, KustomizeError)
    assert error.directory == directory
    assert str(error).startswith(f"kustomize cannot build {directory}: ")
    assert "is not in or below" in error.detail
    assert "is not in or below" in fetched.value.detail
    assert "https://github.com/acme/widgets/cm.yaml" in error.detail
    assert str(cloner.destinations[0]) not in error.detail
    assert "kfvs-checkouts" not in error.detail


def test_a_missing_path_in_a_checkout_is_named_by_its_url(upstream_mirror: Path, tmp_path: Path) -> None:
    directory = _manifests("common/no-such-folder/base")
    cloner = _CountingCloner()
    error = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path, cloner=cloner).build_all([directory])[directory]
    assert cloner.calls == [(MANIFESTS_REPO, MANIFESTS_TAG)]
    assert isinstance(error, KustomizeError)
    assert str(error).startswith(f"kustomize cannot build {directory}: ")
    assert f"{MANIFESTS_REPO}/common/no-such-folder" in error.detail
    assert str(cloner.destinations[0]) not in error.detail
    assert "kfvs-checkouts" not in error.detail


def test_other_url_forms_and_failed_clones_are_left_to_kustomizes_own_fetch(
    upstream_mirror: Path, tmp_path: Path
) -> None:
    double_slash = f"{MANIFESTS_REPO}//common/kubeflow-namespace/base?ref={MANIFESTS_TAG}"
    no_such_ref = _manifests("common/kubeflow-namespace/base", ref="no-such-ref")
    forced_git = f"git::{no_such_ref}"
    cloner = _CountingCloner()
    built = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path / "a", cloner=cloner).build_all(
        [double_slash, no_such_ref, forced_git]
    )
    assert cloner.calls == [(MANIFESTS_REPO, "no-such-ref")]  # tried, failed, then kustomize's own fetch
    own = Kustomizer(mirror=upstream_mirror, cache_dir=tmp_path / "b")
    assert built[double_slash] == own.build(double_slash)
    for directory in (no_such_ref, forced_git):
        with pytest.raises(KustomizeError) as fetched:
            own.build(directory)
        assert str(built[directory]) == str(fetched.value)
        assert "no-such-ref" in str(fetched.value)


@pytest.mark.parametrize(
    "directory",
    [
        "git::https://github.com/kubeflow/manifests/common/x?ref=26.03",
        "ssh://git@github.com/kubeflow/manifests/common/x?ref=26.03",
        "git@github.com:kubeflow/manifests/common/x?ref=26.03",
        "github.com/kubeflow/manifests/common/x?ref=26.03",
        "http://github.com/kubeflow/manifests/common/x?ref=26.03",
        "https://user@github.com/kubeflow/manifests/common/x?ref=26.03",
        "https://GitHub.com/kubeflow/manifests/common/x?ref=26.03",
        "https://github.com:443/kubeflow/manifests/common/x?ref=26.03",
        "https://github.com/kubeflow/manifests//common/x?ref=26.03",
        "https://github.com/kubeflow/manifests.git/common/x?ref=26.03",
        "https://github.com/acme/site.github.io/x?ref=1",
        "https://dev.azure.com/org/project/_git/repo/x?ref=main",
        "https://github.com/kubeflow/manifests/common/x?version=26.03",
        "https://github.com/kubeflow/manifests/common/x?ref=26.03&timeout=90",
        "https://github.com/kubeflow/manifests/common/x?submodules=false&ref=26.03",
        "https://github.com/kubeflow/manifests/common/x?ref=",
        "https://github.com/kubeflow/manifests/common/x?ref=-u",
        "https://github.com/kubeflow/manifests/common/x?ref=a%2Fb",
        "https://github.com/kubeflow/manifests/common/x",
        "https://github.com/kubeflow/manifests/common/../x?ref=26.03",
        "https://github.com/kubeflow/manifests/common/x/?ref=26.03",
        "https://github.com/kubeflow?ref=26.03",
        "https://github.com/kubeflow/manifests/common/x?ref=26.03#frag",
        "file:///srv/git/manifests?ref=26.03",
        "common/kubeflow-namespace/base",
    ],
)
def test_split_leaves_every_other_url_form_to_kustomize(directory: str) -> None:
    assert checkout.split(directory) is None


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        (NAMESPACE_BASE, RemoteDirectory(MANIFESTS_REPO, MANIFESTS_TAG, "common/kubeflow-namespace/base")),
        ("https://github.com/acme/widgets?ref=v1", RemoteDirectory("https://github.com/acme/widgets", "v1", "")),
        (
            "https://git.example.internal:8443/platform/deploy/apps/web_v2?ref=release/1.2",
            RemoteDirectory("https://git.example.internal:8443/platform/deploy", "release/1.2", "apps/web_v2"),
        ),
    ],
)
def test_split_takes_org_and_repo_then_the_path_as_kustomize_does(directory: str, expected: RemoteDirectory) -> None:
    assert checkout.split(directory) == expected


def test_mirror_option_is_git_config_on_top_of_the_users(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    subprocess.run(["git", "init", "-q", "-b", "main", str(seed)], check=True)
    (seed / "README").write_text("widgets\n")
    git = ["git", "-C", str(seed), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "add", "README"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "one"], check=True)
    mirror = tmp_path / "mirror"
    subprocess.run(["git", "clone", "-q", "--bare", str(seed), str(mirror / "acme" / "widgets.git")], check=True)

    user = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.name", "GIT_CONFIG_VALUE_0": "Ana"}
    env = git_mirror_env(mirror, user)
    assert env["GIT_CONFIG_COUNT"] == "3"
    assert "GIT_CONFIG_KEY_0" not in env  # the user's own entry stays as it was
    pairs = {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in (1, 2)}
    assert pairs == {
        f"url.{(mirror / 'acme' / 'widgets.git').resolve().as_uri()}.insteadOf": "https://github.com/acme/widgets",
        "protocol.file.allow": "always",
    }
    listed = subprocess.run(
        ["git", "ls-remote", "https://github.com/acme/widgets", "refs/heads/main"],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **user, **env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert "refs/heads/main" in listed.stdout
    with pytest.raises(MirrorError, match=r"no <org>/<repo>\.git"):
        git_mirror_env(tmp_path / "seed")
    shutil.rmtree(mirror / "acme" / "widgets.git" / "refs")  # as a copy that drops empty folders leaves it
    with pytest.raises(MirrorError, match=r"acme/widgets\.git is not a git repository \(no refs in it\)"):
        git_mirror_env(mirror)


def test_rendered_objects_get_the_programs_mirror_transform_and_directory_inputs(tmp_path: Path) -> None:
    recording, result = _render(tmp_path)
    deployment = _object(result, "Deployment", "web")
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == f"{HARBOR}/docker.io/library/nginx:1.27"
    assert pod["imagePullSecrets"] == [{"name": "harbor-pull"}]
    assert deployment["metadata"]["namespace"] == "apps"  # the Directory's `namespace` input
    assert "namespace" not in _object(result, "ClusterRole", "reader")["metadata"]  # cluster-scoped
    assert _object(result, "Secret", "creds")["stringData"] == {"password": SECRET}
    web = next(o for o in result.objects if o.manifest["kind"] == "Deployment")
    assert web.source == _by_name(recording)["web"]
    assert web.component == "app"
    assert web.urn == (
        "urn:pulumi:st::proj::kubeflow-vsphere:test:App$kubernetes:kustomize/v2:Directory"
        "$kubernetes:apps/v1:Deployment::web:apps/web"
    )


def test_mirror_transform_is_the_programs_own_code(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror_module.RegistryMirror, "image", lambda self, ref: f"broken/{ref}")
    _, result = _render(tmp_path)
    image = _object(result, "Deployment", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "broken/nginx:1.27"


def test_without_a_mirror_images_stay_upstream(tmp_path: Path) -> None:
    _, result = _render(tmp_path, with_mirror=False)
    pod = _object(result, "Deployment", "web")["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "nginx:1.27"
    assert "imagePullSecrets" not in pod


def test_plan_objects_are_included_and_charts_listed_as_not_rendered(tmp_path: Path) -> None:
    recording, result = _render(tmp_path)
    urns = _by_name(recording)
    settings = _object(result, "ConfigMap", "settings")
    assert settings["data"] == {"a": "1"}
    assert _object(result, "Namespace", "apps")["metadata"] == {"name": "apps"}
    assert _object(result, "Secret", "token")["stringData"] == SECRET  # masked as the plan masks it
    assert next(o for o in result.objects if o.manifest["kind"] == "ConfigMap").source == urns["settings"]
    [chart] = result.not_rendered
    assert chart.source == urns["cm"]
    assert chart.type == "kubernetes:helm.sh/v4:Chart"
    assert "cert-manager v1.20.2" in chart.reason
    assert "\n" not in chart.reason
    assert result.chart_inputs[urns["cm"]]["version"] == "v1.20.2"


def test_depends_on_expands_components_and_inherits_from_parents(tmp_path: Path) -> None:
    recording, result = _render(tmp_path)
    urns = _by_name(recording)
    provider = urns["cluster"]
    # ConfigMap depends on the component `base`: its descendants instead (the chart whole), and its provider.
    assert result.depends_on[urns["settings"]] == {urns["ns"], urns["cm"], provider}
    # The Directory names no dependency itself, but its parent `app` waits for `base`.
    assert result.depends_on[urns["web"]] == {urns["ns"], urns["cm"], provider}
    assert urns["base"] not in result.depends_on[urns["web"]]
    assert result.depends_on[urns["token"]] == {provider}


def test_a_dependency_naming_a_component_stands_for_its_descendants(tmp_path: Path) -> None:
    """The SDK sends components expanded; a recording that names one (another SDK, a later engine) is
    expanded the same way: custom descendants and remote components, never the component itself."""
    recording, _ = _render(tmp_path)
    urns = _by_name(recording)
    token = recording.resources[urns["token"]]
    recording.resources[token.urn] = dataclasses.replace(token, dependencies=(urns["base"],))
    result = render_recording(recording, [], Kustomizer(cache_dir=tmp_path / "cache"))
    assert result.depends_on[token.urn] == {urns["ns"], urns["cm"], urns["cluster"]}


def test_patches_merge_into_what_they_patch_and_config_groups_render(tmp_path: Path) -> None:
    folder = _kustomization(
        tmp_path / "cm", {"cm.yaml": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf"}}}
    )

    def program() -> None:
        k8s.kustomize.v2.Directory("conf", directory=str(folder), namespace="apps", resource_prefix="", skip_await=True)
        k8s.core.v1.ConfigMapPatch(
            "conf-extra",
            metadata={"name": "conf", "namespace": "apps", "annotations": {"pulumi.com/patchForce": "true"}},
            data={"extra": "yes"},
        )
        k8s.yaml.v2.ConfigGroup(
            "group", objs=[{"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "robot"}}]
        )

    recording = record(program, "proj", "st", {}, frozenset())
    result = render_recording(recording, recording.transforms, Kustomizer(cache_dir=tmp_path / "cache"))
    conf = _object(result, "ConfigMap", "conf")
    assert conf["data"] == {"extra": "yes"}
    assert conf["metadata"]["annotations"] == {"pulumi.com/skipAwait": "true"}  # not the patch's patchForce
    # Under the runtime, remote components register in no fixed order: compare as sets.
    assert sorted(o.manifest["kind"] for o in result.objects) == ["ConfigMap", "ServiceAccount"]
    robot = next(o for o in result.objects if o.manifest["kind"] == "ServiceAccount")
    assert robot.manifest["metadata"]["namespace"] == "default"  # the provider's default namespace
    assert robot.urn.endswith("kubernetes:yaml/v2:ConfigGroup$kubernetes:core/v1:ServiceAccount::group:default/robot")
    config_map = next(o for o in result.objects if o.manifest["kind"] == "ConfigMap")
    assert config_map.urn.endswith("$kubernetes:core/v1:ConfigMap::apps/conf")  # resourcePrefix ""


def test_a_broken_directory_is_one_line_naming_it(tmp_path: Path) -> None:
    folder = _kustomization(tmp_path / "broken", {}, extra="resources: [missing.yaml]\n")
    with pytest.raises(KustomizeError) as raised:
        Kustomizer(cache_dir=tmp_path / "cache").build(str(folder))
    message = str(raised.value)
    assert message.startswith(f"kustomize cannot build {folder}: ")
    assert "missing.yaml" in message
    assert "\n" not in message


def test_cli_prints_objects_on_stdout_and_errors_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, result = _render(tmp_path)
    monkeypatch.setattr(rendering, "render_stack", lambda stack, **_: result)
    done = CliRunner().invoke(cli.app, ["render", "st"])
    assert done.exit_code == 0
    documents = yamlio.load_all(done.stdout)
    assert {d["kind"] for d in documents} >= {"Deployment", "ClusterRole", "ConfigMap", "Namespace"}
    assert "not rendered (1):" in done.stderr
    assert "app [supervisor]: 3: " in done.stderr

    def broken(stack: str, **_: object) -> Rendering:
        raise KustomizeError("https://github.com/x/y/z?ref=1", "no such ref")

    monkeypatch.setattr(rendering, "render_stack", broken)
    done = CliRunner().invoke(cli.app, ["render", "st", "--format", "json"])
    assert done.exit_code == cli.EXIT_CONFIG
    assert done.stderr == "kustomize cannot build https://github.com/x/y/z?ref=1: no such ref\n"
    assert done.stdout == ""


def test_mirror_option_reads_the_environment_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, object] = {}

    def fake(stack: str, **kwargs: object) -> Rendering:
        seen.update(kwargs)
        return Rendering(stack=stack)

    monkeypatch.setattr(rendering, "render_stack", fake)
    monkeypatch.setenv(kustomize.MIRROR_ENV, str(tmp_path))
    assert CliRunner().invoke(cli.app, ["render", "st", "--summary"]).exit_code == 0
    assert seen["mirror_dir"] == tmp_path


@pytest.mark.slow
def test_full_dev_stack_renders_every_directory(upstream_mirror: Path, kustomize_cache: Path) -> None:
    """The whole dev platform once, cold: every kustomize directory builds, except what only the network
    serves (release assets, which no git mirror holds: the snapshots' README names them), and only those
    and charts are left unrendered."""
    result = rendering.render_stack("dev", mirror_dir=upstream_mirror, cache_dir=kustomize_cache, keep_going=True)
    directories = [u for u in result.depends_on if f"{rendering.DIRECTORY}::" in u]
    unbuilt = {n.source: n.reason for n in result.not_rendered if n.type == rendering.DIRECTORY}
    assert all("releases/download/" in reason for reason in unbuilt.values()), unbuilt
    assert len(unbuilt) <= 1
    assert set(directories) - set(unbuilt) <= {o.source for o in result.objects}
    assert {n.type for n in result.not_rendered} <= {rendering.DIRECTORY, rendering.CHART}
    assert result.kubernetes_version.count(".") == 1
    kinds = {o.manifest["kind"] for o in result.objects}
    assert {"CustomResourceDefinition", "Deployment", "Namespace", "Service", "AuthorizationPolicy"} <= kinds


_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.sampled_from(["yes", "No", "on", "null", "~", "1.21", "0x1F", "2024-01-01", "a: b", "- x", "#c", "x #y"])
    | st.text(alphabet="ab \n\t:#-|>", max_size=30)
)
_DOCUMENTS = st.recursive(
    _SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=4)
)


@given(st.lists(_DOCUMENTS, min_size=1, max_size=3))
def test_yaml_stream_reads_back_to_the_same_objects(documents: list[Any]) -> None:
    assert list(yaml.safe_load_all(yamlstream.dump_all(documents))) == documents
