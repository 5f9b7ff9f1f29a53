"""The event database: one SQLite file per event, opened per request through sqlite-utils."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from flask import Flask, current_app, g
from sqlite_utils import Database

from checkin.core.files import create_private
from checkin.core.offload import cooperative
from checkin.core.schema import migrations

BUSY_SECONDS = 10


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def connect(path: str | Path) -> Database:
    """Open the event database at `path`, creating and migrating it if needed."""
    # The file holds names, e-mails and the session secret: 0600 from its first byte.
    create_private(Path(path))
    # A connection is used by one request at a time, but not always on the same thread (the
    # app keeps a pool of them, see get_db), so sqlite3's same-thread check is off.
    conn = sqlite3.connect(str(path), timeout=BUSY_SECONDS, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable against application crashes in WAL mode and much faster than FULL.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")
    # SQLite's lower() knows only ASCII; names here have ä, ö, ü, ß and é.
    conn.create_function("casefold", 1, _casefold, deterministic=True)
    db = Database(conn, execute_plugins=False)
    migrations.apply(db)
    return db


@contextmanager
def writing(db: Database) -> Iterator[Database]:
    """Run a block as one write transaction that holds the write lock from its start."""
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    # BEGIN IMMEDIATE takes the lock up front, so a read-then-write block never fails
    # half-way with SQLITE_BUSY when another thread writes at the same moment.
    # The server's threads first queue on the app's lock: the next writer starts the moment
    # the last one commits, where SQLite's busy handler would sleep 1-100 ms between retries
    # (scripts/bench: 10 devices' p99 188 ms without it). Other processes (the command line)
    # still meet SQLite's busy_timeout.
    with getattr(db, "write_lock", None) or nullcontext():
        _begin_immediate(db)
        try:
            yield db
        except BaseException:
            db.conn.rollback()
            raise
        db.conn.execute("COMMIT")


def _begin_immediate(db: Database) -> None:
    """BEGIN IMMEDIATE; on gevent's loop, wait for another process's lock without blocking it.

    SQLite's busy handler sleeps inside C: under gevent that would stop every request of the
    process for as long as another process (a second worker, the command line, an import in
    a real thread) holds the write lock. There the wait is a loop of cooperative sleeps.
    """
    if not getattr(db, "cooperative", False):
        db.conn.execute("BEGIN IMMEDIATE")
        return
    db.conn.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + BUSY_SECONDS
        # Another process holds the lock for a fraction of a millisecond per scan: poll
        # often, backing off only a little.
        pause = 0.0002
        while True:
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(pause)  # gevent's sleep: other greenlets run meanwhile
            pause = min(pause * 2, 0.002)
    finally:
        db.conn.execute(f"PRAGMA busy_timeout={BUSY_SECONDS * 1000}")


def get_meta(db: Database, key: str, default: str | None = None) -> str | None:
    """Return a value from the event's key/value table."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(db: Database, key: str, value: str) -> None:
    """Store a value in the event's key/value table."""
    db.execute(
        "INSERT INTO meta(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


#: Longest wait for the writers' turn before a worker writes anyway (see WriteTurn).
TURN_SECONDS = 1.0


class WriteTurn:
    """Whose turn it is to write among one server's worker processes: a token in a pipe.

    SQLite lets one connection write at a time. Without help, a worker waiting for another
    worker's lock polls with cooperative sleeps (_begin_immediate), while the worker that
    holds it hands it from one of its requests to the next within microseconds: the poller
    rarely gets in, and some scans waited 100 ms (p50 1.5 ms). Here a worker takes the one
    byte from a pipe before BEGIN and puts it back after COMMIT; a waiting worker sleeps in
    the event loop until the byte is there and is woken by the kernel the moment it is
    written, so the workers take turns. SQLite's own lock still guards the data: the token
    only orders the workers. If a worker dies holding it, the others write anyway after
    TURN_SECONDS and put a new one in.
    """

    def __init__(self, fds: tuple[int, int]):
        self.read_fd, self.write_fd = fds

    @classmethod
    def create(cls) -> tuple[int, int]:
        """Make the pipe with its one token (before the workers are forked: they inherit it;
        programs started with exec do not)."""
        read_fd, write_fd = os.pipe()
        os.set_blocking(read_fd, False)
        os.write(write_fd, b"t")
        return read_fd, write_fd

    def take(self) -> bool:
        """Wait for the token and take it; False when TURN_SECONDS passed without it."""
        from gevent.socket import wait_read

        deadline = time.monotonic() + TURN_SECONDS
        while True:
            try:
                if os.read(self.read_fd, 1):
                    return True
            except BlockingIOError:
                pass
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            try:
                wait_read(self.read_fd, timeout=left, timeout_exc=TimeoutError)
            except TimeoutError:
                return False

    def give(self) -> None:
        """Put the token back (or a new one after a timeout), never a second one."""
        waiting = fcntl.ioctl(self.read_fd, termios.FIONREAD, b"\0\0\0\0")
        if int.from_bytes(waiting, "little") == 0:
            os.write(self.write_fd, b"t")


class WriteLock:
    """Where the app's writers queue: this process's requests, then the server's workers."""

    def __init__(self, turn: WriteTurn | None = None):
        self._local = threading.Lock()
        self._turn = turn

    def __enter__(self) -> WriteLock:
        self._local.acquire()
        if self._turn is not None:
            try:
                self._turn.take()
            except BaseException:
                self._local.release()
                raise
        return self

    def __exit__(self, *_exc: object) -> None:
        try:
            if self._turn is not None:
                self._turn.give()
        finally:
            self._local.release()


POOL = "checkin.core.db.connections"
WRITE_LOCK = "checkin.core.db.write_lock"


def get_db() -> Database:
    """Return this request's connection, taken from the app's pool of kept-open ones."""
    if "db" not in g:
        # Opening a connection costs about 2 ms (WAL set-up, schema, migration check) and
        # closing the last one checkpoints the WAL: more than a whole scan's budget. So the
        # app keeps the connections it opened and lends one to each request (a pool, not one
        # per thread: under gevent every request is a greenlet of its own).
        pool: list[Database] = current_app.extensions[POOL]
        try:
            db = pool.pop()
        except IndexError:
            db = connect(current_app.config["DATABASE"])
            db.write_lock = current_app.extensions[WRITE_LOCK]  # type: ignore[attr-defined]
            db.cooperative = cooperative()  # type: ignore[attr-defined]
            # `checkin serve` checkpoints the WAL in a thread of its own and sets this to 0,
            # so that no request pays for a checkpoint's fsync.
            pages = current_app.config.get("SQLITE_WAL_AUTOCHECKPOINT")
            if pages is not None:
                db.conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")
        g.db = db
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    """Hand the connection back; a request never leaves a transaction open for the next."""
    db = g.pop("db", None)
    if db is not None:
        if db.conn.in_transaction:
            db.conn.rollback()
        current_app.extensions[POOL].append(db)


def init_app(app: Flask) -> None:
    """Register the connection pool, the write lock and the teardown with the app."""
    app.extensions[POOL] = []
    # WRITE_TURN: the pipe of `checkin serve --workers N` (N > 1), see WriteTurn.
    fds = app.config.get("WRITE_TURN")
    app.extensions[WRITE_LOCK] = WriteLock(WriteTurn(fds) if fds and cooperative() else None)
    app.teardown_appcontext(close_db)
