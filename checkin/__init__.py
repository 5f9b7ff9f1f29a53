"""checkin: the check-in and on-site logistics server for meetings."""

from __future__ import annotations

import os
import secrets
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from checkin import db, i18n, routes
from checkin.extensions import babel, csrf, socketio
from checkin.paths import STATIC, TEMPLATES, TRANSLATIONS, default_database
from checkin.security import web as security_web


def _secret_key(path: str) -> str:
    """Return the event's session secret, generating it on first run (never in the repo)."""
    conn = db.connect(path)
    try:
        key = db.get_meta(conn, "secret_key")
        if key is None:
            key = secrets.token_urlsafe(48)
            with db.writing(conn):
                db.set_meta(conn, "secret_key", key)
                key = db.get_meta(conn, "secret_key")
        return key  # type: ignore[return-value]
    finally:
        conn.conn.close()


class SqliteInt(IntegerConverter):
    """Werkzeug's int converter, bounded to what SQLite can store (larger ids are 404)."""

    def __init__(self, url_map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002
                 max: int | None = 2**63 - 1, signed: bool = False) -> None:  # noqa: A002
        super().__init__(url_map, fixed_digits, min, max, signed)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Create and configure the checkin app for one event database."""
    app = Flask(__name__, instance_relative_config=True, template_folder=str(TEMPLATES),
                static_folder=str(STATIC))
    app.config.from_mapping(
        DATABASE=os.environ.get("CHECKIN_DB") or str(default_database()),
        # Large enough for a participants CSV; the device API lowers it to 1 MB per request.
        MAX_CONTENT_LENGTH=10 * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        BABEL_DEFAULT_LOCALE="en",
        WTF_CSRF_TIME_LIMIT=None,
        PAIRING_MINUTES=10,
        # How many reverse proxies (docs/https.md) to believe X-Forwarded-* from; 0: none.
        TRUSTED_PROXIES=int(os.environ.get("CHECKIN_TRUSTED_PROXIES") or 0),
    )
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(app.config["DATABASE"])
    # Before any rule is added: ids beyond SQLite's 64-bit integers are 404, not a 500.
    app.url_map.converters["int"] = SqliteInt
    security_web.install(app)
    db.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    csrf.init_app(app)
    # cors_allowed_origins=None keeps Socket.IO's same-origin check ([] would switch it off).
    socketio.init_app(app, async_mode="threading",
                      cors_allowed_origins=app.config.get("SOCKETIO_CORS"))
    routes.register(app)

    @app.after_request
    def security_headers(response):  # type: ignore[no-untyped-def]
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        # same-origin, not no-referrer: over HTTPS Flask-WTF rejects a form POST that
        # carries no Referer ("The referrer header is missing"); other sites still get none.
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: data:; "
            "style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self' ws: wss:; "
            "frame-ancestors 'none'")
        return response

    return app
