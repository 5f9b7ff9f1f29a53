"""Long or CPU-bound work off the server's event loop: `run_blocking(fn, *args)`.

`checkin serve` runs on gevent: every request and every open WebSocket is a greenlet on ONE
event loop, so an idle connection costs no thread. The price is that anything which holds
the loop (rendering a badge PDF, importing thousands of rows, building an Excel file,
talking to a mail server or a printer) stops every other request for as long as it runs.
Work that waits (a printer, a mail server, a hash) goes through `run_blocking`: under
gevent it runs in a real OS thread of gevent's thread pool while only the calling greenlet
waits; without gevent (tests, the threaded
development server, the command line) the caller already has a thread of its own and the
function simply runs. CPU-bound organiser work (summary, exports, PDFs, imports) would still
share the interpreter lock with the loop in a thread: it goes to `checkin.core.pool`'s
worker processes instead.

The function must not use the request's database connection (`get_db`): give it the
database path and let it open its own with `checkin.core.db.connect` (see `with_database`). It
may write: writers on the loop wait for SQLite's lock with cooperative sleeps meanwhile.
Within a request it runs in a copy of the request's context, so translations still work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# Real threads for blocking work that is not CPU-bound (a printer, a mail server): a few are
# enough, and more would only fight over the interpreter lock with the loop. CPU-bound
# organiser work goes to processes instead (checkin.core.pool).
POOL_SIZE = 4


def cooperative() -> bool:
    """Whether this process runs on gevent's event loop (threading monkey-patched)."""
    if "gevent" not in sys.modules:
        return False
    from gevent import monkey

    return monkey.is_module_patched("threading")


def run_blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` in a real thread (under gevent) and return its result."""
    if not cooperative():
        return fn(*args, **kwargs)
    import gevent
    from flask import copy_current_request_context, has_request_context

    if has_request_context():
        # Translations and the organiser's language come from the request; the copied
        # context has its own `g`, so the request's database connection stays here.
        fn = copy_current_request_context(fn)
    hub = gevent.get_hub()
    if hub.threadpool.maxsize < POOL_SIZE:
        hub.threadpool.maxsize = POOL_SIZE
    # apply() waits for the result cooperatively. The exception comes back as a value and is
    # raised here: raised in the pool's thread, gevent's hub would print its traceback in the
    # server's terminal even when the caller handles it (a refused upload is a 422, not a
    # fault), and an unhandled one is logged by Flask anyway.
    result, error = hub.threadpool.apply(_outcome, (fn, args, kwargs))
    if error is not None:
        raise error
    return result


def _outcome(fn: Callable[..., T], args: Any, kwargs: Any
             ) -> tuple[T, None] | tuple[None, Exception]:
    """Call `fn` and return (its result, None), or (None, the exception it raised)."""
    try:
        return fn(*args, **kwargs), None
    except Exception as exc:
        return None, exc


def start_thread(fn: Callable[..., Any], *args: Any, name: str = "checkin") -> None:
    """Start `fn(*args)` in a real daemon OS thread, even when threading is monkey-patched.

    For loops that block in C for a while (the WAL checkpoint's fsync): a greenlet would hold
    the event loop for that time. `fn` must sleep with `real_sleep`, not `time.sleep`.
    """
    if cooperative():
        from gevent import monkey

        # The raw thread starter: the patched threading module would make a greenlet.
        start = monkey.get_original("_thread", "start_new_thread")
        start(fn, args)
        return
    import threading

    threading.Thread(target=fn, args=args, name=name, daemon=True).start()


def real_sleep(seconds: float) -> None:
    """Sleep the OS thread (`time.sleep` becomes a greenlet sleep under gevent)."""
    if cooperative():
        from gevent import monkey

        monkey.get_original("time", "sleep")(seconds)
    else:
        import time

        time.sleep(seconds)
