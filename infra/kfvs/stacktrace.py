"""The SDK's per-registration stack trace, built without `traceback`: the same message in a tenth of the time.

The Python SDK attaches to every RegisterResource and ReadResource request the call stack above the resource's
constructor (`pulumi.runtime.resource._get_stack_trace`). It builds it with `traceback.extract_stack()`, which
makes a `FrameSummary` (and reads the source line) for each of the 40-60 frames, then turns each frame's file into
a `file://` URI through `pathlib`. Under kfvs that is an eighth of a stack's run, for a field only the engine's
diagnostics read. `stack_trace` walks the frames directly and keeps each file's URI and each (file, line)'s
frame message, and gives the message the SDK would (tests/test_stacktrace.py compares the two); `faster_traces`
puts it in the SDK's place for one run.
"""

from __future__ import annotations

import pathlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from pulumi.runtime import resource
from pulumi.runtime.proto import source_pb2

_INITS_ABOVE_USER_CODE = 3
"""As the SDK counts: Resource's `__init__`, CustomResource's or ComponentResource's, then the concrete class's."""

_FRAMES: dict[tuple[str, int | None], source_pb2.StackFrame] = {}
_URIS: dict[str, str | None] = {}


def stack_trace() -> source_pb2.StackTrace:
    """The frames outside the SDK above the third `__init__` from the top, innermost first (as the SDK's)."""
    frames = _frames_outermost_first(sys._getframe(1))  # noqa: SLF001 - what `traceback.extract_stack` walks
    inits = 0
    index = len(frames) - 1
    while index >= 0:
        if frames[index].f_code.co_name == "__init__":
            inits += 1
            if inits == _INITS_ABOVE_USER_CODE:
                break
        index -= 1
    if index < 1:
        return source_pb2.StackTrace()
    return source_pb2.StackTrace(frames=[_frame(f) for f in reversed(frames[:index])])


def _frames_outermost_first(innermost: FrameType) -> list[FrameType]:
    """The stack as `traceback.extract_stack()` lists it, up to INNERMOST (the SDK's list goes one further, to
    `_get_stack_trace` itself, which is never an `__init__` and never among the frames kept: positions agree)."""
    frames: list[FrameType] = []
    frame: FrameType | None = innermost
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    return frames


def _frame(frame: FrameType) -> source_pb2.StackFrame:
    key = (frame.f_code.co_filename, frame.f_lineno)
    cached = _FRAMES.get(key)
    if cached is None:
        cached = _FRAMES[key] = _new_frame(*key)
    return cached


def _new_frame(filename: str, line: int | None) -> source_pb2.StackFrame:
    """As the SDK's `rpc_frame`: no position for a frame without a file or line, or whose file is no URI."""
    uri = _uri(filename)
    if uri is None or line is None:
        return source_pb2.StackFrame()
    return source_pb2.StackFrame(pc=source_pb2.SourcePosition(uri=uri, line=line))


def _uri(filename: str) -> str | None:
    if filename not in _URIS:
        try:
            _URIS[filename] = pathlib.Path(filename).as_uri() if filename else None
        except ValueError:  # a relative path: the SDK leaves the frame's position out
            _URIS[filename] = None
    return _URIS[filename]


@contextmanager
def faster_traces() -> Iterator[None]:
    """`stack_trace` in the SDK's place for a block (one program run), the SDK's own put back after it."""
    original = resource._get_stack_trace  # noqa: SLF001 - the one function replaced
    resource._get_stack_trace = stack_trace  # noqa: SLF001
    try:
        yield
    finally:
        resource._get_stack_trace = original  # noqa: SLF001
