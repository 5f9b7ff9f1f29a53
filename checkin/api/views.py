"""The device API (/api/v1): translates HTTP and JSON to the device and scan domain, and back.

Devices authenticate with `Authorization: Bearer <token>`; a signed-in organiser's session
works too, and then every POST must carry the page's CSRF token in `X-CSRFToken`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Blueprint, Flask, jsonify, request
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from checkin import devices
from checkin.auth.views import current_organiser
from checkin.continuity.instance import current_instance
from checkin.core.clock import now_iso
from checkin.core.db import get_db
from checkin.core.errors import DomainError, say
from checkin.core.event import event_info
from checkin.core.places import with_states
from checkin.scans import (
    checkpoint_headcount,
    find_people,
    get_scan,
    headcounts,
    organiser_actor,
    record_scans,
    roster,
    undo_scan,
    visible_checkpoints,
)
from checkin.scans.signals import scan_corrected, scans_recorded
from checkin.security.permissions import (
    CHECKPOINTS,
    HEADCOUNTS,
    IDENTIFY,
    PEOPLE,
    SCAN,
    UNDO,
    require,
)
from checkin.web.extensions import csrf
from checkin.web.signals import send  # noqa: F401 (also importable from here, as before)

MAX_BODY = 1024 * 1024
#: On a refused device token: the device deletes everything it stored.
WIPE_HEADER = "X-Checkin-Wipe"
#: Every API answer carries the server's time: device pages keep their clock's offset by it.
TIME_HEADER = "X-Checkin-Time"
PREFIX = "/api/v1"
PATHS = ("/pair", "/me", "/scans", "/checkpoints", "/headcounts", "/participants", "/roster")
UNDO_PATH = re.compile(r"^/api/v1/scans/[^/]+/undo$")
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "body_too_large", 500: "internal_error"}


class ApiError(DomainError):
    """An answer other than success, from the error catalogue (checkin.core.errors)."""


def error_response(status: int, code: str, message: Any) -> Any:
    """Return the API's error shape with `status` (the message in the caller's language)."""
    response = jsonify({"error": {"code": code, "message": str(message)}})
    response.status_code = status
    return response


def actor() -> dict[str, Any]:
    """Return who is calling: the device of the bearer token, or the signed-in organiser."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, token = header.strip().partition(" ")
        device = devices.authenticate(get_db(), token.strip()) \
            if scheme.lower() == "bearer" else None
        if device is None:
            raise ApiError("bad_token")
        return device
    username = current_organiser()
    if username is None:
        raise ApiError("no_token")
    if request.method == "POST":
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise ApiError("bad_csrf_token") from None
    return organiser_actor(username)


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or answer 400 bad_json (413 when over 1 MB)."""
    data = request.get_data(cache=True)
    if not data:
        # Also what a chunked body without Content-Length looks like: Werkzeug refuses to
        # read a stream of unknown length.
        raise ApiError("bad_json.empty")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise ApiError("bad_json.invalid") from None
    if not isinstance(body, dict):
        raise ApiError("bad_json.not_object")
    return body


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
    return roster(get_db(), who)


def not_found(rest: str = "") -> Any:
    """Answer unknown API addresses (and known ones with a wrong method) in JSON."""
    path = request.path.rstrip("/")
    if path[len(PREFIX):] in PATHS or UNDO_PATH.match(path):
        return _domain_error(ApiError("method_not_allowed"))
    return _domain_error(ApiError("not_found.api"))


def _limit_body() -> None:
    # The app allows 10 MB for CSV uploads; devices never need more than 1 MB.
    request.max_content_length = MAX_BODY


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    # Set last, so that it is as close as can be to the moment the answer leaves.
    response.headers[TIME_HEADER] = now_iso()
    return response


def _domain_error(exc: DomainError) -> Any:
    # The one place a domain error becomes an HTTP answer, in the caller's language.
    response = error_response(exc.status, exc.code, exc.text)
    if exc.code == "bad_token":
        # A revoked (lost) device forgets what it stored: the token, its queue, its roster
        # (static/js/checkin-wipe.js). Not Clear-Site-Data: browsers clear with it at a moment
        # of their choosing, also the tombstone that lets the page say "removed".
        response.headers[WIPE_HEADER] = "storage"
    return response


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    message = say("body_too_large") if status == 413 else (exc.description or "")
    return error_response(status, HTTP_CODES.get(status, "http_error"), message)


def api_blueprint(name: str, url_prefix: str = PREFIX) -> Blueprint:
    """Return a blueprint that answers like the device API: 1 MB bodies, no-store, JSON
    errors, bearer tokens instead of form CSRF (the guide API under /api/v1 uses it too)."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.before_request(_limit_body)
    bp.after_request(_no_store)
    bp.register_error_handler(DomainError, _domain_error)
    bp.register_error_handler(HTTPException, _http_error)
    # Devices authenticate with bearer tokens, not cookies, so form CSRF does not apply;
    # organiser sessions are checked against X-CSRFToken in actor().
    csrf.exempt(bp)
    return bp


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
