"""A warm interpreter that forks one fresh `kfvs` process per call, so a test pays for the CLI, not for Python.

Most of a `kfvs` run started from scratch is importing: Pulumi's SDKs, grpc, pydantic and typer take about a
second before the command does anything, and the suite starts `kfvs` a few hundred times. The server imports
those third-party modules once, then forks a child per call. The child is a real process as a user's: it changes
to the project copy's folder, takes the call's environment and arguments, imports the project's own modules
(`infra`, `components`, `policies`) from that copy, never from the server, and runs `python -m infra.kfvs.cli`
through `runpy`, its exit status and its output files the call's.

Run as a script (`python tests/forkserver.py`); it answers one JSON request per line on stdin: the child's pid as
soon as it is forked (so a client can kill a hung run), then its exit status.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib
import json
import os
import runpy
import selectors
import signal
import subprocess
import sys
import tempfile
import traceback
import types
from pathlib import Path
from typing import Any

_OWN = ("infra", "components", "policies", "tests", "bench")
"""The project's packages: imported by each child from its own copy, never preloaded."""


def _third_party(root: Path) -> list[str]:
    """The modules a full `kfvs` import pulls in that are not the project's own, in the order they load, and
    those the program loads as it runs (the provider SDKs load each resource type's module on first use):
    found by planning every example environment once, in a probe process, so the server's own state stays
    that of a fresh interpreter."""
    probe = (
        "import sys, infra.kfvs.cli, infra.program, infra.kfvs.lint.cli_support\n"
        "from infra import paths\n"
        "from infra.kfvs.run import record_stack\n"
        "for name in paths.list_environments(): record_stack(name)\n"
        f"own = {_OWN!r}\n"
        "print('\\n'.join(m for m in list(sys.modules) if m.split('.')[0] not in own and m != '__main__'))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True, env=_plain_env()
    )
    return done.stdout.split()


def _shared_third_party(root: Path, shared: Path | None) -> list[str]:
    """`_third_party`, probed once per test run however many workers ask: in the folder SHARED (the run's, which
    every xdist worker sees) the first to come probes and the others wait on the lock and read its answer."""
    if shared is None:
        return _third_party(root)
    answer = shared / "forkserver-modules.txt"
    with (shared / "forkserver-modules.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if not answer.is_file():
            answer.write_text("\n".join(_third_party(root)))
        return answer.read_text().split()


def _plain_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/")}


def _preload(names: list[str]) -> None:
    for name in names:
        parent, _, attribute = name.rpartition(".")
        try:
            if name in sys.modules or (parent in sys.modules and _handed_out(sys.modules[parent], attribute)):
                continue
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a module that only loads in its parent's context: the child loads it
            continue


def _handed_out(package: types.ModuleType, attribute: str) -> bool:
    """Whether PACKAGE gives ATTRIBUTE itself (the provider SDKs lazily export each resource class from a module of
    its name): reached that way, as the program reaches it, since importing the submodule by name would bind the
    module, not the class, to the package's attribute."""
    try:
        value = getattr(package, attribute)
    except Exception:  # noqa: BLE001 - not there, or its lazy load failed: import it by name
        return False
    return not isinstance(value, types.ModuleType)


def _child(request: dict[str, Any]) -> int:
    """Become the requested `kfvs` run; its exit status."""
    cwd = request["cwd"]
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, mode in (
        (0, os.devnull, os.O_RDONLY),
        (1, request["stdout"], os.O_WRONLY),
        (2, request["stderr"], os.O_WRONLY),
    ):
        target = os.open(path, mode)
        os.dup2(target, fd)
        os.close(target)
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [cwd, *extra, *_BASE_PATH]
    sys.argv = [request["module"], *request["args"]]
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return _status(done.code)
    except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback on stderr, status 1
        traceback.print_exc()
        return 1
    return 0


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _serve() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                status = _child(request)
            finally:
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):  # a closed stream has nothing left to write
                        stream.flush()
                os._exit(status)
        print(json.dumps({"pid": pid}), flush=True)
        _, wait_status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(wait_status)}), flush=True)


_BASE_PATH: list[str] = []

CLI = "infra.kfvs.cli"
SHARED_ENV = "KFVS_TESTS_SHARED_DIR"
"""A folder every worker of this test run shares (tests/conftest.py sets it), where the probe's answer is kept."""


class ForkServer:
    """The client: one server per test process (each xdist worker has its own), started on first use."""

    def __init__(self, root: Path) -> None:
        self._server = subprocess.Popen(
            [sys.executable, __file__, str(root), *([shared] if (shared := os.environ.get(SHARED_ENV)) else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_plain_env(),
        )
        self._pending = b""
        self._reply(timeout=None)  # ready

    def run(
        self, args: list[str], *, cwd: Path, env: dict[str, str], timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """As `subprocess.run([python, -m, infra.kfvs.cli, *args], capture_output=True, text=True)` would."""
        command = [sys.executable, "-m", CLI, *args]
        with tempfile.TemporaryDirectory() as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            out.touch()
            err.touch()
            request = {"cwd": str(cwd), "env": env, "module": CLI, "args": args, "stdout": str(out), "stderr": str(err)}
            assert self._server.stdin is not None
            self._server.stdin.write(json.dumps(request).encode() + b"\n")
            self._server.stdin.flush()
            pid = self._reply(timeout=None)["pid"]
            reply = self._reply(timeout=timeout)
            if reply is None:
                os.kill(pid, signal.SIGKILL)
                self._reply(timeout=None)
                raise subprocess.TimeoutExpired(command, timeout or 0, out.read_text(), err.read_text())
            return subprocess.CompletedProcess(command, reply["status"], out.read_text(), err.read_text())

    def _reply(self, timeout: float | None) -> Any:
        """The server's next line, as JSON; None when `timeout` passes first."""
        assert self._server.stdout is not None
        fd = self._server.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._pending:
                if not selector.select(timeout):
                    return None
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise RuntimeError("the kfvs fork server exited")
                self._pending += chunk
        line, self._pending = self._pending.split(b"\n", 1)
        return json.loads(line)

    def close(self) -> None:
        self._server.kill()
        self._server.wait()


_SERVERS: dict[Path, ForkServer] = {}


def server(root: Path) -> ForkServer:
    """This process's fork server (started on first use, stopped at exit)."""
    if root not in _SERVERS:
        _SERVERS[root] = ForkServer(root)
        atexit.register(_SERVERS[root].close)
    return _SERVERS[root]


def run_kfvs(project: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """`kfvs ARGS` as a user runs it from the project folder PROJECT (its own code first on the path)."""
    env = {"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "HOME": str(project)}
    return server(Path(__file__).resolve().parent.parent).run(list(args), cwd=project, env=env, timeout=timeout)


if __name__ == "__main__":
    _BASE_PATH[:] = [p for p in sys.path[1:] if p]
    _preload(_shared_third_party(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None))
    print(json.dumps({"ready": True}), flush=True)
    _serve()
