"""The tests' own processes (servers, redis-server, cupsd, sshd, nginx): none outlives its test.

Each starts in a session and process group of its own (`spawn`), so that stopping it reaches
its whole tree: gunicorn's workers share its group; the keeper and Litestream run in sessions
of their own and are found through their parents. The tree is looked up in /proc before the
process is stopped, because an orphan loses its link to the process that started it.
`stop_spawned_since` is the last line: conftest runs it after every test, so a process whose
test failed between starting it and its `try` is stopped too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

_spawned: list[subprocess.Popen] = []

# The test being set up, run or torn down (conftest sets it before its fixtures start), so
# that starting a process can check the test says so by its marker.
current_test: Any = None


def require_marker(marker: str, what: str) -> None:
    """Fail the running test if it starts `what` without carrying `marker`."""
    # Unmarked, a test that starts a server or a browser would fall into `-m quick` and
    # make the quick loop slow without anyone noticing.
    test = current_test
    if test is not None and test.get_closest_marker(marker) is None:
        pytest.fail(f"{test.nodeid} starts {what} but is not marked @pytest.mark.{marker}",
                    pytrace=False)


class Stat(NamedTuple):
    """What /proc/<pid>/stat says about a process, as far as stopping it needs."""

    state: str
    ppid: int
    pgrp: int
    session: int
    start: int  # clock ticks after boot: tells a process from a later one with its pid


def _stat(pid: int) -> Stat | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    rest = text[text.rindex(")") + 2:].split()  # the name may hold spaces and brackets
    return Stat(rest[0], int(rest[1]), int(rest[2]), int(rest[3]), int(rest[19]))


def _all() -> dict[int, Stat]:
    found = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := _stat(int(name))) is not None:
            found[int(name)] = stat
    return found


def family(proc: subprocess.Popen) -> dict[int, int]:
    """Return the process and every process below it or in its group or session, as
    pid -> start (orphans included: they keep the group and session)."""
    everyone = _all()
    pid = proc.pid
    if proc.returncode is not None and pid in everyone \
            and everyone[pid].start != getattr(proc, "started", None):
        return {}  # reaped, and its pid already belongs to another process: leave that be
    todo = [pid] + [p for p, s in everyone.items() if pid in (s.pgrp, s.session)]
    found: dict[int, int] = {}
    while todo:
        p = todo.pop()
        if p in found or p not in everyone or p == os.getpid():
            continue
        found[p] = everyone[p].start
        todo += [c for c, s in everyone.items() if s.ppid == p]
    return found


def _running(pid: int, start: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat.start == start and stat.state not in "ZX"


def running(pids: dict[int, int]) -> dict[int, int]:
    """Return those of `pids` (pid -> start) that still run (a zombie has ended)."""
    return {p: s for p, s in pids.items() if _running(p, s)}


def spawn(args: list[str], **kwargs: Any) -> subprocess.Popen:
    """Start a process in a session of its own; stop it with `stop` (else its test does)."""
    require_marker("server", f"a server ({Path(str(args[0])).name})")
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    stat = _stat(proc.pid)  # not reaped yet, so the pid is still this process's
    proc.started = stat.start if stat else None  # type: ignore[attr-defined]
    _spawned.append(proc)
    return proc


def kill(proc: subprocess.Popen, known: dict[int, int] | None = None,
         wait: float = 10.0) -> None:
    """Kill a process and its whole tree at once (SIGKILL), and wait until none of it runs."""
    known = dict(known or {})
    for _ in range(3):  # a dying parent may still have started a child: look again
        known.update(family(proc))
        alive = running(known)
        if not alive and proc.poll() is not None:
            break
        # Frozen first, then killed: none sees another die and acts on it (a keeper's
        # Litestream making a last sync), as when the power goes.
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in alive:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, sig)
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + wait
    while running(known) and time.monotonic() < deadline:
        time.sleep(0.05)


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """Ask a process to stop (SIGTERM, up to `timeout` s), then kill whatever is left of its
    tree: on a clean stop nothing is, after a failed start the workers and keeper may be."""
    known = family(proc)
    if proc.poll() is None:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout)
    kill(proc, known)


def spawned() -> int:
    """Return a mark for `stop_spawned_since`: how many processes were spawned so far."""
    return len(_spawned)


def stop_spawned_since(mark: int) -> list[list[str]]:
    """Stop every process spawned after `mark` (and its tree); return the commands of those
    that still ran."""
    left = []
    for proc in _spawned[mark:]:
        if proc.poll() is None or running(family(proc)):
            left.append([str(a) for a in proc.args])
            stop(proc, timeout=5)
    del _spawned[mark:]
    return left
