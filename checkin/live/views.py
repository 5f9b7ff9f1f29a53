"""The room dashboard, the organisers' overview, one person's day, and scan corrections.

The pages are rendered from checkin.live's plain functions; the JavaScript keeps them
current from the /live Socket.IO namespace (and, on the overview, by re-fetching the parts
of the page that a push says have changed).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from checkin.auth import current_organiser
from checkin.core.clock import clock_text
from checkin.core.db import get_db
from checkin.core.event import event_info
from checkin.core.pool import run_pooled
from checkin.core.texts import checkpoint_names
from checkin.http.signals import send
from checkin.live import stats
from checkin.live.overview import PARTS, overview_data
from checkin.scans import get_scan
from checkin.scans.corrections import CorrectionError, correct, corrections_of
from checkin.scans.people import in_language
from checkin.scans.signals import scan_corrected

NO_STORE = {"Cache-Control": "no-store, private"}
# Where the scanner page keeps its device (see static/js/scanner-store.js): a display pairs
# through the same /pair/<code> page, so the dashboard reads the token from the same place.
DEVICE_KEY = "checkin.device"


def type_labels() -> dict[str, str]:
    """Translated names of the organisation types."""
    return {"administration": _("Administration"), "university": _("University"),
            "institution": _("Institution"), "company": _("Company"), "other": _("Other")}


def scan_words() -> dict[str, str]:
    """Translated words for a scan's direction, status and reason."""
    return {
        "in": _("in"), "out": _("out"),
        "accepted": _("Accepted"), "warning": _("Warning"), "rejected": _("Rejected"),
        "already_in": _("already checked in"), "not_assigned": _("not on the list here"),
        "over_capacity": _("over capacity"), "unknown_code": _("unknown badge"),
        "revoked_code": _("replaced (revoked) badge"), "invalid": _("not a badge code"),
        "voided": _("voided"), "moved": _("moved to {name}"), "unknown": _("unknown person"),
    }


def dashboard_strings() -> dict[str, str]:
    """Every text the dashboard's JavaScript shows, in the page's language."""
    return {
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost, reconnecting…"),
        "not_paired": _("This screen is not paired. An organiser adds a display device and "
                        "opens its pairing QR code here (or signs in)."),
        "inside": _("inside"),
        "of_capacity": _("of {capacity} places"),
        "state_ok": _("Places free: {free}"),
        "state_near": _("Nearly full: {free} left"),
        "state_full": _("Full"),
        "state_over": _("Over capacity: {over} too many"),
        "state_none": _("Inside now"),
        "arrived_of": _("{arrived} of {registered} arrived"),
        "in_venue": _("In the venue now"),
        "per_slot": _("Arrivals per {minutes} minutes"),
        "outside_day": _("{n} arrivals outside the event's day are not shown"),
        "running_total": _("Arrived so far"),
        "chart_summary": _("{total} arrived; most arrivals ({count}) at {label}."),
        "chart_empty": _("No arrivals yet."),
        "updated": _("Updated {time}"),
        "unknown": _("(none given)"),
        "percent": _("{percent} %"),
        "bus_boarding": _("Boarding"),
        "bus_departed": _("Departed {time}"),
        "bus_returned": _("Returned {time}"),
        "bus_confirmed": _("{confirmed} of {expected}"),
        "bus_seats": _("{people} for {capacity} seats"),
        "bus_over": _("{n} seats short"),
        "bus_over_one": _("1 seat short"),
        "rollcall_started": _("started {time}"),
        "rollcall_done": _("Everyone is accounted for."),
        "rollcall_missing": _("{n} people are still missing."),
        "rollcall_missing_one": _("1 person is still missing."),
        "rollcall_more_rooms": _("{n} more rooms"),
        "rollcall_nowhere": _("not known"),
        "rollcall_no_point": _("No assembly point"),
    }


def overview_strings() -> dict[str, str]:
    """Every text the overview's JavaScript shows, in the page's language."""
    return {
        **{"word_" + k: v for k, v in scan_words().items()},
        "live": _("Live"),
        "connecting": _("Connecting…"),
        "reconnecting": _("Connection lost, reconnecting…"),
        "refused": _("Live updates refused: sign in again."),
        "alerts_none": _("No alerts."),
        "alerts_count": _("{n} alerts"),
        "alerts_one": _("1 alert"),
        "shown": _("{shown} of {total} shown"),
    }


def _event_name() -> str:
    info = event_info(get_db()) or {}
    return info.get("name") or "checkin"


