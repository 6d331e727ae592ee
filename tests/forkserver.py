"""A warm interpreter that forks one fresh `kfvs` process per call, so a test pays for the CLI, not for Python.

Most of a `kfvs` run started from scratch is importing: Pulumi's SDKs, grpc, pydantic and typer take about a
second before the command does anything, and the suite starts `kfvs` a few hundred times. The server imports
those third-party modules once, then forks a child per call. The child is a real process as a user's: it changes
to the project copy's folder, takes the call's environment and arguments, imports the project's own modules
(`infra`, `components`, `policies`) from that copy, never from the server, and runs `python -m infra.kfvs.cli`
through `runpy`, its exit status and its output files the call's.

Those project modules cost a tenth of a second more per call, and most calls run the same code from the same
folder: each test's copy of the project lives at one path per worker (tests/conftest.py), and tests seldom change
its code. So the server keeps, per folder, a template: a child of its own that has imported the folder's project
modules (all the CLI's but `infra.kfvs.cli`, which each run executes afresh as `__main__`), as a child would,
from that folder, and forks the runs for it. A template serves only the code it imported: the server stats every
project source of the folder at each call (path, size, modification time) and, when any differs, replaces the
template. Code that does not import (a test breaking a module on purpose) gets no template: its runs import it
themselves and fail as a user's would.

A run's judged stacks (`judge_stack`, half a second each) are shared with the whole test run, as the workers'
are (tests/recordings.py `SharedJudgements`), and so are its layer runs unless it renders them (`SharedLayerRuns`),
unless the test asks for runs of its own (`fresh_runs`).

Run as a script (`python tests/forkserver.py`); it answers one JSON request per line on stdin: the child's pid as
soon as it is forked (so a client can kill a hung run), then its exit status.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib
import importlib.util
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
from typing import IO, Any

_OWN = ("infra", "components", "policies", "tests", "bench")
"""The project's packages and the suite's: never imported by the server itself."""
PROJECT = ("infra", "components", "policies")
"""The project's own packages: what a template imports from its folder, and whose sources it serves."""


def _probe(root: Path) -> tuple[list[str], list[str]]:
    """The modules a full `kfvs` import pulls in, and those the program loads as it runs (the provider SDKs load
    each resource type's module on first use), in the order they load: the third-party ones (the server's) and
    the project's (a template's). Found by planning every example environment once, in a probe process, so the
    server's own state stays that of a fresh interpreter."""
    probe = (
        "import sys, infra.kfvs.cli, infra.program, infra.kfvs.lint.cli_support\n"
        "from infra import paths\n"
        "from infra.kfvs.run import record_stack\n"
        "for name in paths.list_environments(): record_stack(name)\n"
        "loaded = list(sys.modules)\n"
        f"print(' '.join(m for m in loaded if m.split('.')[0] not in {_OWN!r} and m != '__main__'))\n"
        f"print(' '.join(m for m in loaded if m.split('.')[0] in {PROJECT!r} and m != {CLI!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True, env=_plain_env()
    )
    third_party, project = done.stdout.splitlines()[-2:]
    return third_party.split(), project.split()


def _shared_probe(root: Path, shared: Path | None) -> tuple[list[str], list[str]]:
    """`_probe`, once per test run however many workers ask: in the folder SHARED (the run's, which every xdist
    worker sees) the first to come probes and the others wait on the lock and read its answer."""
    if shared is None:
        return _probe(root)
    answer = shared / "forkserver-modules.json"
    with (shared / "forkserver-modules.lock").open("a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if not answer.is_file():
            answer.write_text(json.dumps(_probe(root)))
        third_party, project = json.loads(answer.read_text())
        return third_party, project


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
    if request.get("judgements"):
        _share_runs(Path(request["judgements"]), rendering=bool(set(request["args"][:1]) & RENDERING))
    try:
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
    except SystemExit as done:
        return _status(done.code)
    except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback on stderr, status 1
        traceback.print_exc()
        return 1
    return 0


RENDERING = {"render", "lint"}
"""The commands whose program runs are rendered: their layer runs are their own (a kept run has no transforms)."""


def _share_runs(folder: Path, *, rendering: bool) -> None:
    """This run's judged runs, and unless it renders its layer runs, answered from and kept for the whole test run
    (tests/recordings.py)."""
    spec = importlib.util.spec_from_file_location("kfvs_suite_recordings", Path(__file__).with_name("recordings.py"))
    assert spec is not None
    assert spec.loader is not None
    recordings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recordings)
    run = importlib.import_module("infra.kfvs.run")
    paths = importlib.import_module("infra.paths")
    code = recordings.code_digest(Path(importlib.import_module("infra").__file__ or ".").parent.parent)
    judged = recordings.SharedJudgements(run.judge_stack, folder, code, paths.PROJECT_ROOT)
    setattr(run, "judge_stack", judged)  # noqa: B010 - a module the child imported by name
    if not rendering:
        layers = recordings.SharedLayerRuns(run._record_one, folder, code)
        setattr(run, "_record_one", layers)  # noqa: B010


