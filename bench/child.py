"""One measured run in a fresh interpreter: `plan <project>` (plan, then check) or `floor <manifest>`."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from infra.kfvs.check import check
from infra.kfvs.plan import build_plan


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plan(project: Path, manifest: Path) -> dict[str, float | int]:
    """Time `kfvs plan`'s work (validate, run the program under mocks, build the plan), then `kfvs check`'s."""
    from infra.kfvs.run import record_stack  # noqa: PLC0415 - imported after the clock's baseline

    start = time.perf_counter()
    settings, recording = record_stack("dev", project)
    built = build_plan(recording, [t.name for t in settings.teams])
    plan_s = time.perf_counter() - start
    peak = _peak_mib()
    start = time.perf_counter()
    check(recording, project)
    check_s = time.perf_counter() - start
    registered = [[r["type"], r["custom"]] for r in built["resources"] if r["type"] != "pulumi:pulumi:Stack"]
    manifest.write_text(json.dumps(registered))
    return {"plan_s": plan_s, "check_s": check_s, "resources": len(built["resources"]), "peak_mib": peak}


def floor(manifest: Path) -> dict[str, float]:
    """Time bare registrations of the same types under the same mocks."""
    from bench.floor import main  # noqa: PLC0415

    start = time.perf_counter()
    main(manifest)
    return {"floor_s": time.perf_counter() - start, "floor_peak_mib": _peak_mib()}


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    result = plan(Path(args[0]), Path(args[1])) if kind == "plan" else floor(Path(args[0]))
    print(json.dumps(result))
