"""The recorder and the plan contract: what kfvs records is what the engine would receive."""

from __future__ import annotations

import json

import pulumi
import pulumi_random as random
import pulumi_vsphere as vsphere
import pytest

from infra.kfvs.plan import build_plan, to_json
from infra.kfvs.recorder import SECRET, record
from infra.kfvs.run import plan_stack
from tests.programs import Box

_RESOURCE_KEYS = {"urn", "type", "name", "parent", "custom", "inputs", "dependencies", "provider", "protect"}


def _program() -> None:
    outer = Box("outer")
    inner = Box("inner", pulumi.ResourceOptions(parent=outer))
    password = random.RandomPassword("pw", length=24, opts=pulumi.ResourceOptions(parent=inner))
    category = vsphere.TagCategory(
        "cat",
        name="c",
        cardinality="SINGLE",
        associable_types=["VirtualMachine"],
        opts=pulumi.ResourceOptions(protect=True),
    )
    vsphere.Tag(
        "tag",
        name="t",
        category_id=category.id,
        description=pulumi.Output.secret("classified"),
        opts=pulumi.ResourceOptions(parent=inner, depends_on=[password]),
    )


def test_urns_follow_the_engine_and_options_are_recorded() -> None:
    rec = record(_program, "proj", "st", {}, frozenset())
    by_name = {r.name: r for r in rec.resources.values()}
    assert by_name["inner"].urn == "urn:pulumi:st::proj::test:index:Box$test:index:Box::inner"
    assert by_name["tag"].urn == "urn:pulumi:st::proj::test:index:Box$test:index:Box$vsphere:index/tag:Tag::tag"
    assert by_name["outer"].parent == "urn:pulumi:st::proj::pulumi:pulumi:Stack::proj-st"
    assert by_name["tag"].parent == by_name["inner"].urn
    assert set(by_name["tag"].dependencies) == {by_name["cat"].urn, by_name["pw"].urn}
    assert by_name["cat"].protect is True
    assert by_name["tag"].protect is False
    assert by_name["tag"].inputs["categoryId"] == "cat-id"
    assert by_name["tag"].inputs["description"] == SECRET
    assert by_name["cat"].custom is True
    assert by_name["outer"].custom is False


@pytest.mark.fresh_runs
def test_plan_contract_shape_and_byte_identical_json() -> None:
    first = plan_stack("dev")
    assert set(first) == {"project", "stack", "resources", "totals", "policies"}
    assert first["project"] == "kubeflow-vsphere"
    assert first["stack"] == "dev"
    for resource in first["resources"]:
        assert set(resource) == _RESOURCE_KEYS
    urns = [r["urn"] for r in first["resources"]]
    assert urns == sorted(urns)
    assert set(first["totals"]) == {"nlp", "recsys", "vision"}
    assert set(first["totals"]["vision"]) == {"vcpu", "memoryGiB", "gpus", "storageGiB"}
    assert to_json(first) == to_json(plan_stack("dev"))
    assert json.loads(to_json(first)) == first


def test_lookups_are_answered_from_names_and_recorded() -> None:
    def program() -> None:
        dc = vsphere.get_datacenter_output(name="dc-east")
        cluster = vsphere.get_compute_cluster_output(name="gpu 01", datacenter_id=dc.id)
        vsphere.Folder("f", path="x", type="vm", datacenter_id=cluster.resource_pool_id)

    rec = record(program, "proj", "st", {}, frozenset())
    tokens = [i.token for i in rec.invocations]
    assert "vsphere:index/getDatacenter:getDatacenter" in tokens
    cluster_call = next(i for i in rec.invocations if i.token.endswith("getComputeCluster"))
    assert cluster_call.args == {"name": "gpu 01", "datacenterId": "datacenter-dc-east"}
    folder = next(r for r in rec.resources.values() if r.name == "f")
    assert folder.inputs["datacenterId"] == "resgroup-gpu-01"


def test_totals_list_every_team_even_without_resources() -> None:
    rec = record(lambda: None, "proj", "st", {}, frozenset())
    plan = build_plan(rec, ["b", "a"])
    assert list(plan["totals"]) == ["a", "b"]
    assert plan["totals"]["a"] == {"vcpu": 0, "memoryGiB": 0, "gpus": 0, "storageGiB": 0}