def _status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


def _run_one(request: dict[str, Any], replies: IO[str]) -> None:
    """Fork the requested run; its pid as soon as it is forked, then its exit status, as lines on REPLIES."""
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
    replies.write(json.dumps({"pid": pid}) + "\n")
    replies.flush()
    _, wait_status = os.waitpid(pid, 0)
    replies.write(json.dumps({"status": os.waitstatus_to_exitcode(wait_status)}) + "\n")
    replies.flush()


CodeState = tuple[tuple[str, int, int], ...]


def code_state(folder: Path) -> CodeState:
    """Each project source under FOLDER, by path, size and modification time: what a template's imports read."""
    found = []
    for package in PROJECT:
        for directory, subdirectories, files in os.walk(folder / package):
            subdirectories[:] = sorted(d for d in subdirectories if d != "__pycache__")
            for name in sorted(f for f in files if f.endswith(".py")):
                stat = os.stat(os.path.join(directory, name))
                found.append((os.path.join(directory, name), stat.st_size, stat.st_mtime_ns))
    return tuple(found)


_TEMPLATE_ENDS: set[int] = set()
"""The server's ends of its templates' pipes: a template closes those it inherits, so that each template sees its
requests end when the server does, not when the last template forked after it ends."""


class Template:
    """A child of the server that has imported one folder's project modules, as that folder's runs would, and
    forks them: a run from it skips those imports and is otherwise the run the server would have forked."""

    def __init__(self, request: dict[str, Any], modules: list[str]) -> None:
        theirs_in, self._requests_fd = os.pipe()
        self._replies_fd, theirs_out = os.pipe()
        sys.stdout.flush()
        self.pid = os.fork()
        if self.pid == 0:
            status = 1
            try:
                for fd in (self._requests_fd, self._replies_fd, *_TEMPLATE_ENDS):
                    os.close(fd)  # the server's ends, of this template and of the others: their ends are theirs
                _template(request, modules, os.fdopen(theirs_in), os.fdopen(theirs_out, "w"))
                status = 0
            finally:
                os._exit(status)
        os.close(theirs_in)
        os.close(theirs_out)
        _TEMPLATE_ENDS.update((self._requests_fd, self._replies_fd))
        self.requests = os.fdopen(self._requests_fd, "w")
        self.replies = os.fdopen(self._replies_fd)
        self.ready = bool(json.loads(self.replies.readline() or "{}").get("ready"))

    def relay(self, line: str) -> None:
        """Hand the template one request; pass its two answers (pid, status) on to the server's client."""
        self.requests.write(line)
        self.requests.flush()
        for _ in range(2):
            reply = self.replies.readline()
            if not reply:
                raise RuntimeError("a kfvs fork server template exited")
            sys.stdout.write(reply)
            sys.stdout.flush()

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        _TEMPLATE_ENDS.difference_update((self._requests_fd, self._replies_fd))
        self.requests.close()
        self.replies.close()


def _template(request: dict[str, Any], modules: list[str], requests: IO[str], replies: IO[str]) -> None:
    """Import MODULES from the request's folder, with its environment and path, as its run would; then fork each
    request that comes. Whatever an import prints goes nowhere: the server's stdout is its client's channel."""
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [request["cwd"], *extra, *_BASE_PATH]
    try:
        for name in modules:
            importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - code that does not import: its runs import it, and fail, themselves
        replies.write(json.dumps({"ready": False}) + "\n")
        replies.flush()
        return
    sys.modules.pop(CLI, None)  # each run executes it afresh, as `python -m` does
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        _run_one(json.loads(line), replies)


