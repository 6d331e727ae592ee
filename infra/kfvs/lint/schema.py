"""Rule `schema`: every object against the schema the API server would judge it by.

Built-in kinds against the Kubernetes OpenAPI of the cluster's minor version, custom kinds against the served
version of their CRD in the rendering; unknown fields are errors. A custom kind with no CRD is a finding unless the
cluster serves its group itself (served.py), or an unrendered chart may carry the CRD (then `unverified`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from infra.kfvs.lint import builtin, crdschema
from infra.kfvs.lint.finding import Finding
from infra.kfvs.lint.model import Obj, Platform, as_dict, as_list
from infra.kfvs.lint.served import served_by_cluster
from infra.kfvs.lint.unverified import unrendered_sources

RULE = "schema"
MAX_ERRORS = 3
MASKED = "[secret]"


def finding(obj: Obj, message: str, fix: str, rule: str = RULE) -> Finding:
    return Finding(rule, obj.kind or "?", obj.namespace, obj.name or "?", message, fix, obj.component)


def check(platform: Platform) -> Iterator[Finding]:
    version = platform.kubernetes_version
    for obj in platform.objects:
        if not obj.kind or not obj.version or not obj.name:
            yield finding(obj, "has no apiVersion, kind or metadata.name", "give the object all three")
        elif builtin.is_builtin_group(obj.group, version):
            yield from _builtin(obj, version)
        else:
            yield from _custom(platform, obj, version)


def _builtin(obj: Obj, version: str) -> Iterator[Finding]:
    definition = builtin.kinds(version).get((obj.group, obj.version, obj.kind))
    if definition is None:
        served = sorted(v for g, v, k in builtin.kinds(version) if g == obj.group and k == obj.kind)
        instead = (
            f"use {' or '.join(_api(obj.group, v) for v in served)}" if served else "remove it or use a kind it serves"
        )
        yield finding(obj, f"{obj.api_version} {obj.kind} is not served by Kubernetes {version}", instead)
        return
    problems = errors(builtin.validator(version, definition), obj.manifest)
    if problems:
        yield finding(obj, _summary(problems, f"Kubernetes {version} schema"), "fix or remove those fields")


def _custom(platform: Platform, obj: Obj, version: str) -> Iterator[Finding]:
    crd = platform.crd_for(obj)
    if crd is None:
        if served_by_cluster(obj.cluster, obj.group):
            return
        unrendered = unrendered_sources(platform)
        if unrendered:
            yield finding(
                obj,
                f"no CustomResourceDefinition for {obj.group}/{obj.kind} in the rendering, "
                f"which leaves out {unrendered}",
                "check that one of them installs it before this object",
                rule="unverified",
            )
            return
        yield finding(
            obj,
            f"no CustomResourceDefinition for {obj.group}/{obj.kind} in the rendering: the API server answers "
            '"no matches for kind"',
            "install its CRD with the platform (and order this object after it), or drop the object",
        )
        return
    served = {
        str(v.get("name")): v for v in as_list(crd.spec.get("versions")) if isinstance(v, dict) and v.get("served")
    }
    entry = served.get(obj.version)
    if entry is None:
        yield finding(
            obj,
            f"CRD {crd.name} does not serve version {obj.version} (serves {', '.join(sorted(served)) or 'none'})",
            f"use {' or '.join(_api(obj.group, v) for v in sorted(served))}"
            if served
            else "serve a version in the CRD",
        )
        return
    open_api = as_dict(entry.get("schema")).get("openAPIV3Schema")
    problems = errors(_crd_validator(platform, crd, obj.version, open_api), obj.manifest)
    problems += [f"metadata.{p}" for p in errors(builtin.validator(version, builtin.OBJECT_META), obj.metadata)]
    if problems:
        yield finding(obj, _summary(problems, f"CRD {crd.name} ({obj.version})"), "fix or remove those fields")


def _crd_validator(platform: Platform, crd: Obj, version: str, open_api: Any) -> Any:
    """One validator per CRD version per run (translating a big schema costs more than validating with it)."""
    key = ("crd-validator", crd.cluster, crd.name, version)
    if key not in platform.memo:
        platform.memo[key] = crdschema.validator(open_api)
    return platform.memo[key]


def _api(group: str, version: str) -> str:
    return f"{group}/{version}" if group else version


def errors(validator: Any, instance: Any) -> list[str]:
    """Each schema error as `path: message`, in a stable order."""
    found = []
    for error in validator.iter_errors(instance):
        if error.instance == MASKED:
            continue  # a secret the render masked: its real value is not known here
        path = _path(error.absolute_path)
        found.append(f"{path}: {_message(error)}" if path else _message(error))
    return sorted(set(found))


def _message(error: Any) -> str:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = set(as_dict(error.schema.get("properties")))
        unknown = sorted(str(k) for k in error.instance if k not in known)
        return f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(repr(u) for u in unknown)}"
    if error.validator == "required":
        return str(error.message).replace("is a required property", "is required")
    return str(error.message)


def _path(parts: Any) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _summary(problems: list[str], against: str) -> str:
    shown = ", ".join(p.replace(";", ",") for p in problems[:MAX_ERRORS])
    more = f" (and {len(problems) - MAX_ERRORS} more)" if len(problems) > MAX_ERRORS else ""
    return f"invalid against the {against}: {shown}{more}"
