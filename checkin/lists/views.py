"""The paper lists as a download for organisers, in the page's language."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, request
from flask_babel import get_locale

from checkin.core import clock
from checkin.core.db import get_db
from checkin.lists import build_pdf
from checkin.security.permissions import organiser_required


def lists_pdf() -> Response:
    """The lists as a PDF; ?arrived=1 marks who has already arrived."""
    arrived = request.args.get("arrived") == "1"
    data = build_pdf(get_db(), str(get_locale() or "en"), arrived=arrived)
    stamp = clock.stamp(fmt="%Y%m%d-%H%M")
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="lists-{stamp}.pdf"',
        "Cache-Control": "no-store, private"})


def register(app: Flask) -> None:
    """Register the download."""
    bp = Blueprint("lists", __name__)
    bp.add_url_rule("/lists.pdf", view_func=organiser_required(lists_pdf))
    app.register_blueprint(bp)
