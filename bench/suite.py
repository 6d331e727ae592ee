"""`make bench-suite`: the test suite's wall time next to one `kfvs plan` of each example environment.

The suite is mostly the real program under mocks and the real CLI, run again on changed copies of the
project, so its natural unit is a plan: `suite_per_plans` is how many `kfvs plan` runs of every example
environment, one after another, the whole suite costs. The goal (issue 19) is a suite under GOAL_S seconds on
2 cores; `goal_ratio` is the suite's time over it (at most 1 when it is met). Each plan is a fresh `kfvs`
process, as a user runs it (median of BENCH_RUNS, default 3); the suite runs once, as `make pytest` runs it
(byte-compiled first, one worker per core, temporary folders where `make` puts them).
Writes bench/suite-results.json, with the slowest tests.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infra import paths
from infra.kfvs.progress import Progress

RUNS = int(os.environ.get("BENCH_RUNS", "3"))
GOAL_S = 45.0
RESULTS = paths.PROJECT_ROOT / "bench" / "suite-results.json"
SLOWEST = 15
_DURATION = re.compile(r"^(\d+\.\d+)s (call|setup|teardown) +(\S+)$")


def _timed(command: list[str]) -> tuple[float, str]:
    """Seconds one command takes and its output; a failure stops the benchmark with its last line."""
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our interpreter, our modules
        command, cwd=paths.PROJECT_ROOT, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        lines = done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or ["?"]
        failures = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
        raise SystemExit("\n".join([f"{' '.join(command[1:4])}... failed: {lines[-1]}", *failures]))
    return elapsed, done.stdout


def slowest(report: str, count: int = SLOWEST) -> list[dict[str, Any]]:
    """The `--durations` lines of a pytest report, slowest first: seconds, phase and test id."""
    found = [m for m in (_DURATION.match(line.strip()) for line in report.splitlines()) if m]
    ranked = sorted(found, key=lambda m: -float(m.group(1)))[:count]
    return [{"s": float(m.group(1)), "phase": m.group(2), "test": m.group(3)} for m in ranked]


def summary(suite_s: float, plans: dict[str, float], cores: int) -> dict[str, Any]:
    """The suite's time, each environment's plan time, and the two ratios the goal is read from."""
    plan_sum = sum(plans.values())
    return {
        "cores": cores,
        "suite_s": round(suite_s, 2),
        "plans_s": {name: round(s, 3) for name, s in plans.items()},
        "plan_sum_s": round(plan_sum, 3),
        "suite_per_plans": round(suite_s / plan_sum, 1) if plan_sum else None,
        "goal_s": GOAL_S,
        "goal_ratio": round(suite_s / GOAL_S, 2),
    }


def measure(progress: Progress) -> dict[str, Any]:
    plans: dict[str, float] = {}
    environments = paths.list_environments()
    for i, name in enumerate(environments, 1):
        runs = []
        for run in range(1, RUNS + 1):
            runs.append(_timed([sys.executable, "-m", "infra.kfvs.cli", "plan", name, "--format", "json"])[0])
            progress.step(f"kfvs plan, run {run}/{RUNS}: {runs[-1]:.2f} s", name, i, len(environments))
        plans[name] = statistics.median(runs)
    progress.step("byte-compiling the project's modules, as `make pytest` does")
    _timed([sys.executable, "-m", "compileall", "-q", "infra", "components", "policies", "tests", "bench"])
    progress.step("running the suite: pytest -n auto (minutes)")
    suite_s, report = _timed([sys.executable, "-m", "pytest", "-n", "auto", f"--durations={SLOWEST}"])
    result = summary(suite_s, plans, os.cpu_count() or 1)
    result["slowest"] = slowest(report)
    result["runs"] = RUNS
    result["temporary_folder"] = tempfile.gettempdir()  # RAM (/dev/shm) or disk: `make bench-suite` picks it
    return result


def main() -> None:
    progress = Progress("bench-suite")
    result = measure(progress)
    progress.done(f"measured; writing {paths.relative(RESULTS)}")
    Path(RESULTS).write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"pytest -n auto on {result['cores']} cores: {result['suite_s']:.1f} s (goal {GOAL_S:.0f} s: ratio "
        f"{result['goal_ratio']}), temporary folders in {result['temporary_folder']}"
    )
    for name, seconds in result["plans_s"].items():
        print(f"  kfvs plan {name}: {seconds:.2f} s (median of {RUNS})")
    print(f"  the suite costs {result['suite_per_plans']} plans of every example environment")
    for test in result["slowest"]:
        print(f"  {test['s']:6.2f} s  {test['phase']:8}  {test['test']}")


if __name__ == "__main__":
    main()
