"""The device API (/api/v1): translates HTTP and JSON to the device and scan domain, and back.

Devices authenticate with `Authorization: Bearer <token>`; a signed-in organiser's session
works too, and then every POST must carry the page's CSRF token in `X-CSRFToken`.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app, request

from checkin import devices
from checkin.api import PREFIX, ApiError, actor, api_blueprint, domain_error, json_body
from checkin.continuity.instance import current_instance
from checkin.core.clock import now_iso
from checkin.core.db import get_db
from checkin.core.event import event_info
from checkin.core.permissions import (
    CHECKPOINTS,
    HEADCOUNTS,
    IDENTIFY,
    PEOPLE,
    SCAN,
    UNDO,
    require,
)
from checkin.core.places import with_states
from checkin.core.pool import run_pooled
from checkin.http.signals import send
from checkin.scans import (
    checkpoint_headcount,
    find_people,
    get_scan,
    headcounts,
    record_scans,
    roster_json,
    undo_scan,
    visible_checkpoints,
)
from checkin.scans.signals import rollcall_changed, scan_corrected, scans_recorded

PATHS = ("/pair", "/me", "/scans", "/checkpoints", "/headcounts", "/participants", "/roster")
UNDO_PATH = re.compile(r"^/api/v1/scans/[^/]+/undo$")
def pair() -> Any:
    """Exchange a one-time pairing code for the device's token."""
    code = json_body().get("code")
    if not isinstance(code, str) or not code:
        raise ApiError("bad_field.pairing_code")
    paired = devices.pair(get_db(), code)
    if paired is None:
        raise ApiError("unknown_pairing_code")
    token, device = paired
    return {"token": token, "device": device}


def me() -> Any:
    """Say which device (or organiser) is calling, and which event this is."""
    who = actor()
    require(who, IDENTIFY)
    # instance: a restored server has a new one; devices then re-send their recent scans.
    return {"device": devices.public(who), "event": event_info(get_db()),
            "instance": current_instance()}


def post_scans() -> Any:
    """Record a batch of scans and answer each, plus the last checkpoint's headcount."""
    who = actor()
    # A kiosk checks people in only through /api/v1/kiosk/check-in, never here.
    require(who, SCAN)
    body = json_body()
    db = get_db()
    recorded = record_scans(db, who, body.get("scans"))
    if recorded.stored:
        send(scans_recorded, scans=recorded.stored)
    for rollcall_id in sorted(recorded.rollcalls):  # marshals' scans at an assembly point
        send(rollcall_changed, rollcall_id=rollcall_id)
    return {"results": recorded.results,
            "headcount": checkpoint_headcount(db, body["scans"][-1]["checkpoint"]),
            "server_time": now_iso()}


def undo(scan_id: str) -> Any:
    """Void one of the caller's scans (idempotent)."""
    who = actor()
    require(who, UNDO)
    db = get_db()
    try:
        correction, new = undo_scan(db, who, scan_id)
    except LookupError:
        raise ApiError("unknown_scan") from None
    if new:
        send(scan_corrected, correction=correction, scan=get_scan(db, scan_id))
    return {"id": scan_id, "undone": True}


def checkpoints() -> Any:
    """List the checkpoints the caller may scan at (displays and organisers: all)."""
    who = actor()
    require(who, CHECKPOINTS)
    return {"checkpoints": visible_checkpoints(get_db(), who)}


def get_headcounts() -> Any:
    """Every checkpoint's headcount, how many arrived and how many are registered."""
    require(actor(), HEADCOUNTS)
    # With each place's fullness, exactly as the live dashboards get it.
    return with_states(headcounts(get_db()))


def participants() -> Any:
    """Find people by name for a manual check-in (at most 20; no e-mail, no code)."""
    who = actor()
    require(who, PEOPLE)
    return {"participants": find_people(get_db(), who, request.args.get("q", ""))}


def get_roster() -> Any:
    """The encrypted offline roster the caller may hold."""
    who = actor()
    require(who, PEOPLE)
    # Sealed in a pool worker: a roster of 5,000 people held the door's loop for 0.17 s. Long
    # work: the first one of an event derives every last name's slow hash (docs/security.md),
    # and the summary must not wait for that.
    return Response(run_pooled(roster_json, current_app.config["DATABASE"], who, long=True),
                    mimetype="application/json")


def not_found(rest: str = "") -> Any:
    """Answer unknown API addresses (and known ones with a wrong method) in JSON."""
    path = request.path.rstrip("/")
    if path[len(PREFIX):] in PATHS or UNDO_PATH.match(path):
        return domain_error(ApiError("method_not_allowed"))
    return domain_error(ApiError("not_found.api"))


def register(app: Flask) -> None:
    """Create the API blueprint, attach its rules and error handlers, register it."""
    bp = api_blueprint("api")
    bp.add_url_rule("/pair", view_func=pair, methods=["POST"])
    bp.add_url_rule("/me", view_func=me)
    bp.add_url_rule("/scans", view_func=post_scans, methods=["POST"])
    bp.add_url_rule("/scans/<scan_id>/undo", view_func=undo, methods=["POST"])
    bp.add_url_rule("/checkpoints", view_func=checkpoints)
    bp.add_url_rule("/headcounts", view_func=get_headcounts)
    bp.add_url_rule("/participants", view_func=participants)
    bp.add_url_rule("/roster", view_func=get_roster)
    bp.add_url_rule("/", view_func=not_found, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    bp.add_url_rule("/<path:rest>", view_func=not_found,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    app.register_blueprint(bp)
