"""A first `pulumi preview` of an empty stack, played offline, and the hazards it would meet there.

`kfvs plan` runs the program with every output known and every read answered, which the engine never does on a
new stack. Here the mock monitor answers as the engine does on its first preview (docs/LAYERS.md has the sources):

- a resource being created has no ID yet and only its inputs as outputs: anything the provider computes is unknown;
- a provider configured from an unknown value is never configured: the engine registers a component it would
  construct (helm.v4.Chart, kustomize.v2.Directory) alone, with no children (pulumi/pulumi#16868), and answers its
  reads with nothing;
- a read (`Resource.get`) runs at preview unless its ID is unknown, whatever its `depends_on` says
  (pulumi/pulumi#16395): an object the same run creates does not exist yet, so the engine stops with
  "resource '<id>' does not exist";
- an invoke whose declared dependencies are pending creation is answered "unknown" (pulumi/pulumi#24040); one that
  names an object the run creates, without depending on it, runs now and finds nothing;
- a custom object whose CustomResourceDefinition the program registers in the same run, on the same provider, passes
  the preview (the provider previews an unregistered kind as-is) but, if it does not wait for the CRD, may reach the
  API server at `up` before its kind is served, and the provider gives up after about 31 s of retries. CRDs that a
  chart or directory installs are not seen here (their objects are not expanded offline): `kfvs lint`'s `ordering`
  rule checks those on the rendered objects.

Where the engine would stop, the model records the hazard and carries on as if the read had been skipped, so one run
names every hazard rather than the first. Reads of objects that exist before the run (a StackReference, a Supervisor
object) are answered as in `kfvs plan`. A chart on a configured provider is rendered by that provider at preview;
offline its objects are not registered here (`kfvs render` shows them).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

from infra import paths
from infra.kfvs.recorder import (
    STACK_TYPE,
    UNKNOWN,
    PlanMocks,
    Read,
    Recording,
    RecordingMonitor,
    Registration,
    StackOutputs,
    record,
)
from infra.kfvs.run import infra_references
from infra.program import main
from infra.settings import load_settings
from infra.stackfile import read_stack_config

_PROVIDER_PREFIX = "pulumi:providers:"
CONSTRUCTED = {
    "kubernetes:helm.sh/v4:Chart": "helm.v4.Chart",
    "kubernetes:kustomize/v2:Directory": "kustomize.v2.Directory",
    "kubernetes:yaml/v2:ConfigFile": "yaml.v2.ConfigFile",
    "kubernetes:yaml/v2:ConfigGroup": "yaml.v2.ConfigGroup",
}
"""Components the Kubernetes provider builds itself (Construct): it needs a configured provider to render them."""
CRD_TYPES = frozenset(
    {
        "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        "kubernetes:apiextensions.k8s.io/v1beta1:CustomResourceDefinition",
    }
)
_OBJECT_TYPE = re.compile(r"kubernetes:(?P<group>[^/:]+)/(?P<version>[^/:]+):(?P<kind>\w+)")
"""`kubernetes:<group>/<version>:<Kind>`: what `apiextensions.CustomResource(api_version=..., kind=...)` registers
(`<Kind>Patch` for a `CustomResourcePatch`), as every typed Kubernetes resource does."""
WAIT_FOR = "pulumi.com/waitFor"
_DEFAULT_UPDATE_TIMEOUT = "10m"
"""pulumi-kubernetes' await timeout on update when neither a custom timeout nor `pulumi.com/timeoutSeconds` is set."""


class Effect(StrEnum):
    """What a hazard does to the first `pulumi up` of a new environment."""

    stops = "stops the preview"
    """The engine fails the preview, and `pulumi up` stops at its own preview."""
    fails = "fails at up"
    """The preview passes, and `pulumi up` may fail part-way, after creating what came before the failure."""
    hides = "hidden from the preview"
    """The preview passes but shows none of the objects, so neither reviewers nor policy packs see them."""
    later = "a later update"
    """Harmless on an empty stack; bites when the object, already there, is updated."""


class Kind(StrEnum):
    """The hazards a first preview can meet, each with its effect and its fix."""

    read = "read"
    invoke = "invoke"
    construct = "construct"
    crd = "crd"
    wait_for = "waitFor"

    @property
    def effect(self) -> Effect:
        return {Kind.construct: Effect.hides, Kind.crd: Effect.fails, Kind.wait_for: Effect.later}.get(
            self, Effect.stops
        )

    @property
    def fix(self) -> str:
        return _FIXES[self]


