"""`checkin export attendance`: the attendance report as CSV or Excel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from checkin.reports.files import attendance_xlsx, write_attendance_csv


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
    # The same functions the server's pool workers run: Excel in write-only mode straight to
    # the file, CSV piece by piece.
    if output.suffix.lower() == ".xlsx":
        n = attendance_xlsx(str(output), str(ctx.db_path))
        click.echo(f"Wrote {n} participant(s) and the group/excursion totals to {output}.")
        return
    groups = totals_path(output)
    counts = []
    for path, part in ((output, "participants"), (groups, "totals")):
        with path.open("w", encoding="utf-8-sig", newline="") as out:
            counts.append(write_attendance_csv(str(ctx.db_path), part, out))
    click.echo(f"Wrote {counts[0]} participant(s) to {output} and {counts[1]} group/excursion "
               f"row(s) to {groups}.")
