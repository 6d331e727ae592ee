"""`kfvs render`: the objects a stack puts on its clusters, as the Kubernetes provider would apply them.

The program runs under mocks (as for `kfvs plan`); then every `kustomize.v2.Directory` it registered is built
with real kustomize (`infra.kfvs.kustomize`) from the same `directory` input, after the program's stack
transforms. The provider's own steps follow, as pulumi-kubernetes' `yaml/v2` Normalize and Register do them:
`*List` kinds expanded, the `core` group canonicalised, the Directory's `namespace` (else the provider's
default namespace, `default`) given to namespaced objects that have none, `pulumi.com/skipAwait` added when
`skipAwait` is set, and each object named `<resourcePrefix>:<namespace>/<name>` (the prefix defaults to the
Directory's name). The engine then runs the program's stack transforms on each object the provider
registers (the registry mirror's image and pull-secret rewrite among them): here the very callables the
program registered are run on each rendered object. Last, Secret values are masked as the plan masks them.

The plan's own Kubernetes objects are added from their recorded inputs (already transformed, secrets already
masked); `*Patch` resources are merged into the object they patch. Helm charts are listed as not rendered.
"""

from __future__ import annotations

import copy
import inspect
import json
import marshal
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await

from infra import paths
from infra.kfvs import kustomize, yamlstream
from infra.kfvs.kinds import CLUSTER_SCOPED
from infra.kfvs.kustomize import KustomizeError, Kustomizer, is_remote, parse_objects
from infra.kfvs.recorder import SECRET, STACK_TYPE, UNKNOWN, Recording, Registration
from infra.kfvs.rendered import NotRendered, RenderedObject, Rendering
from infra.kfvs.run import record_stack
from infra.settings import Settings

DIRECTORY = "kubernetes:kustomize/v2:Directory"
CHART = "kubernetes:helm.sh/v4:Chart"
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
CONFIG_FILE = "kubernetes:yaml/v2:ConfigFile"
DEFAULT_NAMESPACE = "default"
"""What the provider applies when neither the Directory nor the provider names a namespace (client-go's default
for a kubeconfig context without one)."""

RenderError = kustomize.RenderError
"""What stops a render (one line per problem); kustomize.py raises it too, so it is defined there."""

_WORKLOAD_CLUSTER = "kubeflow-vsphere:tanzu:WorkloadCluster"
_CLUSTER_KINDS = {"Cluster", "TanzuKubernetesCluster"}
_OWN_TYPES = "kubeflow-vsphere:"
_PATCH_FORCE = "pulumi.com/patchForce"

Transform = Callable[[pulumi.ResourceTransformArgs], Any]

# Kubernetes' built-in API groups; their cluster-scoped kinds are `kinds.CLUSTER_SCOPED` (every other kind of
# these groups is namespaced). Kinds of any other group are custom: their scope is their CRD's `spec.scope`.
_BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "extensions",
        *(
            f"{g}.k8s.io"
            for g in (
                "admissionregistration",
                "apiextensions",
                "apiregistration",
                "authentication",
                "authorization",
                "certificates",
                "coordination",
                "discovery",
                "events",
                "internal.apiserver",
                "networking",
                "node",
                "rbac.authorization",
                "resource",
                "scheduling",
                "storage",
                "storagemigration",
            )
        ),
        "flowcontrol.apiserver.k8s.io",
    }
)


def render_stack(
    stack: str,
    root: Path = paths.PROJECT_ROOT,
    mirror_dir: Path | None = None,
    *,
    cache_dir: Path | None = None,
    refresh: bool = False,
    keep_going: bool = False,
) -> Rendering:
    """Every object STACK puts on its clusters; `mirror_dir` serves `https://github.com/<org>/<repo>` from
    `<mirror_dir>/<org>/<repo>.git`. Raises ConfigError (bad config), RenderError or MirrorError."""
    settings, recording = record_stack(stack, root)
    kustomizer = Kustomizer(mirror=mirror_dir, cache_dir=cache_dir, refresh=refresh, base_dir=root)
    return render_recording(
        recording,
        recording.transforms,
        kustomizer,
        root=root,
        kubernetes_version=kubernetes_version(settings),
        keep_going=keep_going,
    )


def kubernetes_version(settings: Settings) -> str:
    """Minor version (`1.31`) of the Kubeflow cluster's TKR, else of the first cluster's; "" without clusters."""
    clusters = list(settings.clusters)
    target = settings.kubeflow.cluster if settings.kubeflow is not None else None
    chosen = next((c for c in clusters if c.name == target), clusters[0] if clusters else None)
    if chosen is None:
        return ""
    major, minor = chosen.tkr.removeprefix("v").split(".")[:2]
    return f"{major}.{minor}"


