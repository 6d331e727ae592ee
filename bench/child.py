"""One measured run in a fresh interpreter: `plan <project> <manifest>`, `judged <project>` or `floor <manifest>`."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from bench.floor import manifest as floor_manifest
from bench.policy_floor import hollow_path
from infra.kfvs.plan import build_plan

STACK = "dev"


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plan(project: Path, manifest: Path) -> dict[str, float | int]:
    """`kfvs plan`'s work without the packs (validate, run the program under mocks, build the plan); then
    `kfvs check`'s policy work on that plan, with the real packs and with the hollow ones."""
    from infra.kfvs.check import check  # noqa: PLC0415 - imported before the clock starts
    from infra.kfvs.run import record_stack  # noqa: PLC0415

    before = set(sys.modules)
    start = time.perf_counter()
    settings, recording = record_stack(STACK, project)
    built = build_plan(recording, [t.name for t in settings.teams])
    plan_s = time.perf_counter() - start
    peak = _peak_mib()
    # The provider SDK modules the program imported while timed: the floor imports them too.
    modules = sorted(m for m in set(sys.modules) - before if m.startswith("pulumi_"))
    manifest.write_text(json.dumps(floor_manifest(list(recording.resources.values()), modules)))
    start = time.perf_counter()
    check(recording, project)
    check_s = time.perf_counter() - start
    start = time.perf_counter()
    check(recording, hollow_path(project))
    check_floor_s = time.perf_counter() - start
    return {
        "plan_s": plan_s,
        "resources": len(built["resources"]),
        "peak_mib": peak,
        "check_s": check_s,
        "check_floor_s": check_floor_s,
    }


def judged(project: Path) -> dict[str, float | int]:
    """Plan and verdicts together, as `kfvs plan` and `kfvs check` run: packs analyse while the program runs."""
    from infra.kfvs.run import judge_stack  # noqa: PLC0415

    start = time.perf_counter()
    judge_stack(STACK, project)
    return {"judged_s": time.perf_counter() - start}


def floor(manifest: Path) -> dict[str, float]:
    """Bare registrations of the same resources under the same mocks."""
    from bench.floor import main  # noqa: PLC0415
    from infra.kfvs import run  # noqa: F401, PLC0415 - the same modules loaded before the clock as for the plan

    start = time.perf_counter()
    main(manifest)
    return {"floor_s": time.perf_counter() - start, "floor_peak_mib": _peak_mib()}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    paths = [Path(a) for a in args]
    if kind == "plan":
        print(json.dumps(plan(paths[0], paths[1])))
    elif kind == "judged":
        print(json.dumps(judged(paths[0])))
    else:
        print(json.dumps(floor(paths[0])))