_FIXES = {
    Kind.read: "read the object from the stack that created it (a StackReference output), or make the read's ID "
    "an output of what creates it, so the read is skipped while that is unknown",
    Kind.invoke: "pass the created resource's outputs instead of looking it up by name, or look it up with an "
    "output-form invoke that depends_on it",
    Kind.construct: "build the provider from a kubeconfig known at preview: a StackReference output of the stack "
    "that created the cluster (docs/LAYERS.md)",
    Kind.crd: "make the custom object depend on its CRD (depends_on=[crd], or on the component that installs it), "
    "so the engine sends it only once the CRD is created",
    Kind.wait_for: "nothing on a new stack; if an update then sits waiting while the object shows the condition at "
    "its current observedGeneration, cancel and re-run (docs/LAYERS.md: waitFor on the cluster object)",
}


EXIT_STOPS = 5
"""`kfvs plan --fresh` exit status when a hazard stops the preview."""
EXIT_HIDES = 6
"""Exit status when no hazard stops the preview or fails at up, but some objects would be hidden from the preview
(and from the policies)."""
EXIT_FAILS = 7
"""Exit status when no hazard stops the preview but one may fail the first `pulumi up` (it outranks EXIT_HIDES)."""


@dataclass(frozen=True)
class Hazard:
    """One thing the engine's first preview of an empty stack would trip on."""

    kind: Kind
    urn: str
    reason: str
    issue: str

    @property
    def effect(self) -> Effect:
        return self.kind.effect

    def line(self) -> str:
        level = "warning" if self.effect is Effect.later else "error"
        return f"{level} [{self.effect.value}] {self.urn}: {self.reason} ({self.issue})"

    def as_json(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "effect": self.effect.name,
            "urn": self.urn,
            "reason": self.reason,
            "issue": self.issue,
        }


@dataclass(frozen=True)
class UnknownProvider:
    """A provider the engine cannot configure at preview: these inputs are unknown, and come from `sources`."""

    urn: str
    keys: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class FailedRead:
    """A read the engine performs at preview of an object the run has not created yet."""

    read: Read
    after: tuple[str, ...]
    """Resources of this run the object comes from: the read's dependencies, or the registration of that object."""


@dataclass
class FreshPreview:
    """What the first preview of an empty stack registers, reads and trips on."""

    recording: Recording
    hazards: list[Hazard] = field(default_factory=list[Hazard])

    @property
    def exit_status(self) -> int:
        effects = {h.effect for h in self.hazards}
        ranked = ((Effect.stops, EXIT_STOPS), (Effect.fails, EXIT_FAILS), (Effect.hides, EXIT_HIDES))
        return next((status for effect, status in ranked if effect in effects), 0)

    def text(self) -> str:
        lines = [h.line() for h in self.hazards]
        lines += [f"fix ({kind.value}): {kind.fix}" for kind in Kind if any(h.kind is kind for h in self.hazards)]
        stops = sum(h.effect is Effect.stops for h in self.hazards)
        rec = self.recording
        lines.append(
            f"{rec.stack}: first preview of an empty stack: {len(rec.resources)} resources, {len(rec.reads)} reads; "
            f"{len(self.hazards)} hazards ({stops} stop the preview)"
        )
        return "\n".join(lines) + "\n"

    def as_json(self) -> str:
        body = {
            "project": self.recording.project,
            "stack": self.recording.stack,
            "hazards": [h.as_json() for h in self.hazards],
        }
        return json.dumps(body, sort_keys=True, indent=2) + "\n"

    def markdown(self) -> str:
        head = f"### `{self.recording.stack}`: first preview of an empty stack\n\n"
        if not self.hazards:
            return head + "No hazard: the first `pulumi preview` of this stack runs as planned.\n"
        rows = "".join(f"- **{h.effect.value}** `{h.urn}`: {h.reason} ({h.issue})\n" for h in self.hazards)
        return head + rows


class _FreshMocks(PlanMocks):
    """Lookups and reads of existing objects as in `kfvs plan`; new resources get no ID and no computed output
    (the monitor echoes their inputs)."""

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        if args.custom is None:  # a read: only reads leave `custom` unset
            return super().new_resource(args)
        return "", {}


