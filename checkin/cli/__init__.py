"""The `checkin` command line: set up an event, import people, print badges, serve."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlite_utils import Database

from checkin.cli.failing import fail, fail_with
from checkin.core.db import connect
from checkin.core.errors import LANGUAGES, use_language
from checkin.core.paths import default_database


class Context:
    """What every command needs: where the event database is."""

    def __init__(self, db_path: Path):
        self.db_path = db_path

    def db(self) -> Database:
        """Open (creating and migrating if needed) the event database."""
        return connect(self.db_path)


pass_ctx = click.make_pass_decorator(Context)


@click.group()
@click.option("--db", "db_path", type=click.Path(dir_okay=False, path_type=Path),
              envvar="CHECKIN_DB", default=None, show_envvar=True,
              help="The event database (default: instance/checkin.db).")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), envvar="CHECKIN_LANG",
              default="en", show_envvar=True,
              help="The language of error messages and refused rows (default: en).")
@click.version_option(package_name="checkin")
@click.pass_context
def cli(ctx: click.Context, db_path: Path | None, language: str) -> None:
    """Check-in and on-site logistics for meetings.

    Example: checkin --db event.db --lang de import Teilnehmer.xlsx
    """
    from checkin.core.files import private_umask

    # Errors from the catalogue are worded in this language until the command ends.
    ctx.call_on_close(use_language(language))

    # Everything a command creates (database, WAL, exports, badges) is private to this account.
    private_umask()
    ctx.obj = Context(db_path or default_database())


@cli.command("init")
@click.argument("event_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def init_command(ctx: Context, event_file: Path) -> None:
    """Create or update the event from an event TOML file; never touches scans.

    Example: checkin --db event.db init event.toml
    """
    from checkin.core.event import EventFileError, apply_event, load_event

    try:
        counts = apply_event(ctx.db(), load_event(event_file))
    except EventFileError as exc:
        # Each problem on its line, in the language chosen with --lang.
        for problem in exc.texts:
            click.echo(f"{event_file}: {problem}", err=True)
        sys.exit(1)
    click.echo("Event ready: " + ", ".join(f"{v} {k.replace('_', ' ')}"
                                            for k, v in counts.items()))


@cli.command("import")
@click.argument("csv_file", metavar="FILE",
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--sheet", default=None, help="The workbook's sheet to read (default: the first).")
@click.option("--map", "maps", multiple=True, metavar="COLUMN=FIELD",
              help='Assign a column to a field, or "ignore" it (repeatable).')
@click.option("--dry-run", is_flag=True,
              help="Only check and report, with the column mapping; change nothing.")
@pass_ctx
def import_command(ctx: Context, csv_file: Path, sheet: str | None, maps: tuple[str, ...],
                   dry_run: bool) -> None:
    """Import participants from an .xlsx workbook or a CSV file, all or nothing.

    Column names in German, Dutch or English are recognised; --map places the others.

    Example: checkin --db event.db import Teilnehmer.xlsx --map "Funktion=ignore" --dry-run
    """
    from checkin.participants.columns import parse_overrides
    from checkin.participants.csvfile import MAX_BYTES, CSVFileError, import_file
    from checkin.participants.report import mapping_lines

    try:
        overrides = parse_overrides(maps)
        with csv_file.open("rb") as source:
            # One byte over the limit is enough for the import to refuse a huge file.
            data = source.read(MAX_BYTES + 1)
        result = import_file(ctx.db(), data, dry_run=dry_run, sheet=sheet, overrides=overrides)
    except (CSVFileError, ValueError) as exc:
        click.echo(f"{csv_file}: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        fail("file.cannot_open", file=str(csv_file), error=str(exc.strerror or exc))
    if dry_run or result["problems"]:
        for line in mapping_lines(result["mapping"], result["preview"]):
            click.echo(line, err=bool(result["problems"]))
    for warning in result["warnings"]:
        click.echo(f"{csv_file}: warning: {warning}", err=True)
    if result["problems"]:
        from checkin.participants.records import SHOWN_PROBLEMS

        for problem in result["problems"][:SHOWN_PROBLEMS]:
            click.echo(f"{csv_file}: {problem}", err=True)
        if len(result["problems"]) > SHOWN_PROBLEMS:
            click.echo(f"{csv_file}: ... and {len(result['problems']) - SHOWN_PROBLEMS} more "
                       "problem(s), not listed.", err=True)
        click.echo(f"{len(result['problems'])} problem(s); nothing was imported.", err=True)
        sys.exit(1)
    if result["defaults"] and not dry_run:
        click.echo("Defaults for missing columns: " + ", ".join(
            f"{k} = {v}" for k, v in result["defaults"].items()))
    if dry_run:
        click.echo(f"{result['rows']} row(s) are fine; nothing was imported (dry run): "
                   f"{result['created']} would be new, {result['updated']} updated, "
                   f"{result['unchanged']} unchanged.")
    else:
        click.echo(f"Imported: {result['created']} new, {result['updated']} updated, "
                   f"{result['unchanged']} unchanged.")


@cli.command("demo")
@pass_ctx
def demo_command(ctx: Context) -> None:
    """Create the demo event (Groningen 2019, 60 fictional people) and its template files.

    Example: checkin --db demo/event.db demo
    """
    from checkin.demo import create_demo

    counts = create_demo(ctx.db(), ctx.db_path.parent)
    for line in counts["day_wins"]:
        click.echo(f"demo-participants.csv: {line}", err=True)
    click.echo(f"Demo event ready in {ctx.db_path} ({counts['created']} new, "
               f"{counts['updated']} updated, {counts['unchanged']} unchanged participants).")
    click.echo(f"Templates: {ctx.db_path.parent / 'demo-event.toml'}, "
               f"{ctx.db_path.parent / 'demo-participants.csv'}")


@cli.command("rebuild")
@pass_ctx
def rebuild_command(ctx: Context) -> None:
    """Recompute every projection (presence, counts) from the log, which stays the truth.

    Example: checkin --db event.db rebuild
    """
    from checkin.scans.rebuild import rebuild_projections

    counts = rebuild_projections(ctx.db())
    click.echo("Rebuilt from the log: " + ", ".join(f"{table} {n} row(s)"
                                                    for table, n in counts.items()) + ".")


@cli.command("reissue")
@click.argument("participant")
@pass_ctx
def reissue_command(ctx: Context, participant: str) -> None:
    """Give a participant (id, e-mail or current code) a new code; the old one stops working.

    Example: checkin --db event.db reissue anouk.bijl@example.nl
    """
    from checkin.core.codes import find_by_reference, reissue
    from checkin.participants.records import get_participant

    db = ctx.db()
    pid = find_by_reference(db, participant)
    if pid is None:
        fail("unknown_participant.reference", reference=participant)
    try:
        code = reissue(db, pid)
    except LookupError:
        fail("erased_participant", id=pid)
    person = get_participant(db, pid) or {}
    click.echo(f"{person.get('first_name')} {person.get('last_name')} has a new code: {code} "
               "(print a new badge).")


@cli.group("export")
def export_group() -> None:
    """Export data as CSV.

    Example: checkin --db event.db export participants -o people.csv
    """


@export_group.command("participants")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The CSV file to write.")
@pass_ctx
def export_participants_command(ctx: Context, output: Path) -> None:
    """Write participants in the import's columns plus their code (re-imports cleanly).

    Example: checkin --db event.db export participants -o people.csv
    """
    from checkin.participants.csvfile import export_participants

    with output.open("w", encoding="utf-8-sig", newline="") as out:
        n = export_participants(ctx.db(), out)
    click.echo(f"Wrote {n} participant(s) to {output}.")


@cli.group("organiser")
def organiser_group() -> None:
    """Manage organiser accounts.

    Example: checkin --db event.db organiser add anna
    """


@organiser_group.command("add")
@click.argument("username")
@click.password_option(help="The password (asked for if not given).")
@pass_ctx
def organiser_add_command(ctx: Context, username: str, password: str) -> None:
    """Create an organiser account, or set a new password for it.

    Example: checkin --db event.db organiser add anna
    """
    from checkin.auth.accounts import AccountError, add_organiser

    try:
        add_organiser(ctx.db(), username, password)
    except AccountError as exc:
        fail_with(exc)
    click.echo(f"Organiser {username!r} can sign in now.")


# Commands that live with their features; each feature adds its own line here.
from checkin.cli.badges import badges_command  # noqa: E402

cli.add_command(badges_command)
from checkin.cli.serve import serve_command  # noqa: E402

cli.add_command(serve_command)
from checkin.cli.devices import device_group  # noqa: E402

cli.add_command(device_group)
# [live]
from checkin.cli.reports import attendance_command  # noqa: E402
from checkin.demo.simulate import simulate_command  # noqa: E402

export_group.add_command(attendance_command)
cli.add_command(simulate_command)
from checkin.cli.continuity import backup_command, restore_command  # noqa: E402

cli.add_command(backup_command)
cli.add_command(restore_command)
from checkin.cli.lists import lists_command  # noqa: E402

cli.add_command(lists_command)
from checkin.cli.rollcall import rollcall_group  # noqa: E402

cli.add_command(rollcall_group)

from checkin.scans.reset import reset_command  # noqa: E402

cli.add_command(reset_command)
from checkin.cli.mail import mail_group  # noqa: E402

cli.add_command(mail_group)
# [security] issue 8: organiser remove, participant delete, purge
from checkin.cli.security import (  # noqa: E402
    organiser_remove_command,
    participant_group,
    purge_command,
)

organiser_group.add_command(organiser_remove_command)
cli.add_command(participant_group)
cli.add_command(purge_command)

if __name__ == "__main__":
    cli()