def render_recording(
    recording: Recording,
    transforms: Iterable[Transform],
    kustomizer: Kustomizer,
    *,
    root: Path = paths.PROJECT_ROOT,
    kubernetes_version: str = "",
    keep_going: bool = False,
) -> Rendering:
    """The Rendering of one recorded run (see the module docstring for each step). A directory kustomize cannot
    build stops the render (RenderError, one line per such directory), or with `keep_going` is listed as not
    rendered with kustomize's error."""
    graph = _Graph(recording)
    rendering = Rendering(stack=recording.stack, kubernetes_version=kubernetes_version)
    rendering.depends_on = graph.depends_on()
    raw, plan_objects = _collect(
        recording, kustomizer, root, rendering.not_rendered, rendering.chart_inputs, keep_going=keep_going
    )
    scopes = _Scopes([o for _, objs, _ in raw for o in objs] + [r.inputs for r in plan_objects])
    transforms = list(transforms)
    for reg, objects, inputs in raw:
        for obj in objects:
            manifest, urn = _register(
                obj, reg, inputs=inputs, scopes=scopes, transforms=transforms, notes=rendering.notes
            )
            rendering.objects.append(
                RenderedObject(manifest, reg.urn, graph.component(reg.urn), graph.cluster(reg), urn=urn)
            )
    patches = [reg for reg in plan_objects if _is_patch(reg)]
    for reg in plan_objects:
        if not _is_patch(reg):
            manifest = _with_default_namespace(copy.deepcopy(reg.inputs), DEFAULT_NAMESPACE, scopes, rendering.notes)
            rendering.objects.append(
                RenderedObject(manifest, reg.urn, graph.component(reg.urn), graph.cluster(reg), urn=reg.urn)
            )
    for reg in patches:
        _apply_patch(rendering, reg, graph.cluster(reg), scopes)
    return rendering


_Raw = tuple[Registration, list[dict[str, Any]], "_Inputs"]


def _collect(
    recording: Recording,
    kustomizer: Kustomizer,
    root: Path,
    not_rendered: list[NotRendered],
    chart_inputs: dict[str, dict[str, Any]],
    *,
    keep_going: bool,
) -> tuple[list[_Raw], list[Registration]]:
    """What each provider-rendered component renders (directories built in parallel first), and the plan's own
    objects; what cannot be rendered goes to `not_rendered` with its reason (and each chart's inputs to
    `chart_inputs`)."""
    directories = [r for r in recording.resources.values() if r.type == DIRECTORY]
    builds = kustomizer.build_all(str(r.inputs["directory"]) for r in directories if _known(r.inputs.get("directory")))
    failed = [b for b in builds.values() if isinstance(b, KustomizeError)]
    if failed and not keep_going:
        raise RenderError("\n".join(str(error) for error in failed))
    raw: list[_Raw] = []
    plan_objects: list[Registration] = []
    for reg in recording.resources.values():
        reason = ""
        if reg.type == DIRECTORY:
            directory = reg.inputs.get("directory")
            build = builds.get(str(directory))
            if isinstance(build, KustomizeError):
                reason = f"kustomize cannot build {directory}: {build.detail}"
            elif build is not None:
                raw.append((reg, _fresh_copies(build.objects), _Inputs.of(reg)))
            else:
                reason = _unknown_reason("directory", directory)
        elif reg.type in (CONFIG_GROUP, CONFIG_FILE):
            objects, reason = _config_objects(reg, root)
            if not reason:
                raw.append((reg, objects, _Inputs.of(reg)))
        elif reg.type == CHART:
            reason = _chart_reason(reg.inputs)
            chart_inputs[reg.urn] = copy.deepcopy(reg.inputs)
        elif _is_object(reg):
            plan_objects.append(reg)
        elif reg.type.startswith("kubernetes:"):
            reason = f"{reg.type} is not rendered by kfvs: what it installs is not checked"
        if reason:
            not_rendered.append(NotRendered(reg.urn, reg.type, reason))
    return raw, plan_objects


@dataclass(frozen=True)
class _Inputs:
    """The inputs of a provider-rendered component that shape its objects."""

    name: str
    namespace: str
    prefix: str
    skip_await: bool

    @classmethod
    def of(cls, reg: Registration) -> _Inputs:
        namespace = reg.inputs.get("namespace")
        prefix = reg.inputs.get("resourcePrefix")
        return cls(
            name=reg.name,
            namespace=namespace if isinstance(namespace, str) and namespace else DEFAULT_NAMESPACE,
            # As the provider: an unset prefix becomes the component's name; "" (set, empty) means none.
            prefix=prefix if isinstance(prefix, str) else reg.name,
            skip_await=reg.inputs.get("skipAwait") is True,
        )


