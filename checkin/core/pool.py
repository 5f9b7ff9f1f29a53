"""Organiser work in warm worker processes: `run_pooled`, `stream_pooled`, `progress`.

The door's process (gevent's one event loop) must never compute a summary, a PDF, an export
or an import: a thread would still share the interpreter lock with the loop, and at 150,000
scans such work held the door for seconds (issue 19). Under gevent this work goes to a small
pool of long-lived child interpreters, started with the server's worker process and kept
warm (a fresh interpreter costs about half a second). A job is a pickled (module-level
function, arguments); the worker answers with frames on its pipe: progress, pieces of a
streamed output, then the result or the exception. Only the calling greenlet waits: the
pipes are gevent's patched ones.

The workers run at the lowest CPU priority (SCHED_IDLE, see CHILD): the door wins every
contested moment of the CPU. A job that is cancelled, or whose reader
goes away mid-stream, has its worker killed; the pool starts a fresh one in its place.

Without gevent (the tests' threaded server, the command line) the caller has a thread of
its own and the function runs right there, as before.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from checkin.core.offload import cooperative

T = TypeVar("T")

# Three workers: two for long work (files, streams, jobs) at idle priority, and one for
# quick work (the summary, the overview, a sign-in's hash), which must never wait behind a
# lists PDF, nor share a core with one on equal terms. Quick work takes a free long worker
# too when its own is busy. More would only queue on the same cores (two on the machine
# this was measured on).
POOL_SIZE = 3
LONG_SLOTS = POOL_SIZE - 1
# Modules a new worker imports before its first job, so that the first summary or PDF
# does not pay for importing reportlab or openpyxl.
WARM = ("checkin.reports", "checkin.lists", "checkin.badges", "checkin.participants.csvfile",
        "openpyxl")
# A worker that grew beyond this while computing (Python keeps freed memory for itself) is
# replaced after its job, so that the pool's memory stays bounded between jobs.
MAX_WORKER_MB = 200
# How often a worker sends progress at most: the page polls about twice a second.
PROGRESS_SECONDS = 0.25
_HEADER = struct.Struct("!I")


class Cancelled(Exception):
    """The job was cancelled: its worker was stopped before it finished."""


class WorkerLost(RuntimeError):
    """The worker process ended before answering (killed, or out of memory)."""


# --- Frames: a 4-byte length, then a pickle ------------------------------------------------

def _write(stream: Any, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _read(stream: Any) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - our own worker's answer, over our own pipe


# --- Progress, from inside a job ------------------------------------------------------------

_local = threading.local()


def progress(done: int, total: int) -> None:
    """Report how far the running job is (`done` of `total` units); a no-op outside a job.

    In a worker it goes to the server as a frame (at most every PROGRESS_SECONDS); in a job
    that runs in a thread (without gevent) it also raises Cancelled once the job is
    cancelled, since a thread cannot be killed.
    """
    report = getattr(_local, "report", None)
    if report is not None:
        report(done, total)


def set_reporter(report: Callable[[int, int], None] | None) -> None:
    """Route this thread's `progress` calls to `report` (None: nowhere)."""
    _local.report = report


# --- The worker -----------------------------------------------------------------------------

