"""`make bench-render`: `kfvs render` (warm cache) and `kfvs lint` against `kubectl kustomize` alone.

The floor is what a user would otherwise run: `kubectl kustomize`, with the provider's flags, once per
kustomize directory of the stack's plan, one after another. `kfvs render STACK` from a warm cache and
`kfvs lint STACK` (when the lint command exists) each run as a user runs them, a fresh `kfvs` process, and
alternate with the floor so that drift on the machine hits all alike. The goal: each within 2x of the floor.

Remote directories are fetched as `kfvs render` fetches them: through the user's git config, plus the mirror
folder that `KFVS_GIT_MIRROR` names, if any. The cache is `KFVS_CACHE_DIR` when set, else a temporary folder;
either is warmed first.
Directories kustomize cannot build here (only the network serves them) are tried on both sides, as
`kfvs render --keep-going` tries them on every run (they are never cached), and named. Writes
bench/render-results.json. BENCH_RUNS=N runs each (default 5), BENCH_STACK=name (default sandbox).
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from infra import paths
from infra.kfvs.kustomize import BUILD_FLAGS, CACHE_ENV, MIRROR_ENV, Kustomizer
from infra.kfvs.progress import Progress
from infra.kfvs.rendering import DIRECTORY
from infra.kfvs.run import record_stack

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
STACK = os.environ.get("BENCH_STACK", "sandbox")
RESULTS = paths.PROJECT_ROOT / "bench" / "render-results.json"
GOAL = 2.0


def _timed(command: list[str], env: dict[str, str]) -> float:
    """Seconds one command takes, its output thrown away; a failure stops the benchmark with its error."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - ours
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 4):  # 4: `kfvs lint` found something, which is not the benchmark's concern
        raise SystemExit(f"{' '.join(command[:4])}... failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return elapsed


def _directories(kustomizer: Kustomizer) -> tuple[list[str], list[str]]:
    """The stack's directories kustomize can build here, and those it cannot (building them warms the cache)."""
    _, recording = record_stack(STACK)
    wanted = [str(r.inputs["directory"]) for r in recording.of_type(DIRECTORY)]
    built = kustomizer.build_all(wanted)
    ok = [d for d in wanted if not isinstance(built[d], Exception)]
    return ok, [d for d in wanted if d not in ok]


def _has_lint(kfvs: list[str], env: dict[str, str]) -> bool:
    """Whether this tree has `kfvs lint` yet (it is built beside `kfvs render`)."""
    if importlib.util.find_spec("infra.kfvs.lint") is None:
        return False
    done = subprocess.run([*kfvs, "lint", "--help"], env=env, capture_output=True, check=False)  # noqa: S603
    return done.returncode == 0


def _floor(kustomizer: Kustomizer, directories: list[str], failing: list[str]) -> float:
    """`kubectl kustomize` over the same directories, the failing ones too (kfvs tries them on every run)."""
    start = time.perf_counter()
    for directory in [*directories, *failing]:
        subprocess.run(  # noqa: S603 - our kubectl, arguments as a list
            [str(kustomizer.kubectl), "kustomize", *BUILD_FLAGS, directory],
            env=kustomizer.env,
            capture_output=True,
            check=directory not in failing,
        )
    return time.perf_counter() - start


def measure(cache: Path, progress: Progress) -> dict[str, Any]:
    """Medians of RUNS alternating runs of the floor, the warm render and (if present) lint."""
    mirror = Path(os.environ[MIRROR_ENV]) if os.environ.get(MIRROR_ENV) else None
    kustomizer = Kustomizer(mirror=mirror, cache_dir=cache)
    env = {**os.environ, "KFVS_CACHE_DIR": str(cache)}
    progress.step("warming the cache: building every directory once", STACK)
    directories, skipped = _directories(kustomizer)
    kfvs = [sys.executable, "-m", "infra.kfvs.cli"]
    render = [*kfvs, "render", STACK, "--keep-going"]
    lint = [*kfvs, "lint", STACK, "--keep-going"] if _has_lint(kfvs, env) else None
    floors, renders, lints = [], [], []
    for run in range(1, RUNS + 1):
        floors.append(_floor(kustomizer, directories, skipped))
        renders.append(_timed(render, env))
        if lint is not None:
            lints.append(_timed(lint, env))
        tail = f", lint {lints[-1]:.2f} s" if lints else ""
        progress.step(f"run {run}/{RUNS}: kustomize {floors[-1]:.2f} s, render {renders[-1]:.2f} s{tail}", STACK)
    floor = statistics.median(floors)
    result: dict[str, Any] = {
        "stack": STACK,
        "directories": len(directories),
        "skipped": skipped,
        "kustomize_s": round(floor, 3),
        "render_s": round(statistics.median(renders), 3),
        "render_ratio": round(statistics.median(renders) / floor, 2),
        "runs": RUNS,
    }
    if lints:
        result["lint_s"] = round(statistics.median(lints), 3)
        result["lint_ratio"] = round(statistics.median(lints) / floor, 2)
    return result


def main() -> None:
    progress = Progress("bench-render")
    with tempfile.TemporaryDirectory(prefix="kfvs-bench-render-") as tmp:
        result = measure(Path(os.environ.get(CACHE_ENV) or tmp), progress)
    progress.done(f"measured; writing {paths.relative(RESULTS)}")
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{result['stack']}: {result['directories']} kustomize directories, medians of {result['runs']} runs")
    print(f"  kubectl kustomize alone, one after another: {result['kustomize_s']:.2f} s")
    print(f"  kfvs render, warm cache: {result['render_s']:.2f} s  ratio {result['render_ratio']} (goal <= {GOAL})")
    if "lint_s" in result:
        print(f"  kfvs lint: {result['lint_s']:.2f} s  ratio {result['lint_ratio']} (goal <= {GOAL})")
    else:
        print("  kfvs lint: not measured (no `kfvs lint` command in this tree)")
    for directory in result["skipped"]:
        print(f"  kustomize cannot build it here (tried, not cached, on both sides): {directory}")


if __name__ == "__main__":
    main()
