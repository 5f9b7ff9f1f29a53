"""The paper lists as a download for organisers, in the page's language."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, request
from flask_babel import get_locale

from checkin.auth import organiser_required
from checkin.core import clock
from checkin.core.offload import run_in_process
from checkin.lists import render_lists


def lists_pdf() -> Response:
    """The lists as a PDF; ?arrived=1 marks who has already arrived."""
    arrived = request.args.get("arrived") == "1"
    # In a process of its own, as badge PDFs: a second of CPU must not hold the door's loop.
    data = run_in_process(render_lists, current_app.config["DATABASE"],
                          str(get_locale() or "en"), arrived)
    stamp = clock.stamp(fmt="%Y%m%d-%H%M")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="lists-{stamp}.pdf"',
        "Cache-Control": "no-store, private"})


def register(app: Flask) -> None:
    """Register the download."""
    bp = Blueprint("lists", __name__)
    bp.add_url_rule("/lists.pdf", view_func=organiser_required(lists_pdf))
    app.register_blueprint(bp)
