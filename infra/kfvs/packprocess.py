"""Policy pack processes, started by forking the pack host (`packhost.py`) rather than a new interpreter each.

One host per `kfvs` process, started on first use and stopped at exit; a pack process is its child, running the
pack's own `__main__.py`. To `check.py` it looks like the `subprocess.Popen` it replaces: `stdout` to read the
port from, `wait`, `kill`.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

HOST_SCRIPT = Path(__file__).with_name("packhost.py")
_REPLY_TIMEOUT_S = 60.0
_POLL_S = 0.02


class HostError(Exception):
    """The host could not start a pack: what it printed, for the user."""


class PackProcess:
    """A pack process the host forked: its stdout (a pipe), and its pid to wait on and kill."""

    def __init__(self, pid: int, stdout: IO[str]) -> None:
        self.pid = pid
        self.stdout = stdout

    def wait(self, timeout: float) -> None:
        """Until the process has ended (the host reaps it) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        while self._running() and time.monotonic() < deadline:
            time.sleep(_POLL_S)

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return  # ended already

    def _running(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True


class PackHost:
    """The client end of one host process."""

    def __init__(self) -> None:
        self._channel, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._channel.settimeout(_REPLY_TIMEOUT_S)
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        with theirs:
            self.process = subprocess.Popen(  # noqa: S603 - our interpreter running our own script
                [sys.executable, "-u", str(HOST_SCRIPT), str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=self.errors,
                # A pack's path is its folder, then the PYTHONPATH it is given: none of the caller's own.
                env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
            )
        self._lock = threading.Lock()

    def start(self, script: Path, env: dict[str, str], stderr: IO[str]) -> PackProcess:
        """A new process running `script` (a pack's `__main__.py`) with `env`, its stderr into `stderr`."""
        read, write = os.pipe()
        try:
            with self._lock:
                self._send(json.dumps({"script": str(script), "env": env}).encode(), [write, stderr.fileno()])
                pid = json.loads(self._reply())["pid"]
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        return PackProcess(int(pid), os.fdopen(read, "r"))

    def _send(self, request: bytes, fds: list[int]) -> None:
        try:
            socket.send_fds(self._channel, [request], fds)
        except OSError as error:  # the host is gone
            raise HostError(self._why(error.strerror or str(error))) from None

    def _reply(self) -> bytes:
        try:
            reply = self._channel.recv(4096)
        except OSError as error:  # timed out, or the host is gone
            raise HostError(self._why(str(error))) from None
        if not reply:
            raise HostError(self._why("no answer"))
        return reply

    def _why(self, what: str) -> str:
        self.errors.seek(0)
        printed = self.errors.read().strip()[-500:]
        return f"the policy pack host did not answer ({what}){': ' + printed if printed else ''}"

    def close(self) -> None:
        self._channel.close()
        if self.process.stdin is not None:
            self.process.stdin.close()  # the host ends when its stdin does
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.errors.close()


_HOST: list[PackHost] = []
_HOST_LOCK = threading.Lock()


def host() -> PackHost:
    """This process's pack host, started on first use (and stopped at exit)."""
    with _HOST_LOCK:
        if not _HOST or _HOST[0].process.poll() is not None:
            _HOST[:] = [PackHost()]
            atexit.register(_HOST[0].close)
        return _HOST[0]