class FreshMonitor(RecordingMonitor):
    """The engine's side of a first preview: pending creations, unconfigured providers, reads that fail."""

    preview = True

    def __init__(self, recording: Recording, on_register: Callable[[Registration], None] | None = None) -> None:
        super().__init__(recording, on_register)
        self.mocks = _FreshMocks(recording)
        self.pending: set[str] = set()
        """URNs registered (so being created) in this run; reads are not among them."""
        self.providers: dict[str, str] = {}
        """Each registration's provider URN, explicit or from its `providers` map."""
        self.unknown_providers: dict[str, UnknownProvider] = {}
        self.failed_reads: list[FailedRead] = []
        self.answered_reads: list[Read] = []
        """Reads answered as of objects that exist; `late_failures` checks them against what registered after."""
        self._lock = threading.Lock()
        """Held while a request is recorded and judged: they arrive on several executor threads at once, and a
        read is judged against the registrations recorded so far."""

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        # The engine (>= 3.256) gates invokes on their declared dependencies itself.
        info = super().GetDeploymentInfo(request)  # type: ignore[no-untyped-call]  # the SDK's mock is untyped
        info.supportedFeatures.append(resource_pb2.RESOURCE_MONITOR_FEATURE_INVOKE_DEPENDS_ON)
        return info

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        with self._lock:
            return self._register(request)

    def _register(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            return response
        urn = response.urn
        self.pending.add(urn)
        provider = _provider_urn(request.provider) or _provider_urn(
            request.providers.get(request.type.split(":", 1)[0], "")
        )
        if provider:
            self.providers[urn] = provider
        if request.type.startswith(_PROVIDER_PREFIX):
            self._note_provider(urn, request)
        # Being created: no ID yet, and its outputs are its inputs, unknowns included; the rest is unknown.
        return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=request.object)

    def _note_provider(self, urn: str, request: Any) -> None:
        unknown = tuple(sorted(k for k, v in request.object.fields.items() if _contains_unknown(v)))
        if not unknown:
            return
        sources: set[str] = set()
        for key in unknown:
            deps = request.propertyDependencies.get(key)
            sources.update(deps.urns if deps is not None else ())
        self.unknown_providers[urn] = UnknownProvider(urn, unknown, tuple(sorted(sources or request.dependencies)))

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        with self._lock:
            return self._read(request)

    def _read(self, request: Any) -> Any:
        answer = super().ReadResource(request)
        read = self.read_of(request)
        nothing = resource_pb2.ReadResourceResponse(urn=read.urn)
        if request.id == rpc.UNKNOWN or _provider_urn(request.provider) in self.unknown_providers:
            # Skipped (unknown ID), or answered with an empty bag by an unconfigured provider: all unknown.
            return nothing
        after = self._created_first(read)
        if after:
            self.failed_reads.append(FailedRead(read, after))
            return nothing
        answer.id = request.id  # an object that exists: read for real, at preview as at update
        self.answered_reads.append(read)
        return answer

    def _created_first(self, read: Read) -> tuple[str, ...]:
        """What in this run the object read comes from: a dependency being created, or its own registration."""
        waits_for = tuple(d for d in read.dependencies if d in self.pending)
        same = tuple(
            r.urn for r in self.recording.resources.values() if r.type == read.type and _object_id(r) == read.id
        )
        return waits_for or same

    def late_failures(self) -> list[FailedRead]:
        """Reads answered at the time whose object the run registered later: the engine fails those too."""
        late = ((read, self._created_first(read)) for read in self.answered_reads)
        return [FailedRead(read, after) for read, after in late if after]

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        if any(urn in self.pending for urn in request.dependsOn):
            self._note_thread_loop()
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        return super().Invoke(request)


def _provider_urn(reference: str) -> str:
    """`urn::id` (the id unknown while the provider is created) -> the URN."""
    return reference.rsplit("::", 1)[0] if reference else ""


def _contains_unknown(value: Any) -> bool:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return bool(value.string_value == rpc.UNKNOWN)
    if kind == "struct_value":
        return any(_contains_unknown(v) for v in value.struct_value.fields.values())
    if kind == "list_value":
        return any(_contains_unknown(v) for v in value.list_value.values)
    return False


def _object_id(r: Registration) -> str | None:
    """The ID a Kubernetes object gets (`namespace/name`, or `name`), when its metadata is known."""
    if not r.type.startswith("kubernetes:"):
        return None
    metadata = r.inputs.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        return None
    namespace = metadata.get("namespace")
    return f"{namespace}/{metadata['name']}" if isinstance(namespace, str) else str(metadata["name"])


