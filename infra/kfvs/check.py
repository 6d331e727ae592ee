"""Offline policy verdicts: each pack started as the Pulumi engine starts it (its `__main__.py` in a process of its
own, forked from the warm pack host of `packprocess.py`), asked over the Analyzer protocol (Configure, Analyze per
resource, AnalyzeStack), so the code that judges here is the code that judges `pulumi preview --policy-pack`."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs import packprocess
from infra.kfvs.packprocess import HostError, PackProcess
from infra.kfvs.recorder import STACK_TYPE, Recording, Registration
from policies.conventions import environment_of_stack
from policies.usage import STACK_REFERENCE

_LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
_NAMES = {v: k for k, v in _LEVELS.items()}
_START_TIMEOUT_S = 60
_IN_FLIGHT = 32


@dataclass(frozen=True, order=True)
class Verdict:
    """One policy violation, as `pulumi preview` would print it."""

    pack: str
    policy: str
    level: str
    urn: str
    message: str

    def as_json(self) -> dict[str, str]:
        return {"pack": self.pack, "policy": self.policy, "level": self.level, "urn": self.urn, "message": self.message}


def policy_packs(root: Path = paths.PROJECT_ROOT) -> list[Path]:
    """Every folder under policies/ with a PulumiPolicy.yaml."""
    return sorted(p.parent for p in (root / "policies").glob("*/PulumiPolicy.yaml"))


def judged(recording: Recording) -> list[Registration]:
    """What the packs see: every resource but the root stack, in URN order."""
    return [r for r in sorted(recording.resources.values(), key=lambda r: r.urn) if r.type != STACK_TYPE]


def check(recording: Recording, root: Path = paths.PROJECT_ROOT) -> list[Verdict]:
    """Verdicts of every pack on an already recorded plan, with each pack's config for the stack."""
    with Judges(recording.stack, root) as judges:
        judges.configure()
        for r in judged(recording):
            judges.analyze(r)
        return judges.verdicts(recording)


class Judges:
    """Every pack, asked as the engine asks during a preview: `Analyze` for each resource as it registers
    (on a machine with cores to spare, that work overlaps the program), `AnalyzeStack` once it has ended.

    Entering starts the pack processes; `configure` then waits for them, so they boot while the caller
    validates its settings."""

    def __init__(self, stack: str, root: Path = paths.PROJECT_ROOT) -> None:
        self.stack = stack
        self.root = root
        self._packs: list[_Pack] = []
        # Registrations arrive on the SDK's executor threads.
        self._lock = threading.Lock()

    def __enter__(self) -> Judges:
        try:
            for pack in policy_packs(self.root):
                self._packs.append(_Pack(pack, self.root, self.stack))
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        for pack in self._packs:
            pack.close()

    def configure(self) -> None:
        """Wait for each pack's port, then hand it its policy config (ConfigError when the config is wrong)."""
        for pack in self._packs:
            pack.connect(self.stack)

    def analyze(self, registration: Registration) -> None:
        with self._lock:
            for pack in self._packs:
                pack.analyze(registration)

    def verdicts(self, recording: Recording) -> list[Verdict]:
        """Collect the per-resource answers, then judge the whole stack, every pack side by side.

        Ordered by pack and policy; within a policy, a stack policy's findings keep the order the pack reported
        them in (the quota pack reports by team, then dimension), a resource policy's go by URN."""
        resources = [_resource(r) for r in judged(recording)] + _references(recording)
        with ThreadPoolExecutor(max_workers=max(1, len(self._packs))) as pool:
            results = list(pool.map(lambda pack: pack.finish(resources), self._packs))
        # sorted() is stable: each pack's own order survives within a policy.
        return sorted((v for verdicts in results for v in verdicts), key=lambda v: (v.pack, v.policy))


