"""The paper lists as a download for organisers, in the page's language."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request
from flask_babel import get_locale

from checkin.auth import organiser_required
from checkin.core import clock
from checkin.http.jobs import pooled_file
from checkin.lists.output import lists_file


def lists_pdf() -> Response:
    """The lists as a PDF; ?arrived=1 marks who has already arrived. `GET` downloads it,
    `POST` starts it as a job the page follows (seconds for thousands of people)."""
    arrived = request.args.get("arrived") == "1"
    stamp = clock.stamp(fmt="%Y%m%d-%H%M")
    # In a pool worker: rendering thousands of rows would hold the door's event loop.
    return pooled_file(lists_file, (current_app.config["DATABASE"], str(get_locale() or "en"),
                                    arrived), f"lists-{stamp}.pdf", "application/pdf")


def register(app: Flask) -> None:
    """Register the download."""
    bp = Blueprint("lists", __name__)
    bp.add_url_rule("/lists.pdf", view_func=organiser_required(lists_pdf),
                    methods=["GET", "POST"])
    app.register_blueprint(bp)
