"""Organiser pages of issue 8: erase one participant's personal data, after confirmation."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from checkin.core.db import get_db
from checkin.participants.records import get_participant
from checkin.security.erase import erase_participant
from checkin.security.permissions import organiser_required


@organiser_required
def erase(participant_id: int) -> Any:
    """Ask for confirmation, then erase the person's personal data (their scans stay)."""
    db = get_db()
    person = get_participant(db, participant_id)
    if person is None:
        abort(404)
    if request.method == "POST" and request.form.get("confirm") == "yes":
        erase_participant(db, participant_id)
        flash(_("The personal data of participant #%(id)d is erased. Their scans stay, "
                "anonymous, so every count stays as it was.", id=participant_id))
        return redirect(url_for("participants.index"), 303)
    return render_template("participants/erase.html", person=person), 200, {
        "Cache-Control": "no-store, private"}


def register(app: Flask) -> None:
    """Attach the erasure page to the app."""
    bp = Blueprint("privacy", __name__)
    bp.add_url_rule("/participants/<int:participant_id>/erase", view_func=erase,
                    methods=["GET", "POST"])
    app.register_blueprint(bp)
