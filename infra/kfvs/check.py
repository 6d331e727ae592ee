"""Offline policy verdicts: each pack started as the Pulumi engine starts it, asked over the Analyzer
protocol (Configure, Analyze per resource, AnalyzeStack), so the code that judges here is the code that
judges `pulumi preview --policy-pack`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import jsonschema
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from infra import paths
from infra.errors import ConfigError, Problem
from infra.kfvs.recorder import Recording, Registration

_LEVELS = {
    "advisory": analyzer_pb2.ADVISORY,
    "mandatory": analyzer_pb2.MANDATORY,
    "disabled": analyzer_pb2.DISABLED,
    "remediate": analyzer_pb2.REMEDIATE,
}
_NAMES = {v: k for k, v in _LEVELS.items()}
_START_TIMEOUT_S = 60
_WINDOW = 32


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


def check(recording: Recording, root: Path = paths.PROJECT_ROOT) -> list[Verdict]:
    """Verdicts of every pack on the recorded resources, with each pack's config for the stack."""
    resources = [
        r for r in sorted(recording.resources.values(), key=lambda r: r.urn) if r.type != "pulumi:pulumi:Stack"
    ]
    packs = policy_packs(root)
    # Packs are separate processes: judging them side by side uses the machine's cores.
    with ThreadPoolExecutor(max_workers=max(1, len(packs))) as pool:
        results = list(pool.map(lambda pack: _judge(pack, recording.stack, resources, root), packs))
    return sorted(v for verdicts in results for v in verdicts)


def _judge(pack: Path, stack: str, resources: Sequence[Registration], root: Path) -> list[Verdict]:
    with _serve(pack, root) as stub:
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=_config(pack, stack, info, root)))
        found: list[tuple[Any, str]] = []
        if any(p.policy_type != analyzer_pb2.POLICY_TYPE_STACK for p in info.policies):
            # Sent in windows and collected after, so round trips overlap without flooding the pack's server;
            # a finding is about the resource analysed.
            for start in range(0, len(resources), _WINDOW):
                pending = [(r, stub.Analyze.future(_analyze_request(r))) for r in resources[start : start + _WINDOW]]
                found += [(d, d.urn or r.urn) for r, f in pending for d in f.result().diagnostics]
        if any(p.policy_type != analyzer_pb2.POLICY_TYPE_RESOURCE for p in info.policies):
            request = analyzer_pb2.AnalyzeStackRequest(resources=[_resource(r) for r in resources])
            found += [(d, d.urn) for d in stub.AnalyzeStack(request).diagnostics]
    # The SDK prefixes each message with the policy's description; the verdict keeps the finding.
    return [
        Verdict(d.policyPackName, d.policyName, _NAMES[d.enforcementLevel], urn, d.message.rpartition("\n")[2])
        for d, urn in found
    ]


@contextmanager
def _serve(pack: Path, root: Path) -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    """Start the pack's `__main__` as the engine does; it prints the port it listens on."""
    # stderr goes to a file, not a pipe: a chatty pack must never block on it.
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = subprocess.Popen(  # noqa: S603 - our interpreter running the pack's own entry point
            # Unbuffered, as the engine runs packs: the port line must arrive before the pack blocks serving.
            [sys.executable, "-u", str(pack / "__main__.py")],
            cwd=pack,
            env={**os.environ, "PYTHONPATH": str(root), "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            port = (process.stdout.readline() if process.stdout else "").strip()
            if not port.isdigit():
                process.wait(timeout=_START_TIMEOUT_S)
                errors.seek(0)
                reason = errors.read().strip()[-500:]
                raise ConfigError([Problem(paths.relative(pack, root), "", f"policy pack did not start: {reason}")])
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                grpc.channel_ready_future(channel).result(timeout=_START_TIMEOUT_S)
                yield analyzer_pb2_grpc.AnalyzerStub(channel)
        finally:
            process.kill()
            process.wait()


def _config(pack: Path, stack: str, info: Any, root: Path) -> dict[str, analyzer_pb2.PolicyConfig]:
    """Pulumi's policy-config file (`config/<stack>.json`), checked against each policy's schema as the CLI does."""
    path = pack / "config" / f"{stack}.json"
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


def mandatory(verdicts: Sequence[Verdict]) -> list[Verdict]:
    return [v for v in verdicts if v.level == "mandatory"]
