"""Live: the /live Socket.IO push, the room dashboard and the organisers' overview."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from flask import Blueprint, Flask

from checkin.security.permissions import organiser_required
from checkin.web.extensions import socketio


def register(app: Flask) -> None:
    """Give the app its publisher, the /live namespace and the live pages."""
    from checkin.live import socket, views
    from checkin.live.publisher import EXTENSION, NAMESPACE, Publisher
    from checkin.web import socket_guard as guard

    app.extensions[EXTENSION] = Publisher(app, socketio)
    socket.register(socketio)
    app.extensions[guard.EXTENSION] = guard.SessionGuard(
        socketio.server, NAMESPACE,
        auth_seconds=app.config.get("SOCKET_AUTH_SECONDS", guard.AUTH_SECONDS),
        per_address=app.config.get("SOCKET_MAX_PER_ADDRESS", guard.PER_ADDRESS),
        vouch=lambda environ: vouched(app, environ))

    bp = Blueprint("live", __name__)
    # The dashboard is a shell that shows nothing until /live accepts its token or session.
    bp.add_url_rule("/dashboard", view_func=views.dashboard)
    bp.add_url_rule("/overview", view_func=organiser_required(views.overview))
    bp.add_url_rule("/overview/part/<part>", view_func=organiser_required(views.overview_part))
    bp.add_url_rule("/overview/participants/<int:participant_id>",
                    view_func=organiser_required(views.participant))
    bp.add_url_rule("/overview/scans/<scan_id>", view_func=organiser_required(views.scan))
    bp.add_url_rule("/overview/scans/<scan_id>/<any(void, move):action>",
                    view_func=organiser_required(views.correct_view), methods=["POST"])
    app.register_blueprint(bp)


def vouched(app: Flask, environ: dict[str, Any]) -> bool:
    """Say whether an Engine.IO handshake shows a paired device or a signed-in organiser.

    Pages send their token's SHA-256 as `device` in the query (a browser cannot set headers
    on a WebSocket, and the token itself must not stand in URLs and logs); other clients may
    send `Authorization: Bearer <token>`; an organiser's browser sends its session cookie.
    """
    from checkin.auth.views import current_organiser
    from checkin.core.db import get_db
    from checkin.devices import holds_active_token

    digest = parse_qs(environ.get("QUERY_STRING") or "").get("device", [None])[0]
    bearer = environ.get("HTTP_AUTHORIZATION") or ""
    token = bearer[7:].strip() if bearer[:7].lower() == "bearer " else None
    cookie = app.config.get("SESSION_COOKIE_NAME") or "session"
    if not (digest or token or cookie + "=" in (environ.get("HTTP_COOKIE") or "")):
        return False
    with app.request_context(environ):
        if (digest or token) and holds_active_token(get_db(), token, digest):
            return True
        return current_organiser() is not None