def _register(
    obj: dict[str, Any],
    source: Registration,
    *,
    inputs: _Inputs,
    scopes: _Scopes,
    transforms: list[Transform],
    notes: list[str],
) -> tuple[dict[str, Any], str]:
    """One rendered object as the provider registers it and the engine's transforms leave it; and its URN."""
    api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
    if api_version.startswith("core/"):
        api_version = obj["apiVersion"] = api_version.removeprefix("core/")
    obj = _with_default_namespace(obj, inputs.namespace, scopes, notes)
    metadata = obj.setdefault("metadata", {})
    if inputs.skip_await:
        metadata["annotations"] = {**(metadata.get("annotations") or {}), "pulumi.com/skipAwait": "true"}
    name = str(metadata.get("name", ""))
    namespace = metadata.get("namespace")
    resource_name = f"{namespace}/{name}" if namespace else name
    if inputs.prefix:
        resource_name = f"{inputs.prefix}:{resource_name}"
    type_ = f"kubernetes:{'core/v1' if api_version == 'v1' else api_version}:{kind}"
    for transform in transforms:
        args = pulumi.ResourceTransformArgs(
            custom=True, type_=type_, name=resource_name, props=obj, opts=pulumi.ResourceOptions()
        )
        result = transform(args)
        if inspect.isawaitable(result):
            result = _sync_await(result)
        if result is not None:
            obj = dict(result.props)
    if api_version == "v1" and kind == "Secret":
        obj = _masked_secret(obj)
    stack, project, qualified, _ = source.urn.split("::", 3)
    return obj, f"{stack}::{project}::{qualified}${type_}::{resource_name}"


def _masked_secret(obj: dict[str, Any]) -> dict[str, Any]:
    """The provider marks a rendered Secret's `data` and `stringData` secret: keys shown, values masked."""
    out = dict(obj)
    for key in ("data", "stringData"):
        if isinstance(out.get(key), dict):
            out[key] = dict.fromkeys(out[key], SECRET)
    return out


def _with_default_namespace(obj: dict[str, Any], namespace: str, scopes: _Scopes, notes: list[str]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or metadata.get("namespace"):
        return obj
    namespaced = scopes.namespaced(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))
    if namespaced is None:
        note = (
            f"{obj.get('apiVersion')} {obj.get('kind')}: no CustomResourceDefinition in the rendering says whether "
            "it is namespaced, so objects of it without a namespace are left without one (as the provider does "
            "when it cannot tell)"
        )
        if note not in notes:
            notes.append(note)
    elif namespaced:
        metadata["namespace"] = namespace
    return obj


class _Scopes:
    """Whether a kind is namespaced: built-in kinds from Kubernetes' API, custom kinds from the CRDs rendered."""

    def __init__(self, objects: Iterable[Mapping[str, Any]]) -> None:
        self.crds: dict[tuple[str, str], bool] = {}
        for obj in objects:
            if obj.get("kind") != "CustomResourceDefinition":
                continue
            spec = obj.get("spec") or {}
            names = spec.get("names") or {}
            if isinstance(spec, dict) and isinstance(names, dict):
                self.crds[(str(spec.get("group", "")), str(names.get("kind", "")))] = spec.get("scope") == "Namespaced"

    def namespaced(self, api_version: str, kind: str) -> bool | None:
        group = api_version.rpartition("/")[0] if "/" in api_version else ""
        group = "" if group == "core" else group
        kind = kind.removesuffix("List")
        if group in _BUILTIN_GROUPS:
            return kind not in CLUSTER_SCOPED
        return self.crds.get((group, kind))


def _apply_patch(rendering: Rendering, patch: Registration, cluster: str, scopes: _Scopes) -> None:
    """Merge a `*Patch` resource into the object it patches (server-side apply: maps merge, lists and scalars
    are replaced, which is how apply treats the atomic lists of custom kinds)."""
    body = copy.deepcopy(patch.inputs)
    metadata = body.get("metadata") or {}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != _PATCH_FORCE}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    api_version, kind = str(body.get("apiVersion", "")), str(body.get("kind", ""))
    namespace = metadata.get("namespace") or (DEFAULT_NAMESPACE if scopes.namespaced(api_version, kind) else None)
    key = (_group(api_version), kind, namespace, metadata.get("name"))
    for i, obj in enumerate(rendering.objects):
        meta = obj.manifest.get("metadata") or {}
        if obj.cluster == cluster and key == (
            _group(str(obj.manifest.get("apiVersion", ""))),
            obj.manifest.get("kind"),
            meta.get("namespace"),
            meta.get("name"),
        ):
            merged = _merge(obj.manifest, body)
            rendering.objects[i] = RenderedObject(merged, obj.source, obj.component, obj.cluster, obj.urn)
            return
    rendering.notes.append(
        f"{patch.urn}: patches {kind} {namespace or ''}/{metadata.get('name')}, which nothing rendered creates"
    )


