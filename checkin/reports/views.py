"""Organisers' reports: the attendance downloads (CSV, Excel) and the printable summary."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template
from flask_babel import gettext as _

from checkin.auth import organiser_required
from checkin.core.clock import clock_text
from checkin.core.db import get_db
from checkin.core.event import event_zone
from checkin.core.pool import run_pooled
from checkin.http.jobs import pooled_file, streamed
from checkin.reports.files import attendance_csv as csv_pieces
from checkin.reports.files import attendance_xlsx as xlsx_file
from checkin.reports.files import summary_parts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# Reading the whole report and writing its file takes seconds at a big event: in a pool
# worker, streamed out piece by piece (checkin.http.jobs).

def attendance_csv() -> Response:
    """One row per participant: arrival, working group attended, excursion status."""
    return streamed(csv_pieces, (current_app.config["DATABASE"], "participants"),
                    "attendance.csv", "text/csv")


def attendance_groups_csv() -> Response:
    """One row per working group and excursion: expected and attended."""
    return streamed(csv_pieces, (current_app.config["DATABASE"], "totals"),
                    "attendance-groups.csv", "text/csv")


def attendance_xlsx() -> Response:
    """The attendance report as an Excel workbook with two sheets (`POST`: as a job)."""
    return pooled_file(xlsx_file, (current_app.config["DATABASE"],), "attendance.xlsx", XLSX)


TYPES = ("administration", "university", "institution", "company", "other")


def _type_label(kind: str) -> str:
    labels = {"administration": _("Administration"), "university": _("University"),
              "institution": _("Institution"), "company": _("Company"), "other": _("Other")}
    return labels.get(kind, kind)


def summary_page() -> Any:
    """The one-page summary after the event, printable to PDF."""
    words = {"arrived_so_far": _("Arrived so far"), "inside": _("In the venue"),
             "day": _("Attendance over the day"), "none": _("(none)"),
             "delegations": _("Delegations: registered and arrived"),
             "types_title": _("Organisation types: registered and arrived"),
             "registered": _("Registered"), "arrived": _("Arrived"),
             "types": {kind: _type_label(kind) for kind in TYPES}}
    # Numbers and charts from the whole event: in a pool worker, never on the door's loop.
    parts = run_pooled(summary_parts, current_app.config["DATABASE"], words)
    numbers = parts["numbers"]
    zone = event_zone(get_db())
    for x in numbers["excursions"]:
        x["departed_local"] = clock_text(x["departed_at"], zone)
        x["returned_local"] = clock_text(x["returned_at"], zone)
    for r in numbers["rollcalls"]:
        r["started_local"] = clock_text(r["started_at"], zone)
        r["ended_local"] = clock_text(r["ended_at"], zone)
    return render_template(
        "reports/summary.html", n=numbers, charts=parts["charts"], type_label=_type_label,
        walk_ins=parts["walk_ins"],
        first_arrival=clock_text(numbers["first_arrival"], zone),
        last_arrival=clock_text(numbers["last_arrival"], zone))


def register(app: Flask) -> None:
    """Attach the report downloads and the summary page (organisers only)."""
    bp = Blueprint("reports", __name__, url_prefix="/reports")
    bp.add_url_rule("/attendance.csv", view_func=organiser_required(attendance_csv))
    bp.add_url_rule("/attendance-groups.csv",
                    view_func=organiser_required(attendance_groups_csv))
    bp.add_url_rule("/attendance.xlsx", view_func=organiser_required(attendance_xlsx),
                    methods=["GET", "POST"])
    bp.add_url_rule("/summary", view_func=organiser_required(summary_page))
    app.register_blueprint(bp)