class _Pack:
    """One pack's process and channel, and what it has found so far."""

    def __init__(self, path: Path, root: Path, stack: str) -> None:
        self.path = path
        self.root = root
        # stderr goes to a file, not a pipe: a chatty pack must never block on it.
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        # As the engine starts a pack (`python -u __main__.py` in its folder), forked from the warm pack host.
        # The engine names the project and stack to a pack in these variables (pulumi_policy reads them).
        env = {
            **os.environ,
            "PYTHONPATH": str(root),
            "PYTHONUNBUFFERED": "1",
            "PULUMI_PROJECT": paths.PROJECT_NAME,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true",
        }
        try:
            self.process: PackProcess = packprocess.host().start(path / "__main__.py", env, self.errors)
        except HostError as error:
            self.errors.close()
            raise ConfigError(
                [Problem(paths.relative(path, root), "", f"policy pack did not start: {error}")]
            ) from None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None
        self.per_resource = False
        self.per_stack = False
        self.pending: deque[tuple[str, Any]] = deque()
        self.found: list[tuple[Any, str]] = []

    def connect(self, stack: str) -> None:
        port = self.process.stdout.readline().strip()
        if not port.isdigit():
            self.process.wait(timeout=_START_TIMEOUT_S)
            self.errors.seek(0)
            reason = self.errors.read().strip()[-500:]
            where = paths.relative(self.path, self.root)
            raise ConfigError([Problem(where, "", f"policy pack did not start: {reason}")])
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=_START_TIMEOUT_S)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        info = self.stub.GetAnalyzerInfo(empty_pb2.Empty())
        self.stub.Configure(
            analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=_config(self.path, stack, info, self.root))
        )
        # A pack without resource policies answers Analyze with nothing: skip the round trips.
        self.per_resource = any(p.policy_type != analyzer_pb2.POLICY_TYPE_STACK for p in info.policies)
        self.per_stack = any(p.policy_type != analyzer_pb2.POLICY_TYPE_RESOURCE for p in info.policies)

    def analyze(self, r: Registration) -> None:
        if self.stub is None or not self.per_resource:
            return
        # Bounded: round trips overlap without flooding the pack's server.
        if len(self.pending) >= _IN_FLIGHT:
            self._collect(*self.pending.popleft())
        self.pending.append((r.urn, self.stub.Analyze.future(_analyze_request(r))))

    def _collect(self, urn: str, future: Any) -> None:
        # A finding of Analyze is about the resource analysed.
        self.found += [(d, d.urn or urn) for d in future.result().diagnostics]

    def finish(self, resources: list[analyzer_pb2.AnalyzerResource]) -> list[Verdict]:
        while self.pending:
            self._collect(*self.pending.popleft())
        # Per-resource findings arrive as round trips complete: put them in URN order.
        found = sorted(self.found, key=lambda f: (f[0].policyName, f[1], f[0].message))
        if self.stub is not None and self.per_stack:
            request = analyzer_pb2.AnalyzeStackRequest(resources=resources)
            found += [(d, d.urn) for d in self.stub.AnalyzeStack(request).diagnostics]
        # The SDK prefixes each message with the policy's description; the verdict keeps the finding.
        return [
            Verdict(d.policyPackName, d.policyName, _NAMES[d.enforcementLevel], urn, d.message.rpartition("\n")[2])
            for d, urn in found
        ]

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
        self.process.kill()
        self.process.stdout.close()
        self.errors.close()


def _config(pack: Path, stack: str, info: Any, root: Path) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Pulumi's policy-config file (`config/<stack>.json`), checked against each policy's schema as the CLI does."""
    path = pack / "config" / f"{environment_of_stack(stack)}.json"
    raw: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    schemas = {p.name: json_format.MessageToDict(p.configSchema) for p in info.policies}
    file = paths.relative(path, root)
    problems, config = [], {}
    for name, value in raw.items():
        if name != "all" and name not in schemas:
            problems.append(
                Problem(file, name, f"no such policy in {info.name}; policies: {', '.join(sorted(schemas))}")
            )
            continue
        level, properties = (
            (value, {})
            if isinstance(value, str)
            else (value.get("enforcementLevel"), {k: v for k, v in value.items() if k != "enforcementLevel"})
        )
        schema = schemas.get(name, {})
        if properties and schema:
            schema_doc = {
                "type": "object",
                "properties": schema.get("properties", {}),
                "required": schema.get("required", []),
            }
            for error in jsonschema.Draft7Validator(schema_doc).iter_errors(properties):
                problems.append(
                    Problem(file, f"{name}.{'.'.join(str(p) for p in error.path)}".rstrip("."), error.message)
                )
        struct = struct_pb2.Struct()
        struct.update(properties)
        config[name] = analyzer_pb2.PolicyConfig(
            enforcementLevel=_LEVELS.get(level or "", analyzer_pb2.MANDATORY), properties=struct
        )
    if problems:
        raise ConfigError(problems)
    return config


def _options(r: Registration) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=r.protect, ignoreChanges=list(r.ignore_changes), parent=r.parent or ""
    )


def _provider(r: Registration) -> analyzer_pb2.AnalyzerProviderResource | None:
    if not r.provider:
        return None
    urn, _, _ = r.provider.rpartition("::")
    return analyzer_pb2.AnalyzerProviderResource(
        type=urn.split("::")[2].split("$")[-1], urn=urn, name=urn.rsplit("::", 1)[-1]
    )


def _analyze_request(r: Registration) -> analyzer_pb2.AnalyzeRequest:
    return analyzer_pb2.AnalyzeRequest(
        type=r.type, properties=r.raw, urn=r.urn, name=r.name, options=_options(r), provider=_provider(r)
    )


def _resource(r: Registration) -> analyzer_pb2.AnalyzerResource:
    return analyzer_pb2.AnalyzerResource(
        type=r.type,
        properties=r.raw,
        urn=r.urn,
        name=r.name,
        options=_options(r),
        provider=_provider(r),
        parent=r.parent or "",
        dependencies=list(r.dependencies),
    )


def _references(recording: Recording) -> list[analyzer_pb2.AnalyzerResource]:
    """The run's StackReferences, as the engine hands its read resources to stack policies: with the referenced
    stack's outputs (the quota pack meters the infra layer's `meteredResources` from them)."""
    found = []
    for read in recording.reads:
        answer = recording.references.get(read.id)
        if read.type != STACK_REFERENCE or answer is None:
            continue
        props = struct_pb2.Struct()
        props.update({"name": read.id, "outputs": answer.values, "secretOutputNames": sorted(answer.secret_names)})
        found.append(
            analyzer_pb2.AnalyzerResource(
                type=read.type, properties=props, urn=read.urn, name=read.name, parent=read.parent or ""
            )
        )
    return found


def mandatory(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.level == "mandatory"]
