"""Live: the /live Socket.IO push, the room dashboard and the organisers' overview."""

from __future__ import annotations

from flask import Blueprint, Flask

from checkin.extensions import socketio
from checkin.security.permissions import organiser_required


def register(app: Flask) -> None:
    """Give the app its publisher, the /live namespace and the live pages."""
    from checkin import socket_guard as guard
    from checkin.live import socket, views
    from checkin.live.publisher import EXTENSION, NAMESPACE, Publisher

    app.extensions[EXTENSION] = Publisher(app, socketio)
    socket.register(socketio)
    app.extensions[guard.EXTENSION] = guard.SessionGuard(
        socketio.server, NAMESPACE,
        auth_seconds=app.config.get("SOCKET_AUTH_SECONDS", guard.AUTH_SECONDS),
        per_address=app.config.get("SOCKET_MAX_PER_ADDRESS", guard.PER_ADDRESS))

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