TEMPLATES_KEPT = 4
"""Folders with a template at once; the least recently used goes first."""


def _serve(modules: list[str]) -> None:
    templates: dict[str, tuple[CodeState, Template | None]] = {}
    for line in sys.stdin:
        request = json.loads(line)
        folder = request["cwd"]
        state = code_state(Path(folder))
        held = templates.pop(folder, None)
        if held is None or held[0] != state:
            if held is not None and held[1] is not None:
                held[1].close()
            made = Template(request, modules) if state else None
            if made is not None and not made.ready:
                made.close()
                made = None
            held = (state, made)
        templates[folder] = held  # the most recently used, last
        while len(templates) > TEMPLATES_KEPT:
            _, oldest = templates.pop(next(iter(templates)))
            if oldest is not None:
                oldest.close()
        if held[1] is None:
            _run_one(request, sys.stdout)
        else:
            held[1].relay(line)


_BASE_PATH: list[str] = []

CLI = "infra.kfvs.cli"
SHARED_ENV = "KFVS_TESTS_SHARED_DIR"
"""A folder every worker of this test run shares (tests/conftest.py sets it), where the probe's answer is kept."""


class ForkServer:
    """The client: one server per test process (each xdist worker has its own), started on first use or ahead of
    it (`start`); a run waits until the server is ready."""

    def __init__(self, root: Path) -> None:
        self._server = subprocess.Popen(
            [sys.executable, __file__, str(root), *([shared] if (shared := os.environ.get(SHARED_ENV)) else [])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=_plain_env(),
        )
        self._pending = b""
        self._ready = False

    def _wait_ready(self) -> None:
        if not self._ready:
            self._reply(timeout=None)
            self._ready = True

    def run(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        timeout: float | None = None,
        judgements: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """As `subprocess.run([python, -m, infra.kfvs.cli, *args], capture_output=True, text=True)` would."""
        command = [sys.executable, "-m", CLI, *args]
        self._wait_ready()
        with tempfile.TemporaryDirectory() as folder:
            out, err = Path(folder, "stdout"), Path(folder, "stderr")
            out.touch()
            err.touch()
            request = {
                "cwd": str(cwd),
                "env": env,
                "module": CLI,
                "args": args,
                "stdout": str(out),
                "stderr": str(err),
                "judgements": str(judgements) if judgements else None,
            }
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


ROOT = Path(__file__).resolve().parent.parent
"""The repository the server runs from (its interpreter, its probe), whatever folder a run is for."""


def start() -> None:
    """Start this process's fork server now, so that it imports and probes while other tests run."""
    server(ROOT)


def server(root: Path) -> ForkServer:
    """This process's fork server (started on first use or by `start`, stopped at exit)."""
    if root not in _SERVERS:
        _SERVERS[root] = ForkServer(root)
        atexit.register(_SERVERS[root].close)
    return _SERVERS[root]


SHARING = [True]
"""Whether runs share their judged runs (tests/recordings.py `SharedJudgements`): tests/conftest.py turns it off
for a test whose runs must be its own (`fresh_runs`)."""


def judgements_folder() -> Path | None:
    """Where this test run keeps judged runs for every process of it; None outside a shared run folder."""
    shared = os.environ.get(SHARED_ENV)
    return Path(shared) / "judgements" if shared else None


def run_kfvs(project: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess[str]:
    """`kfvs ARGS` as a user runs it from the project folder PROJECT (its own code first on the path)."""
    env = {"PYTHONPATH": str(project), "PATH": "/usr/bin:/bin", "HOME": str(project)}
    folder = judgements_folder() if SHARING[0] else None
    return server(ROOT).run(list(args), cwd=project, env=env, timeout=timeout, judgements=folder)


if __name__ == "__main__":
    _BASE_PATH[:] = [p for p in sys.path[1:] if p]
    third_party, project = _shared_probe(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
    _preload(third_party)
    print(json.dumps({"ready": True}), flush=True)
    _serve(project)
