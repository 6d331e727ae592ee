"""The benchmark's floors measure what they claim: the same resources, and packs of the same shape."""

from __future__ import annotations

import json
from pathlib import Path

from bench.floor import main as replay
from bench.floor import manifest
from bench.policy_floor import hollow_project
from infra.kfvs.check import check
from infra.kfvs.run import record_stack
from tests.test_policies import FAILING


def test_floor_registers_the_plans_resources_with_their_inputs(tmp_path: Path) -> None:
    _, recording = record_stack("dev")
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest(list(recording.resources.values()), ["pulumi_kubernetes.core.v1"])))
    floor = replay(path)
    assert floor.resources.keys() == recording.resources.keys()
    for urn, r in recording.resources.items():
        if r.type != "pulumi:pulumi:Stack":
            assert floor.resources[urn].inputs == r.inputs, urn
            replayed = floor.resources[urn]
            assert (replayed.parent, replayed.custom, replayed.remote) == (r.parent, r.custom, r.remote), urn
            # Reads (the kubeconfig Secret) are not replayed, so dependencies on them are not either.
            assert set(replayed.dependencies) == set(r.dependencies) & recording.resources.keys(), urn


def test_hollow_packs_keep_the_policies_but_find_nothing(project: Path) -> None:
    hollow = hollow_project(project)
    assert check(FAILING, project)
    assert check(FAILING, hollow) == []
