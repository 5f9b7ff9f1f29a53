"""The desk's and the kiosk's API under /api/v1, and the kiosk page: they translate HTTP to
checkin.desk and back."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from checkin.api.views import ApiError, actor, api_blueprint, json_body
from checkin.auth.throttle import LoginThrottle
from checkin.core.db import get_db
from checkin.desk import (
    AlreadyRegistered,
    WalkInInvalid,
    printing,
    register_walk_in,
    who,
)
from checkin.desk import kiosk as kiosk_domain
from checkin.scans.access import actor_ref
from checkin.scans.signals import scans_recorded
from checkin.security.permissions import PRINT, SELF_CHECK_IN, WALK_IN, require
from checkin.web.signals import send

PRINTER = "checkin.desk.printer"
# Long enough to read the welcome and take the badge, short enough for the next person.
IDLE_SECONDS = 12
LOOKUPS = "checkin.desk.kiosk_lookups"
# Ten misses in five minutes is more than people mistyping make; then the kiosk sends them
# to the desk for the rest of the window.
LOOKUP_FAILURES = 10
LOOKUP_WINDOW = 300.0


def printer() -> printing.Printer:
    """Return this app's printer (made on first use from PRINTER and BADGE_SIZE)."""
    found = current_app.extensions.get(PRINTER)
    if found is None:
        found = current_app.extensions[PRINTER] = printing.Printer(
            current_app.config["DATABASE"], current_app.config.get("PRINTER"),
            current_app.config.get("BADGE_SIZE"))
    return found


def _desk(action: str) -> dict[str, Any]:
    """Return the caller if it may take this desk `action` (a desk, an organiser), else 403."""
    who_calls = actor()
    require(who_calls, action, "forbidden.desk")
    return who_calls


def _job(job: dict[str, Any]) -> dict[str, Any]:
    return {**printing.public(job), "url": url_for("desk_api.print_job", job_id=job["id"])}


def create_participant() -> Any:
    """Register a walk-in: 201 with the new person and code; 400 names each bad field."""
    who_calls = _desk(WALK_IN)
    db = get_db()
    try:
        person, scanned = register_walk_in(db, json_body(), who_calls)
    except WalkInInvalid as exc:
        bad = ApiError("bad_fields")
        return {"error": {"code": bad.code, "message": bad.message,
                          "fields": {k: str(v) for k, v in exc.problems.items()}}}, bad.status
    except AlreadyRegistered as exc:
        known = ApiError(f"already_registered.{exc.by}")
        return {"error": {"code": known.code, "message": known.message,
                          "participant": who(exc.person)}}, known.status
    if scanned is not None:
        send(scans_recorded, scans=scanned.stored)
    keys = ("id", "first_name", "last_name", "organisation", "city", "language", "email",
            "working_group", "excursion", "role", "code", "walk_in_at")
    return {"participant": {k: person.get(k) for k in keys},
            "scan": scanned.results[0] if scanned is not None else None,
            "printing": printer().on}, 201


