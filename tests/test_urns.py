"""Every URN the example environments' state holds is still registered, or aliased: no change of names, types
or parents replaces a deployed resource (the lock and how aliases resolve: tests/urns.py)."""

from __future__ import annotations

import pulumi
import pytest

from infra import paths
from infra.kfvs.recorder import record
from tests import urns


@pytest.mark.parametrize("env", urns.environments())
def test_every_locked_urn_is_kept_or_aliased(env: str) -> None:
    answered = set().union(*urns.environment_answers(env).values())
    lost = sorted(set(urns.locked(env)) - answered)
    assert lost == [], f"{env}: these would be replaced; add an alias (or, if removed on purpose, see tests/urns.py)"


def test_the_locks_cover_every_example_environment() -> None:
    stacks = sorted(p.name for p in (paths.PROJECT_ROOT / "stacks").glob("Pulumi.*.yaml"))
    covered = {f"Pulumi.{s}.yaml" for env in urns.environments() for s in urns.environment_stacks(env)}
    assert set(stacks) == covered
    assert all(urns.locked(env) for env in urns.environments())


class _Pool(pulumi.ComponentResource):
    """A pool in a platform component, with a VM and its disk: three levels, as the GPU pools have."""

    def __init__(self, type_: str, opts: pulumi.ResourceOptions | None = None) -> None:
        root = pulumi.ComponentResource("test:index:Platform", "platform")
        super().__init__(type_, "pool", None, pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=root), opts))
        child = pulumi.ComponentResource("test:index:Vm", "pool-0", None, pulumi.ResourceOptions(parent=self))
        pulumi.ComponentResource("test:index:Disk", "pool-0-disk", None, pulumi.ResourceOptions(parent=child))


def _answers(**pool: object) -> set[str]:
    monitors: list[urns.AliasMonitor] = []

    def monitor(recording: object, on_register: object) -> urns.AliasMonitor:
        monitors.append(urns.AliasMonitor(recording, on_register))  # type: ignore[arg-type]
        return monitors[-1]

    recording = record(lambda: _Pool(**pool), "p", "s", {}, frozenset(), monitor_type=monitor)  # type: ignore[arg-type]
    return {urns.short(u) for found in urns.answers(recording, monitors[0].aliases).values() for u in found}


OLD_DISK = "test:index:Platform$test:index:OldPool$test:index:Vm$test:index:Disk::pool-0-disk"


def test_an_alias_on_a_component_carries_its_children_and_theirs() -> None:
    renamed = _answers(
        type_="test:index:NewPool", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(type_="test:index:OldPool")])
    )
    old = {
        "test:index:Platform$test:index:OldPool::pool",
        "test:index:Platform$test:index:OldPool$test:index:Vm::pool-0",
    }
    assert {*old, OLD_DISK} <= renamed
    assert "test:index:Platform$test:index:NewPool$test:index:Vm$test:index:Disk::pool-0-disk" in renamed


def test_a_type_changed_without_an_alias_loses_the_old_urns() -> None:
    renamed = _answers(type_="test:index:NewPool")
    assert OLD_DISK not in renamed
    assert "test:index:Platform$test:index:OldPool::pool" not in renamed


def test_a_parent_alias_moves_the_children_under_the_old_parent() -> None:
    old_parent = "urn:pulumi:s::p::test:index:Cluster::c1"
    moved = _answers(type_="test:index:Pool", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=old_parent)]))
    assert "test:index:Cluster$test:index:Pool$test:index:Vm::pool-0" in moved
