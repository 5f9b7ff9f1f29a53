"""checkin: the check-in and on-site logistics server for meetings."""

from __future__ import annotations

import hashlib
import os
import secrets
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from checkin.core import db
from checkin.core.paths import STATIC, TEMPLATES, TRANSLATIONS, default_database
from checkin.live.frames import DeclineCompression
from checkin.security import web as security_web
from checkin.web import i18n, routes
from checkin.web.extensions import babel, csrf, socketio


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


def live_server_options(config: dict[str, Any]) -> dict[str, Any]:
    """Return the Socket.IO server's options: concurrency model, message queue, timeouts."""
    import socketio as python_socketio

    queue = config.get("MESSAGE_QUEUE")
    if queue:
        # One channel per event (all of its servers share the secret key): several events
        # may share one Redis without seeing each other's pushes.
        digest = hashlib.sha256(b"checkin-channel:" + config["SECRET_KEY"].encode())
        manager = python_socketio.RedisManager(queue, channel="checkin-" + digest.hexdigest()[:16])
    else:
        # Given explicitly: Flask-SocketIO keeps options between init_app calls.
        manager = python_socketio.Manager()
    return {
        # Explicit: with gevent merely installed, Flask-SocketIO would silently pick it.
        "async_mode": config.get("ASYNC_MODE", "threading"),
        "client_manager": manager,
        # A client that stops answering is dropped after at most 15 + 10 seconds, freeing
        # its slot; a phone on flaky Wi-Fi reconnects and catches up (see docs/live.md).
        "ping_interval": config.get("SOCKET_PING_INTERVAL", 15),
        "ping_timeout": config.get("SOCKET_PING_TIMEOUT", 10),
        # Clients send only small messages (join, catch_up); the default is 1 MB.
        "max_http_buffer_size": 64 * 1024,
    }
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
    socketio.init_app(app, cors_allowed_origins=app.config.get("SOCKETIO_CORS"),
                      **live_server_options(app.config))
    app.wsgi_app = DeclineCompression(app.wsgi_app)  # type: ignore[method-assign]
    security_web.trust_proxies(app)
    routes.register(app)
    # [continuity] faults, instance id, replica status; the paper lists
    from checkin.continuity import views as continuity
    from checkin.lists import views as lists

    continuity.init_app(app)
    lists.register(app)

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
