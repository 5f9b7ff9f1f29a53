"""A server (or any process a test starts) that fails to start leaves no process behind:
not the server, not its gunicorn worker, not its keeper."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests import processes
from tests.conftest import LiveServer, free_port

pytestmark = pytest.mark.server

BANNER_END = "Stop with Ctrl+C."


def left_behind(mark: str) -> list[str]:
    """Return the command lines of running processes that mention `mark` (a test's folder)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if mark in cmdline and state not in "ZX":
            found.append(cmdline.strip())
    return found


class Deliberate(Exception):
    """Raised by the test's readiness check, as an interrupt or a broken check would be."""


class FailsOnceUp(LiveServer):
    """A server whose start-up check gives up (times out, or raises) only once the server
    is fully up, with its worker and keeper running: the hardest case to clean up."""

    def __init__(self, *args, raise_instead: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.raise_instead = raise_instead
        self.seen: list[str] = []

    def ready(self) -> bool:
        if BANNER_END in self.log_path.read_text(errors="replace"):
            # The banner may come a moment before the worker is forked or the keeper started
            # (a loaded machine): give up only once both run, as the test means.
            deadline = time.monotonic() + 20
            while True:
                self.seen = left_behind(str(self.db_path))
                if (sum(" serve " in c for c in self.seen) >= 2
                        and any("checkin.continuity.keeper" in c for c in self.seen)) \
                        or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            if self.raise_instead:
                raise Deliberate
            self.start_timeout = 0  # time is up now
        return False


@pytest.mark.parametrize("raise_instead", [False, True], ids=["times_out", "raises"])
def test_a_server_that_fails_to_start_leaves_no_process(db_path, tmp_path, raise_instead):
    server = FailsOnceUp(db_path, free_port(), tmp_path / "s.log", start_timeout=60,
                         raise_instead=raise_instead)
    with pytest.raises(Deliberate if raise_instead else RuntimeError):
        server.start()
    # It had a server, a worker and the keeper; none of them is left, at once.
    assert any("checkin.continuity.keeper" in c for c in server.seen), server.seen
    assert sum(" serve " in c for c in server.seen) >= 2, server.seen
    assert left_behind(str(db_path)) == []


def test_a_server_refused_at_start_leaves_no_process(db_path, tmp_path):
    queue = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    server = LiveServer(db_path, free_port(), tmp_path / "s.log",
                        ("--http", "--host", "127.0.0.1", "--message-queue", queue))
    with pytest.raises(RuntimeError, match="does not answer"):
        server.start()
    assert left_behind(str(db_path)) == []


def test_what_a_test_left_running_is_stopped_with_its_whole_tree(tmp_path):
    """The last line (run after every test): a process and its child in a session of its own
    (as the keeper is), left running by a test."""
    tag = str(tmp_path)
    child = "import sys, time; time.sleep(300)"
    parent = ("import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
              f"{child!r}, sys.argv[1]], start_new_session=True); time.sleep(300)")
    mark = processes.spawned()
    proc = processes.spawn([sys.executable, "-c", parent, tag])
    deadline = time.monotonic() + 20
    while len(left_behind(tag)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(left_behind(tag)) == 2
    assert processes.stop_spawned_since(mark) == [[str(a) for a in proc.args]]
    assert left_behind(tag) == []
    assert processes.stop_spawned_since(mark) == []  # each is stopped once