def worker_main() -> None:
    """Run as a worker: answer jobs from stdin until it closes."""
    # Frames go out on a private copy of stdout; a job's own prints land on stderr.
    frames = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    jobs = sys.stdin.buffer
    for name in WARM:
        importlib.import_module(name)
    last = [0.0]

    def report(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last[0] >= PROGRESS_SECONDS:
            last[0] = now
            _write(frames, ("progress", (done, total)))

    set_reporter(report)
    while True:
        try:
            stream, fn, args = _read(jobs)
        except EOFError:
            return
        try:
            result = fn(*args)
            if stream:
                for chunk in result:
                    _write(frames, ("chunk", chunk))
                result = None
            answer = ("done", result)
        except Exception as exc:  # every failure goes back to the caller, who raises it
            answer = ("error", exc)
        try:
            _write(frames, answer)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _write(frames, ("error", RuntimeError(f"{fn.__qualname__}: {answer[1]!r} ({exc})")))


# The worker's interpreter: its priority first (its imports are work too), then the loop.
# A long worker runs at idle priority: only when the server's requests leave a core idle
# (pools it starts inherit this). With nice 10 a badge PDF still took about a tenth of a
# busy core, which was enough to push 10 scanning devices' p99 from 14 ms to 74 ms while
# 1,000 badges rendered. The quick worker runs at nice 19, which against the door's nice 0
# is about 1.5 % of a contended core, but against the long workers' idle priority about 80 %:
# the summary (50-100 ms of work) no longer takes three times as long while two PDFs render.
CHILD = """
import os, sys
os.nice(19)
if sys.argv[1] == "long":
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
from checkin.core.pool import worker_main
worker_main()
"""


class Worker:
    """One long-lived child interpreter and its two pipes; `long` ones run at idle priority."""

    def __init__(self, long: bool) -> None:
        import subprocess  # gevent's cooperative one, under gevent

        self.long = long
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, "long" if long else "quick"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    @property
    def pid(self) -> int:
        """The worker's process id."""
        return self.proc.pid

    def resident_mb(self) -> float:
        """The worker's resident memory in MB (0 when unknown)."""
        try:
            pages = int(open(f"/proc/{self.pid}/statm").read().split()[1])  # noqa: SIM115
        except (OSError, ValueError, IndexError):
            return 0.0
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20

    def kill(self) -> None:
        """Stop the worker at once and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                pipe.close()


class Pool:
    """LONG_SLOTS long workers and the rest quick; a job waits (cooperatively) for a free one."""

    def __init__(self, size: int = POOL_SIZE) -> None:
        from gevent.queue import Queue

        # Free workers of each kind (see POOL_SIZE).
        self.idle: dict[bool, Any] = {True: Queue(), False: Queue()}
        self.workers: list[Worker] = []
        for n in range(size):
            self._add(long=n < LONG_SLOTS)

    def _add(self, long: bool) -> None:
        worker = Worker(long)
        self.workers.append(worker)
        self.idle[long].put(worker)

    def replace(self, worker: Worker) -> None:
        """Kill `worker` (mid-job, or dead) and start a fresh one of its kind in its place."""
        worker.kill()
        if worker in self.workers:
            self.workers.remove(worker)
        self._add(worker.long)

    def _take(self, long: bool) -> Worker:
        """A free worker for the job: a long one for long work; for quick work the quick one,
        else any long one that is free, else the quick one when it is free again."""
        if long:
            return self.idle[True].get()
        for kind in (False, True):
            if not self.idle[kind].empty():
                return self.idle[kind].get()
        return self.idle[False].get()

    def close(self) -> None:
        """Stop every worker (the server is stopping)."""
        for worker in list(self.workers):
            worker.kill()
        self.workers.clear()

    def frames(self, stream: bool, fn: Callable[..., Any], args: tuple[Any, ...],
               started: Callable[[Worker], None] | None = None,
               long: bool = False) -> Iterator[tuple[str, Any]]:
        """Send one job to a free worker (a long one for `long` work) and yield its frames up
        to the last one."""
        worker = self._take(long)
        finished = False
        try:
            if started is not None:
                started(worker)
            _write(worker.proc.stdin, (stream, fn, args))
            while True:
                try:
                    kind, value = _read(worker.proc.stdout)
                except EOFError:
                    raise WorkerLost(f"the worker running {fn.__qualname__} ended") from None
                if kind in ("done", "error"):
                    finished = True
                yield kind, value
                if finished:
                    return
        except (BrokenPipeError, OSError) as exc:
            raise WorkerLost(f"the worker running {fn.__qualname__} ended") from exc
        finally:
            # A job left half done (cancelled, its reader gone, its worker dead): that
            # worker's state is unknown, so it is replaced; so is one grown too big.
            if finished and worker.resident_mb() <= MAX_WORKER_MB:
                self.idle[worker.long].put(worker)
            else:
                self.replace(worker)


_pool: Pool | None = None


def close_pool() -> None:
    """Stop this process's pool workers, if it started any (the server is stopping)."""
    global _pool
    found, _pool = _pool, None
    if found is not None:
        found.close()


def pool() -> Pool:
    """Return this process's pool, starting it on first use."""
    global _pool
    if _pool is None:
        import atexit

        _pool = Pool()
        atexit.register(close_pool)
    return _pool


def _answer(frames: Iterator[tuple[str, Any]],
            on_progress: Callable[[int, int], None] | None) -> Any:
    """Follow a job's frames to its result, passing progress on; raise what it raised."""
    # Closed at once, also when raising: an unfinished generator would keep its worker
    # out of the pool until the garbage collector found it.
    with contextlib.closing(frames):  # type: ignore[type-var]
        for kind, value in frames:
            if kind == "progress" and on_progress is not None:
                on_progress(*value)
            elif kind == "error":
                raise value
            elif kind == "done":
                return value
    raise WorkerLost("no answer")  # pragma: no cover - frames end with done or error


def run_pooled(fn: Callable[..., T], *args: Any,
               on_progress: Callable[[int, int], None] | None = None,
               started: Callable[[Worker], None] | None = None, long: bool = False) -> T:
    """Run `fn(*args)` in a pool worker (under gevent) and return its result.

    `fn` is a module-level function; its arguments and result are picklable (pass the
    database path, not a connection). `on_progress(done, total)` hears its `progress` calls;
    `started(worker)` learns which worker took the job (so that it can be cancelled).
    `long` work (a file, a job) leaves one worker free for quick work such as the summary.
    """
    if not cooperative():
        previous = getattr(_local, "report", None)
        if on_progress is not None:
            set_reporter(on_progress)
        try:
            return fn(*args)
        finally:
            set_reporter(previous)
    return _answer(pool().frames(False, fn, args, started, long), on_progress)


def stream_pooled(fn: Callable[..., Iterator[T]], *args: Any) -> Iterator[T]:
    """Yield the chunks `fn(*args)` yields, computed in a pool worker (under gevent).

    Constant memory on both sides: one chunk at a time crosses the pipe. Closing the
    iterator early (a download cut off) stops the worker's job. A stream is long work.
    """
    if not cooperative():
        yield from fn(*args)
        return
    with contextlib.closing(pool().frames(True, fn, args, long=True)) as frames:  # type: ignore[type-var]
        for kind, value in frames:
            if kind == "chunk":
                yield value
            elif kind == "error":
                raise value
