"""Organisers' reports: the attendance downloads (CSV, Excel) and the printable summary."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, current_app, render_template
from flask_babel import gettext as _
from sqlite_utils import Database

from checkin.auth import organiser_required
from checkin.core.clock import clock_text
from checkin.core.db import get_db, with_database
from checkin.core.event import event_zone
from checkin.core.offload import run_blocking
from checkin.desk import walk_in_count
from checkin.reports import (
    GROUP_COLUMNS,
    PARTICIPANT_COLUMNS,
    attendance,
    csv_text,
    summary,
    xlsx_bytes,
)
from checkin.reports.charts import bar_chart, line_chart
from checkin.reports.times import report_for_csv, report_for_excel

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download(data: bytes, filename: str, mimetype: str) -> Response:
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store, private"})


def _attendance_file(db: Database, part: str) -> bytes:
    """Return one attendance download: "participants" or "totals" as CSV, or "xlsx"."""
    report = attendance(db)
    if part == "xlsx":
        # Real date-times (sortable, computable) on the event's wall clock.
        return xlsx_bytes(report_for_excel(report, event_zone(db)))
    report = report_for_csv(report, event_zone(db))  # ISO 8601 with the event's offset
    columns = PARTICIPANT_COLUMNS if part == "participants" else GROUP_COLUMNS
    return csv_text(report[part], columns).encode("utf-8-sig")


def _offloaded(part: str) -> bytes:
    # Reading the whole scan log and building a workbook takes seconds at a big event: off
    # the event loop, on a connection of its own.
    return run_blocking(with_database, current_app.config["DATABASE"], _attendance_file, part)


def attendance_csv() -> Response:
    """One row per participant: arrival, working group attended, excursion status."""
    return _download(_offloaded("participants"), "attendance.csv", "text/csv")


def attendance_groups_csv() -> Response:
    """One row per working group and excursion: expected and attended."""
    return _download(_offloaded("totals"), "attendance-groups.csv", "text/csv")


def attendance_xlsx() -> Response:
    """The attendance report as an Excel workbook with two sheets."""
    return _download(_offloaded("xlsx"), "attendance.xlsx", XLSX)


def _type_label(kind: str) -> str:
    labels = {"administration": _("Administration"), "university": _("University"),
              "institution": _("Institution"), "company": _("Company"), "other": _("Other")}
    return labels.get(kind, kind)


def summary_page() -> Any:
    """The one-page summary after the event, printable to PDF."""
    db = get_db()
    numbers = summary(db)
    day = numbers["over_the_day"]
    charts = {
        "day": line_chart([s["label"] for s in day],
                          [(_("Arrived so far"), [s["arrived"] for s in day], "arrived"),
                           (_("In the venue"), [s["inside"] for s in day], "inside")],
                          title=_("Attendance over the day")),
        "delegations": bar_chart(
            [d["name"] or _("(none)") for d in numbers["delegations"]],
            [d["registered"] for d in numbers["delegations"]],
            [d["arrived"] for d in numbers["delegations"]],
            title=_("Delegations: registered and arrived"),
            legend=(_("Registered"), _("Arrived"))),
        "types": bar_chart(
            [_type_label(t["name"]) for t in numbers["organisation_types"]],
            [t["registered"] for t in numbers["organisation_types"]],
            [t["arrived"] for t in numbers["organisation_types"]],
            title=_("Organisation types: registered and arrived"),
            legend=(_("Registered"), _("Arrived"))),
    }
    zone = event_zone(db)
    for x in numbers["excursions"]:
        x["departed_local"] = clock_text(x["departed_at"], zone)
        x["returned_local"] = clock_text(x["returned_at"], zone)
    for r in numbers["rollcalls"]:
        r["started_local"] = clock_text(r["started_at"], zone)
        r["ended_local"] = clock_text(r["ended_at"], zone)
    return render_template(
        "reports/summary.html", n=numbers, charts=charts, type_label=_type_label,
        walk_ins=walk_in_count(db),
        first_arrival=clock_text(numbers["first_arrival"], zone),
        last_arrival=clock_text(numbers["last_arrival"], zone))


def register(app: Flask) -> None:
    """Attach the report downloads and the summary page (organisers only)."""
    bp = Blueprint("reports", __name__, url_prefix="/reports")
    bp.add_url_rule("/attendance.csv", view_func=organiser_required(attendance_csv))
    bp.add_url_rule("/attendance-groups.csv",
                    view_func=organiser_required(attendance_groups_csv))
    bp.add_url_rule("/attendance.xlsx", view_func=organiser_required(attendance_xlsx))
    bp.add_url_rule("/summary", view_func=organiser_required(summary_page))
    app.register_blueprint(bp)
