"""One server per event: a lock file next to the database, held with flock while `serve` runs.

The kernel drops an flock when its process dies, however it dies, so a lock file whose lock
nobody holds is a crash's leftover (stale) and is taken over; the file's text (host, port, pid,
start time) only tells people which server holds it. Servers that share a message queue see
each other's pushes, so they may run side by side on one database.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from checkin.core.clock import now_iso
from checkin.core.errors import say


class ServerRunning(Exception):
    """Another live server holds the event database, without a message queue shared with us."""

    def __init__(self, holder: dict[str, Any], lock_path: Path):
        self.holder, self.lock_path = holder, lock_path
        super().__init__(describe_refusal(holder, lock_path))


@dataclass
class ServerLock:
    """A held lock (or, beside a server on the same message queue, none) and what it found."""

    path: Path
    handle: TextIO | None
    stale: dict[str, Any] | None  # the crashed server's record, when its lock was taken over
    shared_with: dict[str, Any] | None = None  # the server we run beside on one message queue

    def release(self) -> None:
        """Give the lock up and remove the file (a clean stop leaves nothing behind)."""
        if self.handle is None:
            return
        try:
            self.path.unlink(missing_ok=True)
            fcntl.flock(self.handle, fcntl.LOCK_UN)
        finally:
            self.handle.close()
            self.handle = None


def lock_path(db_path: str | Path) -> Path:
    """Return the lock file of the database at `db_path`: `<name>.server.lock` beside it."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".server.lock")


def queue_fingerprint(message_queue: str | None) -> str | None:
    """Return a short hash of a message queue URL (the file must not carry its password)."""
    if not message_queue:
        return None
    return hashlib.sha256(message_queue.strip().encode()).hexdigest()[:16]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def describe_refusal(holder: dict[str, Any], path: Path) -> str:
    """Return the message for a refused second server: who runs, and what to do."""
    where = f"{holder.get('host', '?')}:{holder.get('port', '?')}"
    return str(say("serve.running", url=holder.get("url") or where,
                   host=str(holder.get("hostname", "?")), pid=str(holder.get("pid", "?")),
                   started=str(holder.get("started", "?")), lock=str(path)))


def acquire(db_path: str | Path, host: str, port: int, url: str | None = None,
            message_queue: str | None = None) -> ServerLock:
    """Take the event's server lock, or raise ServerRunning naming the server that holds it."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fingerprint = queue_fingerprint(message_queue)
    record = {"host": host, "port": port, "url": url, "pid": os.getpid(),
              "hostname": socket.gethostname(),
              "started": now_iso(timespec="seconds"),
              "message_queue": fingerprint}
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        handle = os.fdopen(fd, "r+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read(path)
            handle.close()
            if fingerprint and holder.get("message_queue") == fingerprint:
                return ServerLock(path, None, None, shared_with=holder)
            raise ServerRunning(holder, path) from None
        # The holder may have released and removed the file between our open and our flock:
        # then we hold a lock on a file nobody else will open; start over on the real one.
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if not same:
            handle.close()
            continue
        previous = _read(path)
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps(record, indent=1) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
        return ServerLock(path, handle, previous or None)


def holder(db_path: str | Path) -> dict[str, Any] | None:
    """Return the record of the live server holding the database's lock, or None."""
    path = lock_path(db_path)
    try:
        handle = path.open("r", encoding="utf-8")
    except FileNotFoundError:
        return None
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read(path)
        fcntl.flock(handle, fcntl.LOCK_UN)
        return None
