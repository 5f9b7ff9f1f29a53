"""`checkin reset --scans`: clear the day (scans and day events), keeping the plan.

People, their codes, devices, organisers and the event stay; the scan log, corrections,
the `location` projection and excursion events (departures, returns, walk-ons) go. A backup
copy of the whole database is written first.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click
from sqlite_utils import Database

from checkin.core import clock
from checkin.core.backup import backup
from checkin.core.db import connect, writing
from checkin.scans.rollcall import clear_rollcalls

DAY_TABLES = ("corrections", "location", "scans", "excursion_events")


def day_counts(db: Database) -> dict[str, int]:
    """Return how many rows each table of the day holds."""
    return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
            for t in DAY_TABLES}


def clear_day(db: Database) -> dict[str, int]:
    """Delete the day's scans and events in one transaction; return what was deleted."""
    with writing(db):
        counts = day_counts(db)
        clear_rollcalls(db)  # a rehearsal's roll calls go with its scans
        for table in DAY_TABLES:
            db.execute(f"DELETE FROM {table}")  # noqa: S608
    return counts


@click.command("reset")
@click.option("--scans", is_flag=True, required=True,
              help="Clear scans, corrections, excursion events and roll calls (people, codes "
                   "and devices stay).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--backup", "backup_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Where to write the backup copy first (default: next to "
                                 "the database, with the time in its name).")
@click.pass_obj
def reset_command(ctx: Any, scans: bool, yes: bool, backup_path: Path | None) -> None:
    """Clear the day (after a rehearsal) and keep the plan; writes a backup copy first.

    Example: checkin --db event.db reset --scans
    """
    db_path = Path(ctx.db_path)
    if not db_path.exists():
        click.echo(f"No event database at {db_path}; give --db.", err=True)
        sys.exit(1)
    db = connect(db_path)
    counts = day_counts(db)
    click.echo(f"{db_path}: {counts['scans']} scan(s), {counts['corrections']} correction(s), "
               f"{counts['excursion_events']} excursion event(s).")
    if not yes and not click.confirm("Delete them all (people, codes and devices stay)?"):
        click.echo("Nothing was changed.")
        sys.exit(1)
    stamp = clock.stamp()
    target = backup_path or db_path.with_name(f"{db_path.stem}.before-reset-{stamp}.db")
    try:
        backup(db, target, replace=False)
    except (FileExistsError, sqlite3.Error, OSError) as exc:
        click.echo(f"No backup could be written ({exc}); nothing was changed.", err=True)
        sys.exit(1)
    click.echo(f"Backup written to {target}.")
    clear_day(db)
    click.echo("The day is cleared: 0 scans. People, codes and devices are kept.")
