"""The example stacks as they are in the repository, each program run once per process (pytest-xdist worker).

Running a stack's program under the mock runtime costs 0.6-1.5 s and the example stacks do not change during a
run, so tests that only read what the real repository's program registers share one run per stack here:

- `recorded(stack)` / `recording(stack)`: `record_stack(stack)` (for an environment, every layer as one recording,
  with the platform layer's settings);
- `plan(stack)`: `plan_stack(stack)`, built by `plan_of` (as `plan_stack` builds it) from that same memoized
  recording and settings, so a stack's plan and recording come from one program run;
- `judged(stack)` / `plan(stack, policies=True)`: `judge_stack(stack)`, the packs listening during their own run
  (what `plan_stack(stack, policies=True)` does), memoized separately since the packs see the run as it happens.

Every accessor hands out a deep copy. `Recording` is a mutable dataclass (dicts and lists of registrations whose
`inputs` are plain dicts), a plan's resources share those `inputs` dicts, and `Settings`, though a frozen model,
holds lists: without a copy one test editing what it was given would change what every later test of the worker
sees. A copy costs 5-15 ms against 0.6-1.5 s for a run (measured on dev, prod, sandbox and dev-platform), so
copying is the simple safe choice.

Not for tests about running twice, determinism or order (they must run the program each time), nor for a
modified copy of the project (`project` fixture): there, call `infra.kfvs.run` with that root.
"""

from __future__ import annotations

import copy
import functools

from infra.kfvs.check import Verdict
from infra.kfvs.plan import Plan
from infra.kfvs.recorder import Recording
from infra.kfvs.run import judge_stack, plan_of, record_stack
from infra.settings import Settings


@functools.cache
def _recorded(stack: str) -> tuple[Settings, Recording]:
    return record_stack(stack)


@functools.cache
def _judged(stack: str) -> tuple[Settings, Recording, list[Verdict]]:
    return judge_stack(stack)


@functools.cache
def _plan(stack: str, policies: bool) -> Plan:
    return plan_of(*_judged(stack)) if policies else plan_of(*_recorded(stack))


def recorded(stack: str) -> tuple[Settings, Recording]:
    """`record_stack(stack)` of the repository's stack: a copy of this process's one run."""
    return copy.deepcopy(_recorded(stack))


def recording(stack: str) -> Recording:
    """`record_stack(stack)[1]`: a copy of this process's one run."""
    return copy.deepcopy(_recorded(stack)[1])


def plan(stack: str, policies: bool = False) -> Plan:
    """`plan_stack(stack, policies=policies)`: a copy, built from `recorded` (or, with policies, `judged`)."""
    return copy.deepcopy(_plan(stack, policies))


def judged(stack: str) -> tuple[Settings, Recording, list[Verdict]]:
    """`judge_stack(stack)`: a copy of this process's one judged run."""
    return copy.deepcopy(_judged(stack))
