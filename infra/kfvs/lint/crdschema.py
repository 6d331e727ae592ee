"""A CRD's structural `openAPIV3Schema` as the JSON Schema the API server effectively applies.

The API server prunes fields a structural schema does not declare (and rejects them under strict field validation),
unless `x-kubernetes-preserve-unknown-fields` says to keep them; so every declared object is closed here
(`additionalProperties: false`). OpenAPI v3 spellings are translated: `nullable`, `x-kubernetes-int-or-string`,
boolean `exclusiveMinimum`/`exclusiveMaximum`, embedded resources (apiVersion, kind and metadata implied).
CEL rules (`x-kubernetes-validations`) and formats are not evaluated.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

_COPIED = (
    "enum",
    "pattern",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "uniqueItems",
    "minProperties",
    "maxProperties",
    "required",
)


def to_json_schema(node: Any, *, closed: bool = True) -> dict[str, Any]:
    """Translate one schema node; `closed` is False inside allOf/anyOf/oneOf/not, which only constrain values."""
    if not isinstance(node, dict):
        return {}
    out: dict[str, Any] = {key: node[key] for key in _COPIED if key in node}
    _bounds(node, out)
    _type(node, out)
    kind = node.get("type")
    properties = node.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {name: to_json_schema(sub) for name, sub in properties.items()}
    if "items" in node:
        out["items"] = to_json_schema(node["items"])
    additional = node.get("additionalProperties")
    if isinstance(additional, dict):
        out["additionalProperties"] = to_json_schema(additional)
    elif isinstance(additional, bool):
        out["additionalProperties"] = additional
    for logic in ("allOf", "anyOf", "oneOf"):
        if isinstance(node.get(logic), list):
            out[logic] = [to_json_schema(sub, closed=False) for sub in node[logic]]
    if isinstance(node.get("not"), dict):
        out["not"] = to_json_schema(node["not"], closed=False)
    if node.get("x-kubernetes-embedded-resource"):
        out.setdefault("properties", {}).update(
            {name: {} for name in ("apiVersion", "kind", "metadata") if name not in out.get("properties", {})}
        )
    preserve = bool(node.get("x-kubernetes-preserve-unknown-fields"))
    is_object = kind == "object" or isinstance(properties, dict)
    if closed and is_object and not preserve and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out


def _type(node: dict[str, Any], out: dict[str, Any]) -> None:
    nullable = bool(node.get("nullable"))
    kind = node.get("type")
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string", "null"] if nullable else ["integer", "string"]
    elif isinstance(kind, str):
        out["type"] = [kind, "null"] if nullable else kind
    if nullable and "enum" in out:
        out["enum"] = [*out["enum"], None]


def _bounds(node: dict[str, Any], out: dict[str, Any]) -> None:
    for exclusive, bound in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if node.get(exclusive) is True and bound in node:
            out[exclusive] = out.pop(bound)


def root_schema(open_api: Any) -> dict[str, Any]:
    """The schema of a whole custom object; apiVersion, kind and metadata are the API server's to check."""
    schema = to_json_schema(open_api if isinstance(open_api, dict) else {"x-kubernetes-preserve-unknown-fields": True})
    properties = schema.setdefault("properties", {})
    properties.update({"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": {}})
    return schema


@cache
def _validator(frozen: str) -> Any:
    return jsonschema.Draft202012Validator(json.loads(frozen))


def validator(open_api: Any) -> Any:
    """A validator per distinct schema, cached across objects and runs of one process."""
    return _validator(json.dumps(root_schema(open_api), sort_keys=True))
