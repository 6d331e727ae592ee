"""The pack host: a warm interpreter that starts each policy pack process by forking.

Every pack process pays the same import before it serves (`pulumi_policy`, and through it the Pulumi SDK, grpc
and protobuf): about 0.3 s of CPU, and a layered environment starts each pack once per layer, as the engine
does for each stack it previews. The host pays that import once per `kfvs` run; each pack is then a fresh
child of it that runs the pack's own `__main__.py` as `python -u __main__.py` would: in the pack's folder,
with the environment and standard streams it is handed, its own modules (`policies.*`) imported from the
project, never from the host (the host imports no project module).

Run as a script, `python -u packhost.py FD`: FD is a Unix datagram socket. Each request is one datagram of
JSON (`script`, `env`) carrying the child's stdout and stderr as file descriptors; the answer is the child's
pid. The host ends when its stdin closes, so it never outlives the `kfvs` that started it. Standard library and
`pulumi_policy` only, since this file must not load the project's own packages.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import traceback
from typing import Any

import pulumi_policy  # noqa: F401 - the import every pack pays, paid here once

_MAX_REQUEST = 1 << 20


def _become_pack(request: dict[str, Any], stdout: int, stderr: int) -> int:
    """Run the pack's `__main__.py` in this (forked) process; its exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the host's auto-reaping is not the pack's
    null = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((null, 0), (stdout, 1), (stderr, 2)):
        os.dup2(source, target)
        os.close(source)
    # Unbuffered, as `python -u`: the port line must leave before the pack blocks serving.
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), write_through=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), write_through=True)
    script: str = request["script"]
    os.chdir(os.path.dirname(script))
    os.environ.clear()
    os.environ.update(request["env"])
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [os.path.dirname(script), *extra, *_BASE_PATH]
    sys.argv = [script]
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001 - as the interpreter does: the traceback on stderr, status 1
        traceback.print_exc()
        return 1
    return 0


def _serve(channel: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # finished packs are reaped by the kernel
    with selectors.DefaultSelector() as selector:
        selector.register(channel, selectors.EVENT_READ)
        selector.register(sys.stdin, selectors.EVENT_READ)
        while True:
            ready = {key.fileobj for key, _ in selector.select()}
            if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
                return  # kfvs is gone
            if channel not in ready:
                continue
            message, fds, _, _ = socket.recv_fds(channel, _MAX_REQUEST, 2)
            if len(fds) != 2:
                for fd in fds:
                    os.close(fd)
                continue
            pid = os.fork()
            if pid == 0:
                status = 1
                try:
                    channel.close()
                    status = _become_pack(json.loads(message), *fds)
                finally:
                    for stream in (sys.stdout, sys.stderr):
                        with contextlib.suppress(Exception):  # a closed stream has nothing left to write
                            stream.flush()
                    os._exit(status)
            for fd in fds:
                os.close(fd)
            channel.send(json.dumps({"pid": pid}).encode())


_BASE_PATH: list[str] = []

if __name__ == "__main__":
    _BASE_PATH[:] = [p for p in sys.path[1:] if p]  # without this file's folder
    _serve(socket.socket(fileno=int(sys.argv[1])))
