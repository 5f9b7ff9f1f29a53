"""The event database: one SQLite file per event, opened per request through sqlite-utils."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app, g
from sqlite_utils import Database

from checkin.offload import cooperative
from checkin.schema import migrations
from checkin.security.files import create_private

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


def now_iso(moment: datetime | None = None) -> str:
    """Return `moment` (default: now) as a sortable UTC ISO 8601 string with milliseconds."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


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


POOL = "checkin.db.connections"
WRITE_LOCK = "checkin.db.write_lock"


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
    app.extensions[WRITE_LOCK] = threading.Lock()
    app.teardown_appcontext(close_db)
