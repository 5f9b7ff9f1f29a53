"""The organisers' roll-call page: start, follow and end the venue's roll call; earlier ones.

The page shows one roll call, rendered by the server; its JavaScript re-fetches that part
when /live pushes a `rollcall` in full (checkin.live.rollcall), and after a push of changes
only the numbers and the changed people's rows (`only`). Starting and ending are plain
forms with a confirmation step, so they work without JavaScript too.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from checkin import rollcall
from checkin.auth import current_organiser, organiser_required
from checkin.core.clock import clock_text, date_text, event_zone_of, local
from checkin.core.db import get_db
from checkin.core.errors import current_language
from checkin.core.event import event_info
from checkin.core.permissions import organiser_actor
from checkin.core.texts import checkpoint_names
from checkin.http.signals import send
from checkin.scans.rollcall import STARTED, RollcallError, current, get_rollcall
from checkin.scans.signals import rollcall_changed

NO_STORE = {"Cache-Control": "no-store, private"}
#: The most people one part may be asked for (a push's changes within a few tenths of a second).
MAX_ONLY = 2000


def page_strings() -> dict[str, str]:
    """Every text the page's JavaScript shows, in the page's language."""
    return {"live": _("Live"), "connecting": _("Connecting…"),
            "reconnecting": _("Connection lost, reconnecting…"),
            "refused": _("Live updates refused: sign in again.")}


def hows() -> dict[str, str]:
    """Translated words for how someone was accounted for."""
    return {"scan": _("badge scanned"), "tap": _("ticked on the list"),
            "elsewhere": _("seen elsewhere"), "left": _("left earlier")}


def duration_text(seconds: int) -> str:
    """Say a duration in minutes and seconds (a roll call takes minutes, not hours)."""
    minutes, rest = divmod(seconds, 60)
    return _("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=rest)


def _organiser() -> dict[str, Any]:
    return organiser_actor(current_organiser() or "")


def _local_day(value: str | None, zone: Any) -> Any:
    moment = local(value, zone)
    return moment.date() if moment is not None else None


def _only(value: str | None) -> set[int] | None:
    """Read the part's `only` (people's ids, comma-separated), or refuse it with a 400."""
    if value is None:
        return None
    ids = value.split(",")
    if len(ids) > MAX_ONLY or not all(i.isascii() and i.isdigit() and len(i) < 18 for i in ids):
        abort(400)
    return {int(i) for i in ids}


def _context(db: Any, shown: str | None, only: set[int] | None = None) -> dict[str, Any]:
    """What the page and its part show: one roll call (asked for, else the venue's current),
    its people or `only` those."""
    if shown is not None and get_rollcall(db, shown) is None:
        abort(404)
    found = shown or (current(db) or {}).get("id")
    language = current_language()
    r = rollcall.view_for(db, _organiser(), found, language, only) if found else None
    zone = event_zone_of(event_info(db))
    names = checkpoint_names(db, language)
    return {"r": r, "shown": shown, "hows": hows(),
            "points": [{"id": point, "name": names.get(cp, cp)}
                       for point, cp in ((p, "assembly:" + p)
                                         for p in rollcall.assembly_points(db))],
            "clock": lambda value: clock_text(value, zone),
            "day": lambda value: date_text(_local_day(value, zone), language)}


def page() -> Response:
    """The roll-call page: the running (or asked-for) roll call, and every earlier one."""
    db = get_db()
    shown = request.args.get("id") or None
    context = _context(db, shown)
    part_url = url_for("rollcall_page.part", id=shown) if shown else url_for("rollcall_page.part")
    config = {"namespace": "/live", "part_url": part_url, "shown": shown,
              "strings": page_strings()}
    names = checkpoint_names(db, current_language())
    # Earlier roll calls: the running one is the page's subject, not yet a record.
    previous = [row for row in reversed(rollcall.record(db)) if row["ended_at"]]
    html = render_template("rollcall/page.html", config=config, previous=previous,
                           duration=duration_text,
                           scope_names={"venue": _("the venue")} | names, **context)
    return Response(html, headers=NO_STORE)


def part() -> Response:
    """The shown roll call as an HTML fragment, for the page to swap in after a push; with
    `only`, its numbers and only those people's rows (what a push of changes named)."""
    html = render_template("rollcall/_current.html",
                           **_context(get_db(), request.args.get("id") or None,
                                      _only(request.args.get("only"))))
    return Response(html, headers=NO_STORE)


def start() -> Any:
    """Start the venue's roll call (POST with CSRF, after the page's confirmation)."""
    try:
        row, what = rollcall.start(get_db(), _organiser(),
                                   {"point": request.form.get("point") or None})
    except RollcallError as exc:
        flash(exc.message)
        return redirect(url_for("rollcall_page.page"), 303)
    if what == STARTED:
        send(rollcall_changed, rollcall_id=row["id"])
    else:
        flash(_("A roll call is already running: here it is."))
    return redirect(url_for("rollcall_page.page"), 303)


def end(rollcall_id: str) -> Any:
    """End a roll call (POST with CSRF); its record stays."""
    try:
        row = rollcall.end(get_db(), _organiser(), rollcall_id)
    except RollcallError:
        abort(404)
    send(rollcall_changed, rollcall_id=row["id"])
    return redirect(url_for("rollcall_page.page", id=row["id"]), 303)


def register(app: Flask) -> None:
    """Attach the organisers' roll-call page (the missing list's PDF is checkin.rollcall.views')."""
    bp = Blueprint("rollcall_page", __name__)
    bp.add_url_rule("/rollcall", view_func=organiser_required(page))
    bp.add_url_rule("/rollcall/part", view_func=organiser_required(part))
    bp.add_url_rule("/rollcall/start", view_func=organiser_required(start), methods=["POST"])
    bp.add_url_rule("/rollcall/<rollcall_id>/end", view_func=organiser_required(end),
                    methods=["POST"])
    app.register_blueprint(bp)
