"""Organiser pages for participants: the list, one person, upload, badges."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request

from checkin.auth.views import organiser_required
from checkin.db import get_db
from checkin.participants.records import search


@organiser_required
def index() -> Any:
    """List participants, searchable by name or organisation."""
    q = request.args.get("q", "")
    return render_template("participants/index.html", people=search(get_db(), q), q=q)


def register(app: Flask) -> None:
    """Attach this module's URL rules (organisers only) and blueprint to the app."""
    bp = Blueprint("participants", __name__)
    bp.add_url_rule("/participants", view_func=index)
    app.register_blueprint(bp)
