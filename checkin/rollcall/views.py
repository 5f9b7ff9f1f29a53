"""The roll call API (/api/v1/rollcall, /api/v1/excursions/<id>/rollcall) and the missing
list's PDF (/rollcall/<id>/missing.pdf): they translate HTTP to checkin.rollcall and back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app, request

from checkin import rollcall
from checkin.api import actor, api_blueprint, json_body
from checkin.auth import current_organiser, organiser_required
from checkin.core.clock import now_iso
from checkin.core.db import get_db
from checkin.core.errors import current_language
from checkin.core.offload import run_blocking
from checkin.core.permissions import ROLLCALL, organiser_actor, require
from checkin.http.signals import send
from checkin.rollcall.pdf import missing_pdf
from checkin.scans import rollcall as rules
from checkin.scans.rollcall import RUNNING, STARTED
from checkin.scans.signals import rollcall_changed


def _changed(rollcall_id: str) -> None:
    send(rollcall_changed, rollcall_id=rollcall_id)


def _read(who: dict[str, Any], rollcall_id: str) -> dict[str, Any]:
    return rollcall.view_for(get_db(), who, rollcall_id, current_language())


def get_rollcall() -> Any:
    """The running venue roll call (else the latest), or the one `?id=` names."""
    who = actor()
    wanted = request.args.get("id")
    return {"rollcall": rollcall.read(get_db(), who, wanted, current_language())}


def _started(who: dict[str, Any], row: dict[str, Any], what: str) -> Any:
    """Answer a start: 201 when it started, else 200 with the same or the running one."""
    body = {"rollcall": _read(who, row["id"]), "running_already": what == RUNNING}
    if what != STARTED:
        return body
    _changed(row["id"])
    return body, 201


def post_rollcall() -> Any:
    """Start the venue roll call (exactly once by its id); 200 with the running one."""
    who = actor()
    return _started(who, *rollcall.start(get_db(), who, json_body()))


def post_accounts(rollcall_id: str) -> Any:
    """Account for people in a roll call, each account exactly once by its id."""
    who = actor()
    results = rollcall.account(get_db(), who, rollcall_id, json_body())
    if any(r["status"] != "duplicate" for r in results):
        _changed(rollcall_id)
    return {"results": results, "rollcall": _read(who, rollcall_id)}


def post_end(rollcall_id: str) -> Any:
    """End a roll call, now or at the body's `at` (again: nothing changes)."""
    who = actor()
    body = json_body() if request.get_data(cache=True) else {}
    row = rollcall.end(get_db(), who, rollcall_id, body)
    _changed(row["id"])
    return {"rollcall": _read(who, row["id"])}


def get_snapshot() -> Any:
    """Who is present now, for a marshal's phone to start and look up badges offline."""
    who = actor()
    return {"taken_at": now_iso(),
            "people": rollcall.snapshot_people(get_db(), who, current_language())}


def excursion_rollcall(excursion_id: str) -> Any:
    """GET: the excursion's running (else latest) roll call; POST: start it (expected: who
    departed with the bus)."""
    who = actor()
    db = get_db()
    if request.method == "GET":
        return {"rollcall": rollcall.excursion_rollcall(db, who, excursion_id,
                                                        current_language())}
    return _started(who, *rollcall.start(db, who, json_body(), excursion_id=excursion_id))


@organiser_required
def missing_list(rollcall_id: str) -> Response:
    """The missing list as a PDF, built off the event loop on a connection of its own."""
    # The organiser's actor: organiser_required has let only organisers through.
    who = organiser_actor(current_organiser() or "")
    require(who, ROLLCALL)
    if rules.get_rollcall(get_db(), rollcall_id) is None:
        abort(404)
    data = run_blocking(missing_pdf, current_app.config["DATABASE"], rollcall_id,
                        current_language())
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="missing-{rollcall_id[:8]}.pdf"',
        "Cache-Control": "no-store, private"})


def register(app: Flask) -> None:
    """Register the roll call API and the missing list's PDF."""
    bp = api_blueprint("rollcall_api")
    bp.add_url_rule("/rollcall", view_func=get_rollcall)
    bp.add_url_rule("/rollcall", view_func=post_rollcall, methods=["POST"],
                    endpoint="post_rollcall")
    bp.add_url_rule("/rollcall/snapshot", view_func=get_snapshot)
    bp.add_url_rule("/rollcall/<rollcall_id>/accounts", view_func=post_accounts,
                    methods=["POST"])
    bp.add_url_rule("/rollcall/<rollcall_id>/end", view_func=post_end, methods=["POST"])
    bp.add_url_rule("/excursions/<excursion_id>/rollcall", view_func=excursion_rollcall,
                    methods=["GET", "POST"])
    app.register_blueprint(bp)
    pages = Blueprint("rollcall_pdf", __name__)
    pages.add_url_rule("/rollcall/<rollcall_id>/missing.pdf", view_func=missing_list)
    app.register_blueprint(pages)
