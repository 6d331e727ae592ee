"""kfvs's stack trace per registration is the SDK's, message for message (infra/kfvs/stacktrace.py)."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_vsphere as vsphere
import pytest
from pulumi.runtime import resource
from pulumi.runtime.proto import source_pb2

from infra.kfvs import stacktrace
from infra.kfvs.recorder import record
from tests.programs import Box

SDK_TRACE = resource._get_stack_trace
Traces = list[tuple[source_pb2.StackTrace, source_pb2.StackTrace]]


def _program() -> None:
    outer = Box("outer")
    inner = Box("inner", pulumi.ResourceOptions(parent=outer))
    vsphere.Folder("f", path="x", type="vm", datacenter_id="dc", opts=pulumi.ResourceOptions(parent=inner))
    vsphere.Folder.get("existing", "group-v1", opts=pulumi.ResourceOptions(parent=inner))


def _both(traces: Traces) -> Callable[[], source_pb2.StackTrace]:
    """A stand-in that builds both traces from one call site (so both see the same frames) and keeps them."""
    fast = stacktrace.stack_trace

    def both() -> source_pb2.StackTrace:
        traces.append((SDK_TRACE(), fast()))
        return traces[-1][1]

    return both


def test_every_registration_and_read_carries_the_sdks_trace(monkeypatch: pytest.MonkeyPatch) -> None:
    traces: Traces = []
    monkeypatch.setattr(stacktrace, "stack_trace", _both(traces))
    record(_program, "proj", "st", {}, frozenset())
    assert len(traces) == 5  # two components, a folder, and a read, which the SDK traces twice (the root stack
    # registers before the program runs)
    for sdk, fast in traces:
        assert fast == sdk
    assert all(len(fast.frames) > 0 for _, fast in traces)
    assert __file__ in {f.pc.uri.removeprefix("file://") for _, fast in traces for f in fast.frames}


def test_a_call_with_fewer_than_three_constructors_above_gets_an_empty_trace() -> None:
    class Once:
        def __init__(self) -> None:
            self.traces = (SDK_TRACE(), stacktrace.stack_trace())

    sdk, fast = Once().traces
    assert fast == sdk == source_pb2.StackTrace()


def test_frames_of_code_without_a_file_or_with_a_relative_one_carry_no_position() -> None:
    traces: Traces = []
    source = (
        "class A:\n    def __init__(self):\n        traces.append((sdk(), fast()))\n"
        "class B(A):\n    def __init__(self):\n        super().__init__()\n"
        "class C(B):\n    def __init__(self):\n        super().__init__()\n"
        "def user():\n    C()\n"
        "user()\n"
    )
    for filename in ("relative.py", ""):
        exec(compile(source, filename, "exec"), {"traces": traces, "sdk": SDK_TRACE, "fast": stacktrace.stack_trace})
    for sdk, fast in traces:
        assert fast == sdk
        assert fast.frames[0] == source_pb2.StackFrame()  # `user()`'s frame, in the compiled code: no position
        assert any(f.pc.uri for f in fast.frames)  # this test's own frames further up have one


def test_the_sdks_own_function_is_back_after_a_run_even_a_failed_one() -> None:
    def broken() -> None:
        assert resource._get_stack_trace is stacktrace.stack_trace
        raise RuntimeError("the program fails")

    with pytest.raises(RuntimeError):
        record(broken, "proj", "st", {}, frozenset())
    assert resource._get_stack_trace is SDK_TRACE