def find_hazards(recording: Recording, monitor: FreshMonitor) -> list[Hazard]:
    """Every hazard of one fresh run, once each: the ones that stop the preview first, each group in URN order."""
    found = {
        *_read_hazards([*monitor.failed_reads, *monitor.late_failures()]),
        *_invoke_hazards(recording, monitor.pending),
        *_construct_hazards(recording, monitor),
        *_crd_hazards(recording, monitor),
        *_wait_for_hazards(recording.resources.values()),
    }
    order = list(Effect)
    return sorted(found, key=lambda h: (order.index(h.effect), h.urn, h.reason))


def _read_hazards(failed: Iterable[FailedRead]) -> Iterator[Hazard]:
    for f in failed:
        yield Hazard(
            Kind.read,
            f.read.urn,
            f"reads {_kind_of(f.read.type)} '{f.read.id}' at preview, before {_names(f.after)} creates it "
            f"(depends_on does not delay a read): \"resource '{f.read.id}' does not exist\"",
            "pulumi/pulumi#16395",
        )


def _invoke_hazards(recording: Recording, pending: set[str]) -> Iterator[Hazard]:
    """An invoke that looks up by name what this run creates, and reached the engine ungated."""
    created = [r for r in recording.resources.values() if r.custom and r.urn in pending]
    for call in recording.invocations:
        target = _invoked_type(call.token)
        name = call.args.get("name")
        if target is None or not isinstance(name, str):
            continue
        for r in created:
            if r.type == target and r.inputs.get("name") == name:
                yield Hazard(
                    Kind.invoke,
                    r.urn,
                    f"{_kind_of(call.token)}('{name}') looks up what this run creates without depending on it: it "
                    "runs at preview (and at up) before the creation and finds nothing",
                    "pulumi/pulumi#24040",
                )


def _names(urns: Iterable[str]) -> str:
    """Resources by their names (the URN's last part), for a line a person reads."""
    return ", ".join(urn.rsplit("::", 1)[-1] for urn in urns)


def _kind_of(token: str) -> str:
    """`kubernetes:core/v1:Secret` -> `Secret`; `vsphere:index/getContentLibrary:getContentLibrary` -> the function."""
    return token.rsplit(":", 1)[-1]


def _invoked_type(token: str) -> str | None:
    """`vsphere:index/getContentLibrary:getContentLibrary` -> `vsphere:index/contentLibrary:ContentLibrary`."""
    match = re.fullmatch(r"([^:]+):([^/]+)/get([A-Z]\w*):get\3", token)
    if match is None:
        return None
    package, module, kind = match.groups()
    return f"{package}:{module}/{kind[0].lower()}{kind[1:]}:{kind}"


def _construct_hazards(recording: Recording, monitor: FreshMonitor) -> Iterator[Hazard]:
    for r in recording.resources.values():
        label = CONSTRUCTED.get(r.type)
        provider = monitor.unknown_providers.get(monitor.providers.get(r.urn, ""))
        if label is None or provider is None:
            continue
        yield Hazard(
            Kind.construct,
            r.urn,
            f"a {label} on provider {_names([provider.urn])}, whose {', '.join(provider.keys)} is unknown at "
            f"preview (from {_names(provider.sources) or 'an output of this run'}): the engine leaves that provider "
            "unconfigured and registers the component without its objects, so neither the preview nor the policy "
            "packs see them",
            "pulumi-kubernetes#3027, pulumi/pulumi#16868",
        )


def _crd_hazards(recording: Recording, monitor: FreshMonitor) -> Iterator[Hazard]:
    """A custom object on the provider of a CRD this run registers for its group and kind, not waiting for it."""
    crds: dict[tuple[str, str, str], list[Registration]] = {}
    for r in recording.resources.values():
        served = _served_kind(r)
        if served is not None:
            crds.setdefault((monitor.providers.get(r.urn, ""), *served), []).append(r)
    if not crds:
        return
    waits = _Waits(recording)
    for r in recording.resources.values():
        match = _OBJECT_TYPE.fullmatch(r.type)
        if match is None or not r.custom or r.remote or r.type in CRD_TYPES:
            continue
        group, version, kind = match.group("group", "version", "kind")
        provider = monitor.providers.get(r.urn, "")
        on = f"provider {_names([provider])}" if provider else "the default provider"
        wanted = [c for k in {kind, kind.removesuffix("Patch")} for c in crds.get((provider, group, k), [])]
        waited = waits.of(r.urn) if wanted else set()
        for crd in wanted:
            if crd.urn in waited:
                continue
            yield Hazard(
                Kind.crd,
                r.urn,
                f"a {kind} ({group}/{version}) on {on}, whose CRD {crd.name} this run creates, without depending on "
                "it: the provider previews an unregistered kind as-is, so the preview passes; at up it may send the "
                'object before the CRD is served, retry 5 times (1 s, doubling: about 31 s) and fail: "the '
                'apiVersion for this resource does not exist. Verify that any required CRDs have been created"',
                "pulumi-kubernetes#2881",
            )


