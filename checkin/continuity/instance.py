"""The server instance id: when it changes (a restore), devices re-send what they sent lately."""

from __future__ import annotations

import secrets

from flask import Flask, current_app, request
from sqlite_utils import Database

from checkin.core.db import get_db, get_meta, set_meta, writing

META_KEY = "instance_id"
HEADER = "X-Checkin-Instance"
CACHE = "checkin.continuity.instance"


def instance_id(db: Database) -> str:
    """Return the event database's instance id, making one on first use."""
    value = get_meta(db, META_KEY)
    if value is None:
        with writing(db):
            if get_meta(db, META_KEY) is None:
                set_meta(db, META_KEY, secrets.token_hex(8))
            value = get_meta(db, META_KEY)
    return value  # type: ignore[return-value]


def new_instance(db: Database) -> str:
    """Give the database a new instance id (a restored event is a new instance) and return it."""
    value = secrets.token_hex(8)
    with writing(db):
        set_meta(db, META_KEY, value)
    return value


def current_instance() -> str:
    """Return the instance id of the app's database (read once: a served file is never restored)."""
    cached = current_app.extensions.get(CACHE)
    if cached is None:
        cached = current_app.extensions[CACHE] = instance_id(get_db())
    return cached


def _add_header(response):  # type: ignore[no-untyped-def]
    # Every API answer carries it, so a device notices a restored server on its next request.
    if request.path.startswith("/api/"):
        try:
            response.headers[HEADER] = current_instance()
        except Exception:  # a full disk or a busy file must not turn an answer into a 500
            current_app.logger.exception("cannot read the instance id")
    return response


def init_app(app: Flask) -> None:
    """Add the instance header to every API answer."""
    app.after_request(_add_header)
