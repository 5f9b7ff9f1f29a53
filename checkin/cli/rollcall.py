"""`checkin rollcall ...`: start, follow, print and end the venue's roll call.

The command line acts as an organiser does (whoever runs it holds the event's file); a
refusal is one line from the error catalogue.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from checkin import rollcall
from checkin.cli.failing import fail, fail_with
from checkin.core import clock
from checkin.core.errors import current_language
from checkin.core.event import event_zone
from checkin.rollcall.pdf import full_name, missing_pdf
from checkin.scans import rollcall as rules
from checkin.scans.rollcall import RUNNING


@click.group("rollcall")
def rollcall_group() -> None:
    """Start a roll call (who is still inside?), follow it, print the missing, end it.

    Example: checkin --db event.db rollcall start --at car-park
    """


def _current(db: Any, rollcall_id: str | None) -> dict[str, Any]:
    """Return the roll call asked for, else the running or latest venue roll call."""
    try:
        found = rollcall.read(db, None, rollcall_id, current_language())
    except rollcall.RollcallError as exc:
        fail_with(exc)
    if found is None:
        fail("rollcall.none")
    return found


@rollcall_group.command("start")
@click.option("--at", "point", default=None,
              help="The assembly point people gather at (its id from the event file).")
@click.option("--json", "as_json", is_flag=True,
              help='Print {"id", "running_already", "counts"} as JSON.')
@click.pass_obj
def start_command(ctx: Any, point: str | None, as_json: bool) -> None:
    """Start the venue's roll call now: everyone present is expected; print its id.

    If one is running already, its id is printed.

    Example: checkin --db event.db rollcall start --at car-park --json
    """
    db = ctx.db()
    try:
        row, what = rollcall.start(db, None, {"point": point})
    except rollcall.RollcallError as exc:
        fail_with(exc)
    if as_json:
        counts = rollcall.view(db, row["id"], names=False)["counts"]
        click.echo(json.dumps({"id": row["id"], "running_already": what == RUNNING,
                               "counts": counts}))
        return
    if what == RUNNING:
        click.echo("A roll call is running already:", err=True)
    click.echo(row["id"])


@rollcall_group.command("status")
@click.option("--id", "rollcall_id", default=None,
              help="A roll call's id (default: the running one, else the latest).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the roll call as the API gives it (with names and phones).")
@click.pass_obj
def status_command(ctx: Any, rollcall_id: str | None, as_json: bool) -> None:
    """Print expected, accounted and missing, and who is missing with where they were last
    seen.

    Example: checkin --db event.db rollcall status --json
    """
    db = ctx.db()
    found = _current(db, rollcall_id)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=1))
        return
    zone = event_zone(db)
    counts = found["counts"]
    state = "ended " + clock.clock_text(found["ended_at"], zone) if found["ended_at"] \
        else "running"
    click.echo(f"Roll call {found['id']} ({found['scope']}), started "
               f"{clock.clock_text(found['started_at'], zone)} by {found['started_by']}, "
               f"{state}:")
    click.echo(f"{counts['expected']} expected, {counts['accounted']} accounted for, "
               f"{counts['missing']} missing")
    for person in found["people"]:
        if person["account"] is not None:
            continue
        seen = person["last_seen"]
        click.echo(f"  missing: {full_name(person)}"
                   + (f" ({person['organisation']})" if person["organisation"] else "")
                   + f", last seen {seen['name'] or '?'} {clock.clock_text(seen['at'], zone)}"
                   + (f", phone {person['phone']}" if person["phone"] else ""))


@rollcall_group.command("list")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The PDF file to write.")
@click.option("--id", "rollcall_id", default=None,
              help="A roll call's id (default: the running one, else the latest).")
@click.pass_obj
def list_command(ctx: Any, output: Path, rollcall_id: str | None) -> None:
    """Write the missing list as a PDF: name, organisation, last seen where and when, phone.

    Example: checkin --db event.db rollcall list -o missing.pdf
    """
    found = _current(ctx.db(), rollcall_id)
    data = missing_pdf(str(ctx.db_path), found["id"], current_language())
    output.write_bytes(data)
    click.echo(f"Wrote {output} ({found['counts']['missing']} missing).")


@rollcall_group.command("end")
@click.option("--id", "rollcall_id", default=None,
              help="A roll call's id (default: the running venue roll call).")
@click.pass_obj
def end_command(ctx: Any, rollcall_id: str | None) -> None:
    """End the running roll call; its record stays for the summary.

    Example: checkin --db event.db rollcall end
    """
    db = ctx.db()
    if rollcall_id is None:
        running = rules.running(db)
        if running is None:
            fail("rollcall.none_running")
        rollcall_id = running["id"]
    try:
        row = rollcall.end(db, None, rollcall_id)
    except rollcall.RollcallError as exc:
        fail_with(exc)
    counts = rollcall.view(db, row["id"], names=False)["counts"]
    click.echo(f"Ended roll call {row['id']}: {counts['missing']} missing of "
               f"{counts['expected']}.")
