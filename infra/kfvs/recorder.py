"""Run the real program under Pulumi's mock runtime and record every registration the engine would see."""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.runtime import mocks, rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from infra.collector import tuned_for_run
from infra.errors import ConfigError, Problem
from infra.kfvs import lookups
from infra.kfvs.stacktrace import faster_traces

SECRET = "[secret]"  # noqa: S105 - the mask shown in place of a secret
UNKNOWN = "[unknown]"
STACK_TYPE = "pulumi:pulumi:Stack"
"""The root stack resource's type: in every recording, a resource of no layer."""


@dataclass(frozen=True)
class Registration:
    """One RegisterResource request, as the engine receives it."""

    urn: str
    id: str
    type: str
    name: str
    parent: str | None
    custom: bool
    inputs: dict[str, Any]
    dependencies: tuple[str, ...]
    provider: str | None
    protect: bool
    ignore_changes: tuple[str, ...]
    custom_timeouts: dict[str, str]
    raw: struct_pb2.Struct = field(repr=False, compare=False)
    remote: bool = False
    """A component the provider builds (Helm v4 Chart, kustomize v2 Directory), registered with its inputs."""


@dataclass(frozen=True)
class Invocation:
    """One lookup (invoke) the program made, with its arguments."""

    token: str
    args: dict[str, Any]


@dataclass(frozen=True)
class Read:
    """One read of an existing resource (`Resource.get`): what was read, by which provider, after what."""

    urn: str
    type: str
    name: str
    id: str
    parent: str | None
    provider: str | None
    dependencies: tuple[str, ...]


@dataclass
class Recording:
    """Everything one run of the program registered and looked up."""

    project: str
    stack: str
    resources: dict[str, Registration] = field(default_factory=dict[str, Registration])
    invocations: list[Invocation] = field(default_factory=list[Invocation])
    reads: list[Read] = field(default_factory=list[Read])
    duplicates: list[tuple[Registration, Registration]] = field(default_factory=list[tuple[Registration, Registration]])
    """Pairs of registrations with one URN: the engine refuses the second, so `record` fails naming both."""
    outputs: StackOutputs | None = None
    """The stack's exports, as a StackReference to this stack would see them once it is deployed."""
    references: dict[str, StackOutputs] = field(default_factory=dict[str, "StackOutputs"])
    """Answers to this run's StackReferences, by the referenced stack's name (another layer's `outputs`)."""
    transforms: list[pulumi.ResourceTransform] = field(
        default_factory=list[pulumi.ResourceTransform], compare=False, repr=False
    )
    """The stack transforms the program registered, in order: the program's own callables, which the engine runs
    on every registration and `kfvs render` on every rendered object. Kept with the run, not read back from the
    runtime after it, where the next run (another layer, another test) would have replaced them."""

    def __deepcopy__(self, memo: dict[int, Any]) -> Recording:
        """A copy of the data; the transforms stay the program's own callables (shared, like any function)."""
        for transform in self.transforms:
            memo[id(transform)] = transform
        copied = Recording.__new__(Recording)
        memo[id(self)] = copied
        for name in (f.name for f in fields(self)):
            setattr(copied, name, copy.deepcopy(getattr(self, name), memo))
        return copied

    def of_type(self, type_: str) -> list[Registration]:
        """The registrations of one resource type, in URN order."""
        return sorted((r for r in self.resources.values() if r.type == type_), key=lambda r: r.urn)


@dataclass(frozen=True)
class StackOutputs:
    """A stack's exports with their secrets unwrapped, and the names of the exports that hold a secret (which a
    StackReference hands back as secrets, as the engine does)."""

    values: dict[str, Any]
    secret_names: frozenset[str]

    @staticmethod
    def from_wire(outputs: dict[str, Any]) -> StackOutputs:
        secret: set[str] = set()
        values = {}
        for name, value in outputs.items():
            plain_value, had_secret = _unwrap_secrets(value)
            values[name] = plain_value
            if had_secret:
                secret.add(name)
        return StackOutputs(values, frozenset(secret))


