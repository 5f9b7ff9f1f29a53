"""The event database: one SQLite file per event, opened per request through sqlite-utils."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask, current_app, g
from sqlite_utils import Database

from checkin.schema import migrations
from checkin.security.files import create_private


def _casefold(value: object) -> object:
    return value.casefold() if isinstance(value, str) else value


def connect(path: str | Path) -> Database:
    """Open the event database at `path`, creating and migrating it if needed."""
    # The file holds names, e-mails and the session secret: 0600 from its first byte.
    create_private(Path(path))
    # One connection per thread: sqlite3 refuses to share one across Flask's threads.
    conn = sqlite3.connect(str(path), timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL is durable against application crashes in WAL mode and much faster than FULL.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
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
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.conn.rollback()
            raise
        db.conn.execute("COMMIT")


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
    """Return this request's connection: the server thread's kept-open one."""
    if "db" not in g:
        # Opening a connection costs about 2 ms (WAL set-up, schema, migration check) and
        # closing the last one checkpoints the WAL: more than a whole scan's budget. So each
        # server thread keeps its own connection (sqlite3 refuses to share one across
        # threads); the pool lives on the app, not in a module.
        pool = current_app.extensions[POOL]
        db = getattr(pool, "db", None)
        if db is None:
            db = pool.db = connect(current_app.config["DATABASE"])
            db.write_lock = current_app.extensions[WRITE_LOCK]  # type: ignore[attr-defined]
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
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


@click.command("init-db")
def init_db_command() -> None:
    """Create or migrate the event database.

    Example: flask --app checkin init-db
    """
    connect(current_app.config["DATABASE"]).conn.close()
    click.echo(f"Database ready: {current_app.config['DATABASE']}")


def init_app(app: Flask) -> None:
    """Register the database teardown and command with the app."""
    app.extensions[POOL] = threading.local()
    app.extensions[WRITE_LOCK] = threading.Lock()
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