def dashboard() -> Response:
    """The big-screen dashboard: a shell the JavaScript fills from /live (display or organiser)."""
    config = {"namespace": "/live", "device_key": DEVICE_KEY,
              "organiser": current_organiser() is not None,
              "timezone": str(stats.event_zone(get_db())),
              "types": type_labels(), "strings": dashboard_strings()}
    # Until /live accepts the screen, the page shows nothing of the event, not even its name.
    name = _event_name() if config["organiser"] else ""
    html = render_template("live/dashboard.html", config=config, event_name=name)
    return Response(html, headers=NO_STORE)


def _clock_filter(zone: Any) -> Any:
    return lambda value: clock_text(value, zone)


def _parts(db: Any, q: str, part: str | None = None) -> dict[str, Any]:
    """What the overview's parts show: all of them, or only what `part` shows.

    The page re-fetches single parts after every push, so each computes only its own.
    """
    context: dict[str, Any] = {"q": q, "types": type_labels(), "words": scan_words(),
                               "clock": _clock_filter(stats.event_zone(db))}
    # The numbers come from a pool worker: on the loop they would hold the door each time.
    context.update(run_pooled(overview_data, current_app.config["DATABASE"], q, part))
    return context


def overview() -> Response:
    """The organisers' overview: numbers, alerts, excursions, who is missing, recent scans."""
    db = get_db()
    q = request.args.get("q", "").strip()[:100]
    context = _parts(db, q)
    scans = stats.recent_scans(db)
    config = {"namespace": "/live", "part_url": url_for("live.overview_part", part="_"),
              "person_url": url_for("live.participant", participant_id=0),
              "scan_url": url_for("live.scan", scan_id="_"),
              "latest_scan": stats.latest_seq(db), "timezone": str(stats.event_zone(db)),
              "strings": overview_strings(),
              # Pushed scans carry the plain names; the page shows them in its language.
              "checkpoints": checkpoint_names(db, str(get_locale()))}
    html = render_template("live/overview.html", scans=scans, config=config,
                           event_name=_event_name(), **context)
    return Response(html, headers=NO_STORE)


def overview_part(part: str) -> Response:
    """One part of the overview as an HTML fragment, for the page to swap in after a push."""
    if part not in PARTS:
        abort(404)
    db = get_db()
    q = request.args.get("q", "").strip()[:100]
    html = render_template(f"live/_part_{part}.html", **_parts(db, q, part))
    return Response(html, headers=NO_STORE)


def _correction_context(db: Any) -> dict[str, Any]:
    return {"checkpoints": list(db.query("SELECT id, kind, name FROM checkpoints "
                                         "ORDER BY position, id")),
            "new_id": lambda: str(uuid.uuid4()), "words": scan_words(),
            "clock": _clock_filter(stats.event_zone(db))}


def participant(participant_id: int) -> Response:
    """One person's day: every scan with its corrections, and where they are now."""
    db = get_db()
    day = stats.participant_day(db, participant_id)
    if day is None:
        abort(404)
    in_language(db, [day["participant"]], str(get_locale()))
    html = render_template("live/participant.html", day=day, types=type_labels(),
                           **_correction_context(db))
    return Response(html, headers=NO_STORE)


def scan(scan_id: str) -> Any:
    """One scan (rejected scans belong to nobody's day): what it was, and its corrections."""
    db = get_db()
    row = get_scan(db, scan_id)
    if row is None:
        abort(404)
    if row["participant_id"] is not None:
        return redirect(url_for("live.participant", participant_id=row["participant_id"])
                        + f"#scan-{row['seq']}")
    shown = stats.scans_by_seq(db, [row["seq"]])[0]
    shown["corrections"] = corrections_of(db, [scan_id]).get(scan_id, [])
    html = render_template("live/scan.html", scan=shown, **_correction_context(db))
    return Response(html, headers=NO_STORE)


def correct_view(scan_id: str, action: str) -> Any:
    """Void a scan or move it (POST with CSRF), then show the person's day again."""
    db = get_db()
    try:
        correction, row, new = correct(
            db, scan_id, action, current_organiser() or "",
            checkpoint=request.form.get("checkpoint") or None,
            note=request.form.get("note"), correction_id=request.form.get("correction_id")
            or None)
    except CorrectionError as exc:
        if exc.code == "unknown_scan":
            abort(404)
        flash(exc.message)
        return redirect(_back(get_scan(db, scan_id)), 303)
    if new:
        # The correction is stored; a failing push must not hide that.
        send(scan_corrected, correction=correction, scan=row)
        flash(_("Scan voided.") if action == "void" else _("Scan moved."))
    return redirect(_back(row), 303)


def _back(row: dict[str, Any] | None) -> str:
    if row is None:
        return url_for("live.overview")
    if row["participant_id"] is not None:
        return url_for("live.participant", participant_id=row["participant_id"]) \
            + f"#scan-{row['seq']}"
    return url_for("live.scan", scan_id=row["id"])

