"""`make bench`: plan and check time on generated environments against the SDK floor; writes bench/results.json."""

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
from infra import paths

SIZES = (10, 50, 200)
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
RESULTS = paths.PROJECT_ROOT / "bench" / "results.json"


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


def measure(root: Path, teams: int) -> dict[str, Any]:
    """Median of RUNS runs; plan and floor alternate so drift on the machine hits both alike."""
    project = environment(root, teams)
    manifest = root / f"manifest-{teams}.json"
    plans, floors = [], []
    for _ in range(RUNS):
        plans.append(_child(project, "plan", str(project), str(manifest)))
        floors.append(_child(project, "floor", str(manifest)))
    plan_s = statistics.median(p["plan_s"] for p in plans)
    floor_s = statistics.median(f["floor_s"] for f in floors)
    return {
        "teams": teams,
        "resources": plans[0]["resources"],
        "plan_s": round(plan_s, 3),
        "floor_s": round(floor_s, 3),
        "ratio": round(plan_s / floor_s, 2),
        "peak_mib": round(max(p["peak_mib"] for p in plans), 1),
        "floor_peak_mib": round(max(f["floor_peak_mib"] for f in floors), 1),
        "check_s": round(statistics.median(p["check_s"] for p in plans), 3),
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kfvs-bench-") as tmp:
        sizes = [measure(Path(tmp), n) for n in SIZES]
    by_teams = {s["teams"]: s for s in sizes}
    results = {
        "sizes": sizes,
        "scaling_50_to_200": round(by_teams[200]["plan_s"] / by_teams[50]["plan_s"], 2),
        "check_share_200": round(by_teams[200]["check_s"] / by_teams[200]["plan_s"], 3),
        "runs": RUNS,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    columns = ("teams", "resources", "plan_s", "floor_s", "ratio", "peak_mib", "check_s")
    print(" ".join(f"{c:>9}" for c in columns))
    for row in sizes:
        print(" ".join(f"{row[c]:>9}" for c in columns))
    print(f"scaling 50 -> 200 teams: {results['scaling_50_to_200']}x (goal <= 4.4x)")
    print(f"check / plan at 200 teams: {results['check_share_200']} (goal < 0.10); plan / floor goal <= 1.3x")


if __name__ == "__main__":
    main()
