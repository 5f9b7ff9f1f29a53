"""Organisers' reports: the attendance downloads (CSV, Excel) and the printable summary."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template
from flask_babel import gettext as _

from checkin.auth.views import organiser_required
from checkin.db import get_db
from checkin.event import event_zone
from checkin.reports import (
    GROUP_COLUMNS,
    PARTICIPANT_COLUMNS,
    attendance,
    csv_text,
    local_time,
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


def attendance_csv() -> Response:
    """One row per participant: arrival, working group attended, excursion status."""
    db = get_db()
    report = report_for_csv(attendance(db), event_zone(db))
    text = csv_text(report["participants"], PARTICIPANT_COLUMNS)
    return _download(text.encode("utf-8-sig"), "attendance.csv", "text/csv")


def attendance_groups_csv() -> Response:
    """One row per working group and excursion: expected and attended."""
    db = get_db()
    report = report_for_csv(attendance(db), event_zone(db))
    text = csv_text(report["totals"], GROUP_COLUMNS)
    return _download(text.encode("utf-8-sig"), "attendance-groups.csv", "text/csv")


def attendance_xlsx() -> Response:
    """The attendance report as an Excel workbook with two sheets."""
    db = get_db()
    # Real date-times (sortable, computable) on the event's wall clock.
    report = report_for_excel(attendance(db), event_zone(db))
    return _download(xlsx_bytes(report), "attendance.xlsx", XLSX)


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
    for x in numbers["excursions"]:
        x["departed_local"] = local_time(db, x["departed_at"])
        x["returned_local"] = local_time(db, x["returned_at"])
    return render_template(
        "reports/summary.html", n=numbers, charts=charts, type_label=_type_label,
        first_arrival=local_time(db, numbers["first_arrival"]),
        last_arrival=local_time(db, numbers["last_arrival"]))


def register(app: Flask) -> None:
    """Attach the report downloads and the summary page (organisers only)."""
    bp = Blueprint("reports", __name__, url_prefix="/reports")
    bp.add_url_rule("/attendance.csv", view_func=organiser_required(attendance_csv))
    bp.add_url_rule("/attendance-groups.csv",
                    view_func=organiser_required(attendance_groups_csv))
    bp.add_url_rule("/attendance.xlsx", view_func=organiser_required(attendance_xlsx))
    bp.add_url_rule("/summary", view_func=organiser_required(summary_page))
    app.register_blueprint(bp)
