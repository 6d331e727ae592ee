"""The pack host: each pack process forked from it runs as `python -u __main__.py` would, started fresh."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.kfvs.packprocess import HostError, PackHost

PROBE = """\
import json, os, sys
import policies.marker
print(json.dumps({
    "cwd": os.getcwd(),
    "path0": sys.path[0],
    "argv": sys.argv,
    "name": __name__,
    "stack": os.environ.get("PULUMI_STACK"),
    "only_given_env": "HOST_ONLY" not in os.environ,
    "marker": policies.marker.__file__,
    "preloaded": "pulumi_policy" in sys.modules,
    "callers_path": "/callers/own/path" in sys.path,
}))
sys.stderr.write("to stderr\\n")
raise SystemExit(3)
"""


def _pack(tmp_path: Path, main: str) -> tuple[Path, Path]:
    """A project root with `policies/marker.py` and a pack folder whose `__main__.py` is MAIN."""
    root = tmp_path / "root"
    (root / "policies").mkdir(parents=True)
    (root / "policies" / "__init__.py").write_text("")
    (root / "policies" / "marker.py").write_text("")
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(main)
    return root, pack / "__main__.py"


@pytest.fixture
def host(monkeypatch: pytest.MonkeyPatch) -> Iterator[PackHost]:
    monkeypatch.setenv("HOST_ONLY", "1")  # in the host's environment, not in the pack's
    monkeypatch.setenv("PYTHONPATH", "/callers/own/path")  # the caller's: not on a pack's path
    started = PackHost()
    yield started
    started.close()


def test_a_forked_pack_runs_as_a_fresh_interpreter_would(host: PackHost, tmp_path: Path) -> None:
    root, script = _pack(tmp_path, PROBE)
    env = {"PYTHONPATH": str(root), "PULUMI_STACK": "dev-infra", "PATH": os.environ["PATH"]}
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = host.start(script, env, errors)
        seen = json.loads(process.stdout.readline())
        process.wait(timeout=10)
        assert not process._running()  # ended, and reaped by the host
        errors.seek(0)
        assert errors.read() == "to stderr\n"
    assert seen == {
        "cwd": str(script.parent),
        "path0": str(script.parent),
        "argv": [str(script)],
        "name": "__main__",
        "stack": "dev-infra",
        "only_given_env": True,
        "marker": str(root / "policies" / "marker.py"),  # the project's own code, from the root it was given
        "preloaded": True,
        "callers_path": False,
    }
    fresh = subprocess.run(
        [sys.executable, "-u", str(script)], cwd=script.parent, env=env, capture_output=True, text=True, check=False
    )
    assert fresh.returncode == 3
    assert {**json.loads(fresh.stdout), "preloaded": True} == seen


def test_a_pack_that_serves_is_killed_and_its_port_line_arrives_unbuffered(host: PackHost, tmp_path: Path) -> None:
    _, script = _pack(tmp_path, "import time\nprint(4242)\ntime.sleep(60)\n")
    with tempfile.TemporaryFile(mode="w+") as errors:
        process = host.start(script, {"PATH": os.environ["PATH"]}, errors)
    ready, _, _ = select.select([process.stdout], [], [], 10)
    assert ready, "the port line is held in a buffer"
    assert process.stdout.readline() == "4242\n"  # while the pack still runs
    assert process._running()
    process.kill()
    process.wait(timeout=10)
    assert not process._running()


def test_the_host_ends_with_the_kfvs_that_started_it(host: PackHost) -> None:
    assert host.process.poll() is None
    assert host.process.stdin is not None
    host.process.stdin.close()  # as when kfvs exits, however it exits
    deadline = time.monotonic() + 10
    while host.process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host.process.returncode == 0


def test_a_host_that_is_gone_is_named_not_waited_for(host: PackHost, tmp_path: Path) -> None:
    _, script = _pack(tmp_path, "")
    host.process.kill()
    host.process.wait()
    with tempfile.TemporaryFile(mode="w+") as errors, pytest.raises(HostError, match="the policy pack host did not"):
        host.start(script, {}, errors)
