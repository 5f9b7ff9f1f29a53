"""Continuity on the web: the disk-full answer, the instance header, and the replica's status."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template
from flask_babel import format_timedelta

from checkin.auth import organiser_required
from checkin.continuity import faults, instance
from checkin.continuity.status import continuity_status


def _status() -> dict[str, Any]:
    status = continuity_status(current_app.config["DATABASE"])
    age = status["age_seconds"]
    status["ago"] = format_timedelta(timedelta(seconds=-max(age, 0)), add_direction=True,
                                     threshold=1.1) if age is not None else None
    return status


def status_part() -> Response:
    """The replica's status as the overview's small part (its script reloads it)."""
    html = render_template("continuity/_status.html", continuity=_status())
    return Response(html, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """Register the fault handlers, the instance header and the status part."""
    faults.init_app(app)
    instance.init_app(app)
    bp = Blueprint("continuity", __name__)
    bp.add_url_rule("/continuity/status", view_func=organiser_required(status_part))
    app.register_blueprint(bp)
    # The overview's include asks for it; computed only when a page includes it.
    app.context_processor(lambda: {"continuity_status": _status})