def _unwrap_secrets(value: Any) -> tuple[Any, bool]:
    """A wire value without its secret markers, and whether it held one (unknowns stay `[unknown]`)."""
    if isinstance(value, list):
        pairs = [_unwrap_secrets(v) for v in value]
        return [v for v, _ in pairs], any(s for _, s in pairs)
    if not isinstance(value, dict):
        return (UNKNOWN if value == rpc.UNKNOWN else value), False
    if value.get(rpc._special_sig_key) == rpc._special_secret_sig:  # noqa: SLF001 - the wire format's markers
        return _unwrap_secrets(value.get("value"))[0], True
    items = {str(k): _unwrap_secrets(v) for k, v in value.items()}
    return {k: v for k, (v, _) in items.items()}, any(s for _, s in items.values())


STACK_REFERENCE = "pulumi:pulumi:StackReference"


class PlanMocks(pulumi.runtime.Mocks):
    """Answers lookups with IDs derived from the names asked for; resources echo their inputs."""

    def __init__(self, recording: Recording) -> None:
        self.recording = recording

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        if args.typ == STACK_REFERENCE:
            return self._stack_reference(str(args.inputs.get("name", "")))
        return lookups.resource_id(args.name), lookups.resource_state(
            args.typ,
            args.name,
            args.inputs,
            read=args.custom is None,  # only reads leave `custom` unset
        )

    def _stack_reference(self, stack: str) -> tuple[str, dict[str, Any]]:
        """The referenced stack's exports as recorded offline; none (so `require_output` fails) if not given."""
        outputs = self.recording.references.get(stack, StackOutputs({}, frozenset()))
        return stack, {"name": stack, "outputs": outputs.values, "secretOutputNames": sorted(outputs.secret_names)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        self.recording.invocations.append(Invocation(args.token, dict(args.args)))
        return lookups.answer(args.token, dict(args.args)), []


class RecordingMonitor(mocks.MockMonitor):
    """A MockMonitor that keeps each RegisterResource request and names URNs as the engine does."""

    preview = False
    """Whether the program runs as under `pulumi preview` (outputs of new resources unknown); see kfvs.fresh."""

    def __init__(self, recording: Recording, on_register: Callable[[Registration], None] | None = None) -> None:
        super().__init__(PlanMocks(recording))
        self.recording = recording
        self.on_register = on_register
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def _note_thread_loop(self) -> None:
        # The base class makes an event loop in each executor thread; keep them to close them.
        self.thread_loops.add(_ensure_event_loop())

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self._note_thread_loop()
        return super().Invoke(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self._note_thread_loop()
        self.recording.reads.append(self.read_of(request))
        return super().ReadResource(request)

    def read_of(self, request: Any) -> Read:
        """The read a ReadResource request asks for. Requests arrive on several executor threads at once, so the
        last read recorded may be another's: a monitor judging a read takes it from its request, by this."""
        return Read(
            urn=self.make_urn(request.parent, request.type, request.name),
            type=request.type,
            name=request.name,
            id=request.id,
            parent=request.parent or None,
            provider=request.provider or None,
            dependencies=tuple(sorted(set(request.dependencies))),
        )

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine prefixes the parent's whole qualified type, except for the root stack.
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return f"urn:pulumi:{self.recording.stack}::{self.recording.project}::{qualified}::{name}"

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        self._note_thread_loop()
        self._apply_stack_transforms(request)
        urn = self.make_urn(request.parent, request.type, request.name)
        timeouts = request.customTimeouts
        registration = Registration(
            urn=urn,
            id=lookups.resource_id(request.name),
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            custom=bool(request.custom),
            inputs=plain(json_format.MessageToDict(request.object)),
            dependencies=tuple(sorted(set(request.dependencies))),
            provider=request.provider or None,
            protect=bool(request.protect),
            ignore_changes=tuple(request.ignoreChanges),
            custom_timeouts={
                k: v
                for k, v in (("create", timeouts.create), ("update", timeouts.update), ("delete", timeouts.delete))
                if v
            },
            raw=request.object,
            remote=bool(request.remote),
        )
        first = self.recording.resources.get(urn)
        if first is not None:
            self.recording.duplicates.append((first, registration))
        else:
            self.recording.resources[urn] = registration
        if self.on_register is not None and request.type != STACK_TYPE:
            self.on_register(registration)
        return super().RegisterResource(request)

    def _apply_stack_transforms(self, request: Any) -> None:
        """What the engine does and the base mock does not: run the stack transforms on each registration."""
        if not self._stack_transforms or request.type == STACK_TYPE:
            return
        props = rpc.deserialize_properties(request.object)
        for transform in self._stack_transforms:
            args = pulumi.ResourceTransformArgs(
                custom=bool(request.custom),
                type_=request.type,
                name=request.name,
                props=props,
                opts=pulumi.ResourceOptions(),
            )
            result = transform(args)
            if inspect.isawaitable(result):
                result = _sync_await(result)
            if result is not None:
                props = result.props
        request.object.CopyFrom(_sync_await(rpc.serialize_properties(props, {})))


def plain(value: Any) -> Any:
    """Wire values as JSON: secrets masked, resource references as URNs, whole floats as ints."""
    if isinstance(value, dict):
        return _plain_map(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return UNKNOWN if value == rpc.UNKNOWN else value


def _plain_map(value: dict[str, Any]) -> Any:
    sig = value.get(rpc._special_sig_key)  # noqa: SLF001 - the wire format's own markers
    if sig is None:
        return {str(k): plain(v) for k, v in sorted(value.items())}
    if sig == rpc._special_secret_sig:  # noqa: SLF001
        return SECRET
    if sig == rpc._special_resource_sig:  # noqa: SLF001
        return str(value.get("urn", ""))
    return str(value.get("path") or value.get("uri") or value.get("hash") or "[asset]")


def record(
    program: Callable[[], None],
    project: str,
    stack: str,
    config: dict[str, str],
    secret_keys: frozenset[str],
    *,
    on_register: Callable[[Registration], None] | None = None,
    references: dict[str, StackOutputs] | None = None,
    monitor_type: Callable[[Recording, Callable[[Registration], None] | None], RecordingMonitor] = RecordingMonitor,
) -> Recording:
    """Run `program` in-process under the mock runtime with the given stack config; `on_register` sees each
    resource (not the root stack) as the engine receives it, e.g. to hand it to the policy packs then;
    `references` answers StackReferences by stack name; `monitor_type` builds the monitor (kfvs.fresh plays a
    first preview with its own)."""
    recording = Recording(project=project, stack=stack, references=dict(references or {}))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.ROOT.set(None)
    pulumi.runtime.set_all_config(dict(config), sorted(secret_keys))
    monitor = monitor_type(recording, on_register)
    pulumi.runtime.set_mocks(
        monitor.mocks,
        project=project,
        stack=stack,
        preview=monitor.preview,
        monitor=monitor,
        logger=logging.getLogger("kfvs.engine"),
    )
    settings.SETTINGS.rpc_manager.clear()
    settings.SETTINGS.outputs.clear()
    try:
        with tuned_for_run(), faster_traces():
            _sync_await(run_pulumi_func(program))
            recording.outputs = _sync_await(_stack_outputs())
            recording.transforms = monitor.get_registered_transforms()
    finally:
        # Close every loop now, while the interpreter is whole, not noisily at exit.
        loop.run_until_complete(loop.shutdown_default_executor())
        asyncio.set_event_loop(None)
        for thread_loop in (loop, *monitor.thread_loops):
            thread_loop.close()
    if recording.duplicates:
        raise DuplicateUrnError(recording)
    return recording


async def _stack_outputs() -> StackOutputs:
    """The program's exports, resolved. The mock runtime registers its root stack's outputs when `set_mocks`
    creates it, before the program runs, so they are read from the root stack here, as the engine would store
    them at the end of `up`."""
    root = settings.get_root_resource()
    exports: dict[str, Any] = dict(getattr(root, "outputs", None) or {})
    wire = await rpc.serialize_properties(exports, {}, keep_output_values=False)
    return StackOutputs.from_wire(json_format.MessageToDict(wire))


class DuplicateUrnError(ConfigError):
    """Two registrations with one URN: `pulumi preview` stops at the second ("Duplicate resource URN")."""

    def __init__(self, recording: Recording) -> None:
        file = f"stacks/Pulumi.{recording.stack}.yaml"
        super().__init__([_duplicate(file, first, second) for first, second in recording.duplicates])


def _duplicate(file: str, first: Registration, second: Registration) -> Problem:
    def what(r: Registration) -> str:
        return f"a {r.type} under {r.parent.rsplit('::', 1)[-1] if r.parent else 'the stack'}"

    return Problem(
        file,
        first.name,
        f"two resources would have the URN {first.urn} ({what(first)}, and {what(second)}); the engine refuses "
        "a duplicate URN: rename one of the inputs that derive this name",
    )