def _served_kind(r: Registration) -> tuple[str, str] | None:
    """(group, kind) that a CustomResourceDefinition registration serves, when its spec is known at preview."""
    spec = r.inputs.get("spec") if r.type in CRD_TYPES else None
    names = spec.get("names") if isinstance(spec, dict) else None
    group = spec.get("group") if isinstance(spec, dict) else None
    kind = names.get("kind") if isinstance(names, dict) else None
    if not isinstance(group, str) or not isinstance(kind, str) or UNKNOWN in (group, kind):
        return None
    return group, kind


class _Waits:
    """What the engine creates before a registration: its dependencies and its parent, and what each of those waits
    for in turn (its provider is the CRD's own, so it never waits for the CRD). The dependencies are as the SDK sent
    them, a local component expanded to the descendants it had then (`rpc._add_dependency`): all the engine waits
    for."""

    def __init__(self, recording: Recording) -> None:
        self.resources = recording.resources

    def of(self, urn: str) -> set[str]:
        seen: set[str] = set()
        pending = [urn]
        while pending:
            for before in self._direct(pending.pop()):
                if before not in seen:
                    seen.add(before)
                    pending.append(before)
        return seen

    def _direct(self, urn: str) -> Iterator[str]:
        r = self.resources.get(urn)
        if r is None:
            return
        yield from r.dependencies
        if r.parent:  # registered only once its parent is, so after what the parent waits for
            yield r.parent


def _wait_for_hazards(registrations: Iterable[Registration]) -> Iterator[Hazard]:
    for r in registrations:
        metadata = r.inputs.get("metadata")
        annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
        expression = annotations.get(WAIT_FOR) if isinstance(annotations, dict) else None
        conditions = [c for c in _wait_expressions(expression) if not c.startswith("jsonpath=")]
        if not conditions:
            continue
        timeout = r.custom_timeouts.get("update", _DEFAULT_UPDATE_TIMEOUT)
        yield Hazard(
            Kind.wait_for,
            r.urn,
            f"waits for {', '.join(conditions)} on every update too, for up to the update timeout ({timeout}): "
            "#4521 (open, needs-repro) reports an update of an already Ready object waiting for a newer "
            "lastTransitionTime; the provider's check as read (v4.32.0 to 2026-07-01, await/condition/kubectl.go "
            "checkCondition, lines 53-70) compares only the condition's status and observedGeneration, and 4.33.0 "
            "to 4.34.2 note no await change",
            "pulumi-kubernetes#4521",
        )


def _wait_expressions(value: Any) -> list[str]:
    """`pulumi.com/waitFor` holds one expression, or a JSON list of them (all must hold)."""
    if not isinstance(value, str) or not value:
        return []
    if value.startswith("["):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return [value]
        return [str(v) for v in parsed] if isinstance(parsed, list) else [value]
    return [value]


def preview_fresh(
    program: Callable[[], None],
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: frozenset[str],
    *,
    references: dict[str, StackOutputs] | None = None,
) -> FreshPreview:
    """Run `program` as the engine's first preview of an empty stack would, and name its hazards; StackReferences
    are answered from `references` (another layer's stack, deployed before this one)."""
    monitors: list[FreshMonitor] = []

    def monitor(recording: Recording, on_register: Callable[[Registration], None] | None) -> RecordingMonitor:
        monitors.append(FreshMonitor(recording, on_register))
        return monitors[-1]

    recording = record(program, project, stack, config, secret_keys, references=references, monitor_type=monitor)
    return FreshPreview(recording, find_hazards(recording, monitors[0]))


def fresh_stack(stack: str, root: Path = paths.PROJECT_ROOT) -> FreshPreview:
    """Validate STACK, then play the first preview of it as an empty stack."""
    config, secret = read_stack_config(stack, root)
    settings = load_settings(stack, config, secret, root)
    # The platform layer's first preview comes after the infra layer's `up`: its reference is answered so.
    references = infra_references(settings, root)
    return preview_fresh(lambda: main(root), paths.PROJECT_NAME, stack, config, secret, references=references)
