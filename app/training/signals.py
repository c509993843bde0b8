"""Hearing that the server is told to stop, before uvicorn's graceful shutdown runs.

On SIGTERM (docker stop) or Ctrl-C, uvicorn stops accepting connections and waits up
to --timeout-graceful-shutdown (GLASSBOX_STOP_GRACE_S) for open requests, then
cancels them; only after that does the app's lifespan shutdown run. A training
stream is an open request: heard only at shutdown, it would be cut without a word.
So the training queue chains its own call to the handler uvicorn installs for these
signals: the streams end with a "stopping" event while uvicorn still waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def on_stop_signal(callback: Callable[[], None]) -> bool:
    """Call `callback` in the running event loop whenever SIGTERM or SIGINT arrives,
    then the handler that was there (uvicorn's: it starts the graceful shutdown).
    Only in the main thread of a process whose handler is a server's: outside uvicorn
    (a TestClient's thread, Python's default Ctrl-C) it changes nothing and returns
    False."""
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    chained = False
    for sig in STOP_SIGNALS:
        previous = signal.getsignal(sig)
        if not callable(previous) or previous is signal.default_int_handler:
            continue  # no server's handler to chain to
        signal.signal(sig, _chain(loop, callback, previous))
        chained = True
    return chained


def _chain(
    loop: asyncio.AbstractEventLoop,
    callback: Callable[[], None],
    previous: Callable[[int, FrameType | None], object],
) -> Callable[[int, FrameType | None], None]:
    def handler(signum: int, frame: FrameType | None) -> None:
        # A signal handler runs between two bytecodes of the main thread, maybe inside
        # the queue's lock: the callback runs in the loop, as an ordinary call.
        with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to tell
            loop.call_soon_threadsafe(callback)
        previous(signum, frame)

    return handler
