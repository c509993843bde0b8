"""One training process, as its parent sees it: start, send, receive, notice its end.

A process is `python -m app.training.child` with one end of a socket pair: a new
interpreter (never a fork of the uvicorn worker, which has threads: a forked copy
may inherit a lock another thread held, forever), and not multiprocessing's
spawn or forkserver either, which import the parent's __main__ module again in
every child. Starting one takes about 0.2 s of a core (Python, NumPy, the engine).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

CHILD_MODULE = "app.training.child"
ROOT = Path(__file__).resolve().parents[2]  # where `app` and `engine` are importable from
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 2.0


class ProcessDied(RuntimeError):
    """The training process ended while it had work (killed, out of memory, crashed)."""


class TrainingProcess:
    """A training process at niceness +`nice`; start() (again) after it died."""

    def __init__(self, nice: int) -> None:
        self.nice = nice
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.info: dict[str, Any] = {}  # what the child said when ready: pid, nice
        self._send_lock = threading.Lock()  # the runner sends jobs, requests send cancels

    def start(self) -> None:
        """Start the process and wait until it is ready (ProcessDied if it is not)."""
        ours, theirs = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}  # fmt: skip
        cmd = [sys.executable, "-m", CHILD_MODULE, str(theirs.fileno()), str(self.nice)]
        try:
            self.proc = subprocess.Popen(cmd, pass_fds=(theirs.fileno(),), env=env,
                                         stdin=subprocess.DEVNULL)  # fmt: skip
        finally:
            theirs.close()  # else a dead child's end stays open here and no EOF is seen
        self.conn = Connection(ours.detach())
        msg = self.recv(READY_TIMEOUT_S)
        if msg is None or msg[0] != "ready":
            self.stop()
            raise ProcessDied("the training process did not start")
        self.info = msg[1]

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def send(self, msg: tuple[Any, ...]) -> None:
        """Send a message (OSError if the process is gone)."""
        assert self.conn is not None
        with self._send_lock:
            self.conn.send(msg)

    def cancel(self, job_id: int) -> None:
        """Ask the running job `job_id` to stop after its current batch."""
        with contextlib.suppress(OSError, AssertionError):  # gone: nothing to cancel
            self.send(("cancel", job_id))

    def recv(self, timeout: float) -> tuple[Any, ...] | None:
        """The next message, None after `timeout` seconds without one; ProcessDied
        once the process has ended (its end of the socket closed) and every message
        it sent has been read."""
        assert self.conn is not None and self.proc is not None
        if not wait([self.conn], timeout):
            return None
        with contextlib.suppress(EOFError, OSError):
            msg: tuple[Any, ...] = self.conn.recv()
            return msg
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(STOP_TIMEOUT_S)
        raise ProcessDied(self.death())

    def death(self) -> str:
        """How the process ended, in words."""
        code = self.proc.poll() if self.proc is not None else None
        if code is None:
            return "the training process stopped answering"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            why = " (the machine may have run out of memory)" if -code == signal.SIGKILL else ""
            return f"the training process was killed by {name}{why}"
        return f"the training process exited with code {code}"

    def stop(self) -> None:
        """Ask the process to end, then make sure it has."""
        proc = self.proc
        if proc is None:
            return
        with contextlib.suppress(OSError, AssertionError):
            self.send(("stop",))
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(STOP_TIMEOUT_S)
        if self.conn is not None:
            self.conn.close()
        self.proc = self.conn = None
