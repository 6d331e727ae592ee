"""`make bench`: plan and check time on generated environments against their floors; writes bench/results.json."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.generate import environment
from bench.policy_floor import hollow_project
from infra import paths
from infra.kfvs.progress import Progress

SIZES = (10, 50, 200)
RUNS = int(os.environ.get("BENCH_RUNS", "7"))
RESULTS = paths.PROJECT_ROOT / "bench" / "results.json"
COLUMNS = ("teams", "resources", "plan_s", "floor_s", "ratio", "peak_mib", "check_s", "check_floor_s", "judged_s")


def _child(project: Path, *args: str) -> dict[str, Any]:
    run = subprocess.run(  # noqa: S603 - our interpreter, our module
        [sys.executable, "-m", "bench.child", *args],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project)},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def _median(runs: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(float(r[key]) for r in runs), 3)


def measure(
    root: Path, teams: int, progress: Progress | None = None, place: tuple[int, int] = (1, 1)
) -> dict[str, Any]:
    """Medians of RUNS runs; plan, streamed plan and floor alternate so drift on the machine hits all alike."""
    item = f"{teams} teams"
    if progress:
        progress.step("generating the environment", item, *place)
    project = environment(root, teams)
    hollow_project(project)
    manifest = root / f"manifest-{teams}.json"
    plans, judged, floors = [], [], []
    for run in range(1, RUNS + 1):
        plans.append(_child(project, "plan", str(project), str(manifest)))
        judged.append(_child(project, "judged", str(project)))
        floors.append(_child(project, "floor", str(manifest)))
        if progress:
            times = f"plan {plans[-1]['plan_s']:.2f} s, judged {judged[-1]['judged_s']:.2f} s, "
            progress.step(f"run {run}/{RUNS}: {times}floor {floors[-1]['floor_s']:.2f} s", item, *place)
    plan_s, floor_s = _median(plans, "plan_s"), _median(floors, "floor_s")
    return {
        "teams": teams,
        "resources": plans[0]["resources"],
        "plan_s": plan_s,
        "floor_s": floor_s,
        "ratio": round(plan_s / floor_s, 2),
        "peak_mib": round(max(p["peak_mib"] for p in plans), 1),
        "floor_peak_mib": round(max(f["floor_peak_mib"] for f in floors), 1),
        "check_s": _median(plans, "check_s"),
        "check_floor_s": _median(plans, "check_floor_s"),
        "judged_s": _median(judged, "judged_s"),
    }


def main() -> None:
    progress = Progress("bench")
    progress.step(f"{len(SIZES)} sizes ({', '.join(map(str, SIZES))} teams), {RUNS} runs each")
    with tempfile.TemporaryDirectory(prefix="kfvs-bench-") as tmp:
        sizes = [measure(Path(tmp), n, progress, (i, len(SIZES))) for i, n in enumerate(SIZES, 1)]
    progress.done(f"measured; writing {paths.relative(RESULTS)}")
    big = {s["teams"]: s for s in sizes}
    results = {
        "sizes": sizes,
        "scaling_50_to_200": round(big[200]["plan_s"] / big[50]["plan_s"], 2),
        "check_share_200": round(big[200]["check_s"] / big[200]["plan_s"], 3),
        "policy_share_200": round((big[200]["check_s"] - big[200]["check_floor_s"]) / big[200]["plan_s"], 3),
        "runs": RUNS,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(" ".join(f"{c:>13}" for c in COLUMNS))
    for row in sizes:
        print(" ".join(f"{row[c]:>13}" for c in COLUMNS))
    print(f"plan / floor: {', '.join(str(s['ratio']) for s in sizes)} (goal <= 1.3 at every size)")
    print(f"scaling 50 -> 200 teams: {results['scaling_50_to_200']}x (goal <= 4.4x)")
    print(
        f"check / plan at 200 teams: {results['check_share_200']} (goal < 0.10); of which the policies' own "
        f"logic (check - check floor): {results['policy_share_200']}"
    )


if __name__ == "__main__":
    main()
