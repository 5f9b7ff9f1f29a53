"""`checkin export attendance`: the attendance report as CSV or Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from checkin.core.db import connect
from checkin.core.event import event_zone
from checkin.reports import GROUP_COLUMNS, PARTICIPANT_COLUMNS, attendance, write_csv, xlsx_bytes
from checkin.reports.times import report_for_csv, report_for_excel


def totals_path(output: Path) -> Path:
    """Return where the CSV of per working group and per excursion totals goes."""
    return output.with_name(output.stem + "-groups" + output.suffix)


@click.command("attendance")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The file to write: .csv (plus FILE-groups.csv) or .xlsx (two sheets).")
@click.pass_obj
def attendance_command(ctx: Any, output: Path) -> None:
    """Write who arrived, attended their working group and excursion, and the totals.

    A .csv file gets one row per participant; the totals per working group and excursion
    go into a second file next to it (NAME-groups.csv). A .xlsx file holds both as sheets.

    Example: checkin --db event.db export attendance -o attendance.xlsx
    """
    # pass_obj, not the cli's pass_ctx: under `python -m checkin.cli` that module is __main__.
    db = connect(ctx.db_path)
    report, zone = attendance(db), event_zone(db)
    if output.suffix.lower() == ".xlsx":
        output.write_bytes(xlsx_bytes(report_for_excel(report, zone)))
        click.echo(f"Wrote {len(report['participants'])} participant(s) and "
                   f"{len(report['totals'])} group/excursion row(s) to {output}.")
        return
    report = report_for_csv(report, zone)
    with output.open("w", encoding="utf-8-sig", newline="") as out:
        n = write_csv(report["participants"], PARTICIPANT_COLUMNS, out)
    groups = totals_path(output)
    with groups.open("w", encoding="utf-8-sig", newline="") as out:
        m = write_csv(report["totals"], GROUP_COLUMNS, out)
    click.echo(f"Wrote {n} participant(s) to {output} and {m} group/excursion row(s) to "
               f"{groups}.")
