"""Offline answers to lookups (invokes) and resource outputs, derived from the names asked for.

Deterministic and readable: the datacenter `dc-east` gets the id `datacenter-dc-east`, so a plan
shows which lookup each reference came from and two runs give the same bytes.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable
from typing import Any


def slug(text: str) -> str:
    """A lowercase, dash-separated form of a name, safe inside an id."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def _kind(token: str) -> str:
    """`vsphere:index/getComputeCluster:getComputeCluster` -> `compute-cluster`."""
    function = token.rsplit(":", 1)[-1].removeprefix("get")
    return slug(re.sub(r"(?<!^)(?=[A-Z])", "-", function))


def answer(token: str, args: dict[str, Any]) -> dict[str, Any]:
    """The result of one invoke: the arguments echoed, an id from the name, and type-specific fields."""
    name = str(args.get("name") or args.get("label") or args.get("nameRegex") or "default")
    result = {**args, "id": f"{_kind(token)}-{slug(name)}"}
    extra = _EXTRA.get(token)
    if extra is not None:
        result.update(extra(args))
    return result


def _compute_cluster(args: dict[str, Any]) -> dict[str, Any]:
    return {"resourcePoolId": f"resgroup-{slug(str(args.get('name', '')))}"}


def _virtual_machine(args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name", ""))
    return {"uuid": str(uuid.uuid5(uuid.NAMESPACE_DNS, f"template.{name}"))}


_EXTRA: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "vsphere:index/getComputeCluster:getComputeCluster": _compute_cluster,
    "vsphere:index/getVirtualMachine:getVirtualMachine": _virtual_machine,
}


def resource_id(name: str) -> str:
    """A resource's id after creation: its name, so references read naturally."""
    return f"{name}-id"


PLACEHOLDER_KUBECONFIG = "apiVersion: v1\nkind: Config\n# kfvs placeholder: the real one is read from the Supervisor\n"


def resource_state(type_: str, name: str, inputs: dict[str, Any], read: bool) -> dict[str, Any]:
    """A resource's outputs: its inputs, plus outputs the provider computes that later code reads."""
    state = dict(inputs)
    if read and type_ == "kubernetes:core/v1:Secret" and name.endswith("-kubeconfig"):
        # A workload cluster's admin kubeconfig Secret, as TKG writes it: key `value`, base64.
        state["data"] = {"value": base64.b64encode(PLACEHOLDER_KUBECONFIG.encode()).decode()}
    return state
