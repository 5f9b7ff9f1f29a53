"""The guide API (/api/v1/excursions) and the guide's page (/guide): they translate HTTP to
the excursions domain and back; the decisions are in checkin.excursions."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, request, url_for
from flask_babel import gettext as _

from checkin.api import ApiError, actor, api_blueprint, json_body
from checkin.auth import current_organiser
from checkin.core.clock import parse_device
from checkin.core.db import get_db
from checkin.core.event import event_zone
from checkin.core.permissions import EXCURSION, EXCURSION_EVENTS, OWN, require
from checkin.excursions import (
    event_detail,
    excursion_of,
    excursion_state,
    record_event,
)
from checkin.excursions.signals import excursion_changed
from checkin.http.signals import send
from checkin.scanner import worker_response
from checkin.scanner.marshal import bus_strings
from checkin.scans.access import actor_ref
from checkin.scans.policy import (
    excursion_view,
    guide_walk_on,
    time_allowed,
)

NO_STORE = {"Cache-Control": "no-store, private"}


def _allowed(who: dict[str, Any], action: str, excursion_id: str) -> str:
    """Return the caller's scope for `action` on this excursion (a guide: its own); else 403."""
    reach = require(who, action)
    if reach == OWN and excursion_of(get_db(), who["checkpoint"]) != excursion_id:
        raise ApiError("forbidden.excursion")
    return reach


def for_role(who: dict[str, Any], state: Any) -> Any:
    """Return what the caller may read of an excursion's state (see checkin.scans.policy)."""
    return excursion_view(who, state) if state else state


def get_excursion(excursion_id: str) -> Any:
    """The excursion's state: status, roster (confirmed or missing) and counts."""
    who = actor()
    _allowed(who, EXCURSION, excursion_id)
    state = excursion_state(get_db(), excursion_id)
    if state is None:
        raise ApiError("not_found.excursion")
    return for_role(who, state)


def post_event(excursion_id: str) -> Any:
    """Record a departure, a return or a walk-on, exactly once by the event's id."""
    who = actor()
    reach = _allowed(who, EXCURSION_EVENTS, excursion_id)
    db = get_db()
    device = actor_ref(who)
    body = json_body()
    moment = parse_device(body.get("at"))
    if moment is not None and not time_allowed(db, moment):
        raise ApiError("bad_field.excursion_time")
    if reach == OWN and body.get("action") == "walk_on":
        by_badge = guide_walk_on(body)
        if by_badge is None and type(body.get("participant")) is int:
            raise ApiError("forbidden.walk_on_scan")
        body = by_badge or body  # without code or id: the domain answers 400
    # An EventError reaches the API's one error handler, which words it for the guide.
    row, duplicate = record_event(db, excursion_id, body, device_id=device)
    if not duplicate:
        send(excursion_changed, excursion_id=row["excursion"])
        # A walk-on also leaves the old excursion's roster one person shorter.
        old = event_detail(row).get("from") if row["action"] == "walk_on" else None
        if old:
            send(excursion_changed, excursion_id=old)
    return {"id": row["id"], "status": "ok", "duplicate": duplicate,
            "state": for_role(who, excursion_state(db, row["excursion"]))}


