"""One kept-open database connection per server thread for the device API.

Opening a connection per request costs about 2 ms here (WAL setup, schema parsing,
migration check) and closing the last one checkpoints the WAL: more than the whole budget
of a scan (< 3 ms). API requests therefore reuse their thread's connection. The pool lives
on the app (not in a module), one connection per thread, and a connection never carries a
transaction from one request into the next.
"""

from __future__ import annotations

import threading

from flask import Flask, current_app, g
from sqlite_utils import Database

from checkin.db import connect

KEY = "checkin.api.connections"


def init_app(app: Flask) -> None:
    """Give the app its per-thread connection pool."""
    app.extensions[KEY] = threading.local()


def use_kept_connection() -> None:
    """Make this request's get_db() return the thread's kept-open connection."""
    if "db" in g:
        return
    pool = current_app.extensions[KEY]
    db: Database | None = getattr(pool, "db", None)
    if db is None:
        db = pool.db = connect(current_app.config["DATABASE"])
    g.db = db
    g.db_kept = True


def release_kept_connection(_exc: BaseException | None = None) -> None:
    """Take the kept connection back from the request before the app would close it."""
    if g.pop("db_kept", False):
        db = g.pop("db", None)
        if db is not None and db.conn.in_transaction:
            db.conn.rollback()