def _merge(base: Any, patch: Any) -> Any:
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for k, v in patch.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = _merge(base.get(k), v)
        return out
    return copy.deepcopy(patch)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _renders(reg: Registration) -> bool:
    return reg.type in (DIRECTORY, CONFIG_GROUP, CONFIG_FILE)


def _known(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and value not in (UNKNOWN, SECRET)


def _unknown_reason(key: str, value: Any) -> str:
    if value == SECRET:
        return f"its `{key}` input is a secret, so kfvs cannot see what to build"
    return f"its `{key}` input is unknown until the resources it depends on exist"


def _is_object(reg: Registration) -> bool:
    """A Kubernetes object of the plan itself: a custom resource of the Kubernetes provider whose inputs are an
    object (`apiVersion`, `kind`), which leaves out e.g. `helm.sh/v3:Release`."""
    inputs = reg.inputs
    return (
        reg.custom
        and reg.type.startswith("kubernetes:")
        and isinstance(inputs.get("apiVersion"), str)
        and isinstance(inputs.get("kind"), str)
    )


def _is_patch(reg: Registration) -> bool:
    return reg.type.rsplit(":", 1)[-1] == f"{reg.inputs.get('kind')}Patch"


def _chart_reason(inputs: Mapping[str, Any]) -> str:
    chart = inputs.get("chart", "?")
    version = inputs.get("version") or "(no version)"
    repo = (inputs.get("repositoryOpts") or {}).get("repo")
    where = f" from {repo}" if repo else ""
    return (
        f"Helm chart {chart} {version}{where}: kfvs has no Helm and reaches no chart repository, "
        "so the objects it installs are not rendered or checked"
    )


def _config_objects(reg: Registration, root: Path) -> tuple[list[dict[str, Any]], str]:
    """The objects of a `yaml/v2` ConfigGroup or ConfigFile: its `objs`, `yaml` and local `files`/`file`."""
    inputs = reg.inputs
    objects: list[dict[str, Any]] = []
    files = inputs.get("files") or ([inputs["file"]] if "file" in inputs else [])
    for file in files if isinstance(files, list) else [files]:
        if not _known(file):
            return [], _unknown_reason("files", file)
        if is_remote(str(file)) or any(ch in str(file) for ch in "*?["):
            return [], f"{file}: kfvs reads only plain local files, not URLs or globs, so it is not rendered"
        path = root / str(file)
        try:
            objects += parse_objects(path.read_text(encoding="utf-8"))
        except OSError as error:
            return [], f"{file}: cannot be read ({error.strerror})"
    texts = inputs.get("yaml") or []
    for text in [texts] if isinstance(texts, str) else texts:
        if not _known(text):
            return [], _unknown_reason("yaml", text)
        objects += parse_objects(str(text))
    for obj in inputs.get("objs") or []:
        if not isinstance(obj, dict):
            return [], _unknown_reason("objs", obj)
        objects.append(copy.deepcopy(obj))
    return objects, ""


class _Graph:
    """The recording's tree and dependencies, for `depends_on`, component names and clusters."""

    def __init__(self, recording: Recording) -> None:
        self.resources = recording.resources
        self.children: dict[str, list[str]] = {}
        for reg in self.resources.values():
            if reg.parent:
                self.children.setdefault(reg.parent, []).append(reg.urn)
        self._waits: dict[str, frozenset[str]] = {}

    def depends_on(self) -> dict[str, frozenset[str]]:
        """URN -> the plan resources it waits for.

        The rule, and why: a resource waits for (1) its own dependencies, as the SDK sent them; a dependency on
        a local ComponentResource stands for each of its descendants that is a custom resource or a remote
        component (the SDK's `_add_dependency` expands it so; a remote component, a kustomize Directory or a
        Helm Chart, stays whole, since the engine finishes it only once all it renders exists); (2) its
        provider, which must exist before anything is sent to it; and (3) what every ancestor waits for: the
        SDK registers a child only once its parent's URN is known, and a parent is registered only after its
        own dependencies, so a child can never start before them. The objects a Directory renders are
        registered under it and so share its entry.
        """
        return {urn: self.waits(urn) for urn, reg in self.resources.items() if reg.type != STACK_TYPE}

    def waits(self, urn: str) -> frozenset[str]:
        if urn in self._waits:
            return self._waits[urn]
        chain: list[str] = []
        cursor: str | None = urn
        while cursor is not None and cursor not in self._waits and cursor in self.resources:
            chain.append(cursor)
            cursor = self.resources[cursor].parent
        inherited = self._waits.get(cursor, frozenset()) if cursor is not None else frozenset()
        for item in reversed(chain):
            inherited = frozenset(inherited | self._direct(item)) - {item}
            self._waits[item] = inherited
        return self._waits[urn]

    def _direct(self, urn: str) -> set[str]:
        reg = self.resources[urn]
        out: set[str] = set()
        for dep in reg.dependencies:
            out |= set(self._expand(dep))
        if reg.provider:
            out.add(reg.provider.rsplit("::", 1)[0])
        return out

    def _expand(self, urn: str) -> Iterator[str]:
        pending = [urn]
        while pending:
            current = pending.pop()
            reg = self.resources.get(current)
            if reg is not None and not reg.custom and not reg.remote and reg.type != STACK_TYPE:
                pending += self.children.get(current, [])
            elif reg is None or reg.type != STACK_TYPE:
                yield current

    def component(self, urn: str) -> str:
        """The nearest kubeflow-vsphere component's name, else the resource's own."""
        cursor: str | None = urn
        while cursor is not None and cursor in self.resources:
            reg = self.resources[cursor]
            if reg.type.startswith(_OWN_TYPES):
                return reg.name
            cursor = reg.parent
        return self.resources[urn].name if urn in self.resources else urn

    def cluster(self, reg: Registration) -> str:
        """The workload cluster the resource's provider reaches ("" for the Supervisor or the default provider)."""
        provider = self.resources.get(reg.provider.rsplit("::", 1)[0]) if reg.provider else None
        cursor = provider.parent if provider is not None else None
        while cursor is not None and cursor in self.resources:
            owner = self.resources[cursor]
            if owner.type == _WORKLOAD_CLUSTER:
                for child in self.children.get(owner.urn, []):
                    inputs = self.resources[child].inputs
                    if inputs.get("kind") in _CLUSTER_KINDS and isinstance(inputs.get("metadata"), dict):
                        return str(inputs["metadata"].get("name") or owner.name)
                return owner.name
            cursor = owner.parent
        return ""


class OutputFormat(StrEnum):
    """`kfvs render --format`: a YAML stream, or a JSON `v1` List; both are what `kubectl apply -f -` reads."""

    yaml = "yaml"
    json = "json"


def as_yaml(rendering: Rendering) -> str:
    """The objects as one YAML stream, in render order (keys as kustomize and the program wrote them)."""
    return yamlstream.dump_all(o.manifest for o in rendering.objects)


def as_json(rendering: Rendering) -> str:
    """The objects as a `v1` List."""
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": [o.manifest for o in rendering.objects]}) + "\n"


def summary(rendering: Rendering) -> str:
    """Objects by kind per component, then what was not rendered and why, then the notes."""
    by_component: dict[tuple[str, str], Counter[str]] = {}
    for obj in rendering.objects:
        by_component.setdefault((obj.component, obj.cluster), Counter())[str(obj.manifest.get("kind"))] += 1
    version = f" (Kubernetes {rendering.kubernetes_version})" if rendering.kubernetes_version else ""
    lines = [f"{rendering.stack}: {len(rendering.objects)} objects in {len(by_component)} components{version}"]
    for (component, cluster), kinds in sorted(by_component.items()):
        where = f" [{cluster}]" if cluster else " [supervisor]"
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
        lines.append(f"  {component}{where}: {sum(kinds.values())}: {counts}")
    if rendering.not_rendered:
        lines.append(f"not rendered ({len(rendering.not_rendered)}):")
        lines += [f"  {n.source.rsplit('::', 1)[-1]}: {n.reason}" for n in rendering.not_rendered]
    if rendering.notes:
        lines.append("notes:")
        lines += [f"  {note}" for note in rendering.notes]
    return "\n".join(lines) + "\n"


def _fresh_copies(objects: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    """Copies of a build's objects that the stack transforms may change: the build itself is shared (the cache, and
    every directory registered twice). A marshal round trip is exact for what a build holds (JSON's types: the
    cache keeps builds as JSON) and about three times faster than `copy.deepcopy` over a platform's objects."""
    copies: list[dict[str, Any]] = marshal.loads(marshal.dumps(list(objects)))  # noqa: S302 - our own bytes, in memory
    return copies
