"""Work off the request path: one daemon thread per worker name, fed through a queue.

Printing a badge renders a PDF and runs `lp`; neither may hold a request (and with it one
of the server's threads) for that long. Issue 9's offload helper can replace this module.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Worker:
    """A single background thread that runs submitted calls one after the other."""

    def __init__(self, name: str):
        self.name = name
        self._queue: queue.Queue[tuple[Callable[..., Any], tuple[Any, ...]]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run fn(*args) in the worker's thread, after what was submitted before."""
        with self._lock:
            # Started on first use: under gunicorn that is in the worker process, after the fork.
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
        self._queue.put((fn, args))

    def join(self) -> None:
        """Wait until everything submitted so far has run (for tests and shutdown)."""
        self._queue.join()

    def _run(self) -> None:
        while True:
            fn, args = self._queue.get()
            try:
                fn(*args)
            except Exception:  # one failed job must not stop the ones after it
                log.exception("background job %s failed", getattr(fn, "__name__", fn))
            finally:
                self._queue.task_done()
