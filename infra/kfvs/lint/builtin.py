"""What the Kubernetes API server itself serves: built-in kinds, their scope and their (strict) schemas.

The schemas are the ones `kubernetes-validate` ships per minor version (generated from the API server's OpenAPI);
the strict variant forbids unknown fields, as the API server prunes them (and rejects them under
`fieldValidation=Strict`, kubectl's and the Pulumi provider's server-side apply default).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

DEFAULT_VERSION = "1.31"
"""The minor version assumed when the rendering does not say (the example stacks' TKR)."""

"""Built-in kinds that are not namespaced (the API server's discovery marks them `namespaced: false`)."""

_GROUPS_OF_REMOVED_APIS = frozenset({"extensions"})


def _schema_dirs() -> dict[str, str]:
    """minor version ("1.31") -> the package's strict schema directory for it."""
    base = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    found: dict[str, str] = {}
    for entry in base.iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if match:
            found[f"{match[1]}.{match[2]}"] = entry.name
    return found


def _minor_key(version: str) -> tuple[int, int]:
    major, _, minor = version.partition(".")
    return int(major), int(minor.partition(".")[0] or 0)


@cache
def schema_version(version: str) -> str:
    """The newest shipped minor version not newer than `version` (the oldest shipped when it is older than all)."""
    shipped = sorted(_schema_dirs(), key=_minor_key)
    wanted = _minor_key(version.removeprefix("v"))
    older = [v for v in shipped if _minor_key(v) <= wanted]
    return older[-1] if older else shipped[0]


@cache
def definitions(version: str) -> dict[str, Any]:
    """The `$defs` of one version's strict schemas (loaded once per process)."""
    directory = _schema_dirs()[schema_version(version)]
    path = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema", directory, "_definitions.json")
    defs: dict[str, Any] = json.loads(path.read_text())["$defs"]
    return defs


@cache
def kinds(version: str) -> dict[tuple[str, str, str], str]:
    """(group, version, kind) -> name of its definition, for every kind the API server serves at `version`."""
    found: dict[tuple[str, str, str], str] = {}
    for name, schema in definitions(version).items():
        for gvk in schema.get("x-kubernetes-group-version-kind", []):
            key = (gvk["group"], gvk["version"], gvk["kind"])
            if name.endswith("." + gvk["kind"]) or key not in found:
                found[key] = name
    return found


@cache
def groups(version: str) -> frozenset[str]:
    return frozenset(g for g, _, _ in kinds(version)) | _GROUPS_OF_REMOVED_APIS


def is_builtin_group(group: str, version: str = DEFAULT_VERSION) -> bool:
    return group in groups(version)


@cache
def validator(version: str, definition: str) -> Any:
    """A strict validator of one definition, built once per process (with the definitions it refers to)."""
    schema = {"$defs": definitions(version), "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema)


OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

_IRREGULAR_PLURALS = {"Endpoints": "endpoints"}


def plural(kind: str) -> str:
    """The resource name of a built-in kind, as RBAC rules and webhook rules name it."""
    if kind in _IRREGULAR_PLURALS:
        return _IRREGULAR_PLURALS[kind]
    lower = kind.lower()
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    return lower + "s"