def strings() -> dict[str, str]:
    """Every text the guide page's JavaScript shows, translated for the current language."""
    return bus_strings() | {
        "confirmed": _("Confirmed"),
        "missing": _("Missing"),
        "walk_on": _("Added on the spot"),
        "not_assigned": _("Not on this list"),
        "confirm_tap": _("Confirm {name}"),
        "confirmed_at": _("confirmed {time}"),
        "counts": _("{confirmed} of {expected} confirmed"),
        "missing_count": _("{n} missing"),
        "walk_ons_count": _("{n} added on the spot"),
        "not_on_list_count": _("{n} not on this list"),
        "over_seats": _("Too few seats: {people} people for {capacity} seats."),
        "status_boarding": _("Boarding"),
        "status_departed": _("Departed {time}"),
        "status_returned": _("Returned {time}"),
        "depart": _("Depart"),
        "depart_title": _("Depart now?"),
        "depart_missing": _("Still missing ({n}):"),
        "depart_none_missing": _("Everybody is here."),
        "depart_confirm": _("Yes, depart now"),
        "cancel": _("Cancel"),
        "returned": _("Returned"),
        "return_confirm": _("Record that the group is back?"),
        "add_walk_on": _("Add to this excursion"),
        "added": _("{name} was added to this excursion"),
        "scanned_confirmed": _("{name}: confirmed"),
        "already_confirmed": _("{name} was already confirmed"),
        "other_excursion": _("{name} is on another excursion: {title}"),
        "no_excursion": _("{name} is not on any excursion"),
        "unknown_offline": _("This badge is not on your list. Add the person to this "
                             "excursion?"),
        "unknown_code": _("Unknown badge"),
        "unknown_badge": _("Badge …{code}"),
        "revoked_code": _("This badge was replaced and is no longer valid"),
        "invalid": _("Not a badge code"),
        "id_conflict_resent": _("This scan's number belonged to another scan: it was sent "
                                "again under a new number."),
        "online": _("Online"),
        "offline": _("Offline: taps are saved on this phone"),
        "waiting": _("{n} waiting to be sent"),
        "dropped": _("{n} refused by the server (kept on this phone)"),
        "all_sent": _("All sent"),
        "as_of": _("List as of {time}"),
        "not_paired": _("This phone is not paired as a guide."),
        "no_excursion_param": _("Choose an excursion."),
        "not_guide": _("This device is not a guide's phone."),
        "revoked_device": _("This phone may no longer be used. Ask an organiser to pair it "
                            "again."),
        "refused": _("The server refused: {message}"),
        "camera_on": _("Scan badge"),
        "camera_stop": _("Stop camera"),
        "camera_unavailable": _("No camera available here. Tap the names instead."),
        "camera_insecure": _("The camera needs a secure (https) connection."),
        "loading": _("Loading…"),
        "undo": _("Undo"),
        "queued": _("waiting to be sent"),
    }


def guide() -> Any:
    """The guide's page: a shell that loads its excursion from the API (works offline)."""
    # The page is a shell the service worker keeps: the excursion comes from the device or,
    # for organisers, from ?excursion= read by the JavaScript.
    excursion = request.args.get("excursion", "")[:40] or None
    organiser = current_organiser()
    excursions = []
    if organiser and excursion is None:
        excursions = list(get_db().query("SELECT id, title FROM excursions "
                                         "ORDER BY departs_at, title"))
    html = render_template(
        "excursions/guide.html", strings=strings(), organiser=organiser, excursions=excursions,
        config={"organiser": organiser is not None,
                "timezone": str(event_zone(get_db())),
                "sw": url_for("excursions.service_worker"), "scope": url_for("excursions.guide"),
                "scan": url_for("scanner.scan")})
    return Response(html, headers=NO_STORE)


# Files the service worker keeps, so that a reload without network still shows the page.
SHELL_ASSETS = ("css/app.css", "css/guide.css", "js/checkin-wipe.js", "js/checkin-idb.js",
                "js/scanner-store.js", "js/checkin-camera.js", "js/rollcall-phone.js",
                "js/guide-rollcall.js", "js/guide.js", "css/rollcall.css",
                "vendor/jsqr/jsQR.js", "vendor/socket.io/socket.io.min.js", "js/checkin-ui.js",
                "img/icons.svg")


def service_worker() -> Any:
    """The guide page's service worker: the scanner's, with the guide's files and cache."""
    return worker_response(url_for("excursions.guide"), SHELL_ASSETS,
                           ("excursions/guide.html", "base.html", "_languages.html",
                            "_device_states.html", "_icon.html", "scanner/_rollcall.html"),
                           cache="checkin-guide-")


def register(app: Flask) -> None:
    """Attach the guide API and the guide page to the app."""
    api = api_blueprint("excursions_api", "/api/v1/excursions")
    api.add_url_rule("/<excursion_id>", view_func=get_excursion)
    api.add_url_rule("/<excursion_id>/events", view_func=post_event, methods=["POST"])
    app.register_blueprint(api)

    bp = Blueprint("excursions", __name__)
    bp.add_url_rule("/guide", view_func=guide)
    bp.add_url_rule("/guide/sw.js", view_func=service_worker)
    app.register_blueprint(bp)
