"""One pack process per pack and stack for the whole session: starting the packs dominates a case."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from infra.kfvs.check import Judges, Verdict, judged
from infra.kfvs.recorder import Recording
from tests import examples

Judge = Callable[[Recording], list[Verdict]]
Recordings = Callable[[str], Recording]


@pytest.fixture(scope="session")
def judge() -> Iterator[Judge]:
    """Verdicts of every pack on a recording, as `check` gives them, from packs started once per stack."""
    started: dict[str, Judges] = {}
    with ExitStack() as stack:

        def run(recording: Recording) -> list[Verdict]:
            judges = started.get(recording.stack)
            if judges is None:
                judges = started[recording.stack] = stack.enter_context(Judges(recording.stack))
                judges.configure()
            for r in judged(recording):
                judges.analyze(r)
            verdicts = judges.verdicts(recording)
            # A pack keeps what Analyze found until asked again: forget this recording's findings.
            for pack in judges._packs:
                pack.found.clear()
            return verdicts

        yield run


@pytest.fixture(scope="session")
def recordings() -> Recordings:
    """Each example stack recorded once per process (the program under mocks is the slow part), shared with the
    other suites through `tests.examples`; each call hands out a copy of it."""
    return examples.recording