def _print_answer(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except printing.PrintingOff:
        raise ApiError("printing_off") from None
    except LookupError:
        raise ApiError("unknown_participant") from None
    except printing.AskFirst as exc:
        asked = ApiError("printed_before")
        return {"error": {"code": asked.code, "message": asked.message,
                          "job": _job(exc.last)}}, asked.status


def print_badge(participant_id: int) -> Any:
    """Print a person's badge: 202 with the job; 409 asks first if it was printed before."""
    who_calls = _desk(PRINT)
    confirm = json_body().get("confirm") is True
    db = get_db()

    def go() -> Any:
        job = printer().submit(db, participant_id, actor_ref(who_calls), confirm=confirm)
        return {"job": _job(job)}, 202

    return _print_answer(go)


def reissue_and_print(participant_id: int) -> Any:
    """A lost badge: a new code (the old one stops at once), printed; needs confirm: true."""
    who_calls = _desk(PRINT)
    if json_body().get("confirm") is not True:
        raise ApiError("confirm_needed")
    db = get_db()

    def go() -> Any:
        _code, job = printer().reissue_and_print(db, participant_id, actor_ref(who_calls))
        return {"job": _job(job), "reissued": True}, 202

    return _print_answer(go)


def print_job(job_id: str) -> Any:
    """A print job's state as CUPS sees it now: queued, printed, or failed with the reason."""
    _desk(PRINT)
    job = printing.refresh(get_db(), job_id[:40])
    if job is None:
        raise ApiError("unknown_job")
    return {"job": _job(job)}


def kiosk_strings(language: str) -> dict[str, str]:
    """The kiosk's greeting in the attendee's own language."""
    with force_locale(language):
        return {"welcome": _("Welcome, %(name)s!", name="{name}"),
                "checked_in": _("You are checked in."),
                "already": _("You were already checked in. Welcome back!"),
                "printing": _("Your badge is being printed."),
                "printer_failed": _("Your badge could not be printed: please ask at the desk.")}


def _lookup_throttle() -> LoginThrottle:
    """Failed name-and-e-mail look-ups per kiosk: a kiosk must not become a way to test
    guessed names and addresses one after the other."""
    found = current_app.extensions.get(LOOKUPS)
    if found is None:
        found = current_app.extensions[LOOKUPS] = LoginThrottle(
            max_failures=LOOKUP_FAILURES, window=LOOKUP_WINDOW)
    return found


def kiosk_check_in() -> Any:
    """Check the kiosk's attendee in by code, or by last name and e-mail."""
    who_calls = actor()
    require(who_calls, SELF_CHECK_IN, "forbidden.kiosk")
    body = json_body()
    db = get_db()
    code = body.get("code")
    if isinstance(code, str) and code:
        answer = kiosk_domain.check_in(db, who_calls, code=code[:1000])
    else:
        last_name, email = body.get("last_name"), body.get("email")
        if not isinstance(last_name, str) or not isinstance(email, str):
            raise ApiError("bad_field.kiosk")
        throttle = _lookup_throttle()
        if throttle.wait_seconds(who_calls["id"] or "organiser"):
            raise ApiError("too_many_tries")
        pid = kiosk_domain.find_by_name_and_email(db, last_name, email)
        if pid is None:
            throttle.failed(who_calls["id"] or "organiser")
            return {"status": "not_found", "person": None}
        answer = kiosk_domain.check_in(db, who_calls, participant_id=pid)
    stored = answer.pop("stored", [])
    if stored:
        send(scans_recorded, scans=stored)
    person = answer["person"]
    if person is not None:
        answer["text"] = kiosk_strings(person["language"])
        answer["job"] = None
        if printer().on:
            try:
                # Not again if this server printed it before: a second badge only at the desk.
                job = printer().submit(db, person["id"], actor_ref(who_calls))
                answer["job"] = {"id": job["id"], "state": job["state"],
                                 "url": url_for("desk_api.kiosk_job", job_id=job["id"])}
            except (printing.PrintingOff, printing.AskFirst, LookupError):
                pass
    return answer


def kiosk_job(job_id: str) -> Any:
    """A kiosk may follow the print jobs it started, and nothing else."""
    who_calls = actor()
    require(who_calls, SELF_CHECK_IN, "forbidden.kiosk")
    db = get_db()
    job = printing.get_job(db, job_id[:40])
    if job is None or job["requested_by"] != actor_ref(who_calls):
        raise ApiError("unknown_job")
    job = printing.refresh(db, job["id"])
    return {"job": {k: job[k] for k in ("id", "state")}}


def idle_seconds(asked: str | None) -> int:
    """Seconds a kiosk waits before going back to its start screen (?idle=N, 3 to 120)."""
    try:
        return min(120, max(3, int(asked or IDLE_SECONDS)))
    except ValueError:
        return IDLE_SECONDS


def kiosk_page() -> Response:
    """The kiosk's start screen (the device token lives in the browser, as for scanners)."""
    from checkin.scanner.views import strings as scanner_strings

    html = render_template("kiosk/kiosk.html", strings={
        **{k: v for k, v in scanner_strings().items()
           if k in ("not_paired", "camera_unavailable", "camera_insecure",
                    "error_network", "loading", "online")},
        "offline": _("Offline"),
        # For the connection banner: an attendee needs where to go, not since when.
        "lost": _("No connection to the server. Please check in at the desk."),
        "unknown_code": _("This badge is not known. Please ask at the desk."),
        "revoked_code": _("This badge was replaced. Please ask at the desk."),
        "invalid": _("That is not a badge code. Please try again."),
        "not_found": _("No registration matches this last name and e-mail. Please check "
                       "them or ask at the desk."),
        "wrong_device": _("This device is not a kiosk."),
    }, config={"idle_seconds": idle_seconds(request.args.get("idle"))})
    return Response(html, headers={"Cache-Control": "no-store, private"})


def register(app: Flask) -> None:
    """Attach the desk and kiosk API and the kiosk page to the app."""
    bp = api_blueprint("desk_api")
    bp.add_url_rule("/participants", view_func=create_participant, methods=["POST"])
    bp.add_url_rule("/participants/<int:participant_id>/print", view_func=print_badge,
                    methods=["POST"])
    bp.add_url_rule("/participants/<int:participant_id>/reissue-and-print",
                    view_func=reissue_and_print, methods=["POST"])
    bp.add_url_rule("/print-jobs/<job_id>", view_func=print_job)
    bp.add_url_rule("/kiosk/check-in", view_func=kiosk_check_in, methods=["POST"])
    bp.add_url_rule("/kiosk/print-jobs/<job_id>", view_func=kiosk_job)
    app.register_blueprint(bp)
    pages = Blueprint("kiosk", __name__)
    pages.add_url_rule("/kiosk", view_func=kiosk_page)
    app.register_blueprint(pages)
