"""Command-line commands of issue 8: remove an organiser, delete a participant, purge."""

from __future__ import annotations

import sys

import click

from checkin.cli.failing import fail
from checkin.core.jobs import clear_jobs


@click.command("remove")
@click.argument("username")
@click.pass_obj
def organiser_remove_command(obj: object, username: str) -> None:
    """Delete an organiser account; every session it has ends at once.

    Example: checkin --db event.db organiser remove anna
    """
    from checkin.auth.sessions import remove_organiser

    if not remove_organiser(obj.db(), username):  # type: ignore[attr-defined]
        fail("unknown_organiser", name=username)
    click.echo(f"Organiser {username!r} is removed and signed out everywhere.")


@click.group("participant")
def participant_group() -> None:
    """Manage single participants (the right to erasure).

    Example: checkin --db event.db participant delete 17
    """


@participant_group.command("delete")
@click.argument("participant")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_obj
def participant_delete_command(obj: object, participant: str, yes: bool) -> None:
    """Erase a participant's personal data (id, e-mail or code); their scans stay, anonymous.

    Example: checkin --db event.db participant delete 17 --yes
    """
    from checkin.core.codes import find_by_reference
    from checkin.participants.records import get_participant
    from checkin.security.erase import erase_participant

    db = obj.db()  # type: ignore[attr-defined]
    pid = find_by_reference(db, participant)
    person = get_participant(db, pid) if pid is not None else None
    if person is None:
        fail("unknown_participant.reference", reference=participant)
    name = f"{person['first_name']} {person['last_name']}".strip() or f"#{pid}"
    if not yes:
        click.confirm(f"Erase the personal data of {name} (#{pid})? This cannot be undone",
                      abort=True)
    erase_participant(db, pid)
    click.echo(f"Participant #{pid}: personal data, codes, mail and print records erased; "
               "their badge no longer works; their scans stay, anonymous. The backups and "
               "the replica keep them until `checkin purge --yes` after the event.")


@click.command("purge")
@click.option("--yes", is_flag=True, help="Really erase (without it, nothing happens).")
@click.pass_obj
def purge_command(obj: object, yes: bool) -> None:
    """After the event: erase every participant's personal data everywhere checkin wrote it;
    statistics stay as they are.

    Example: checkin --db event.db purge --yes
    """
    from checkin.continuity.lock import holder
    from checkin.desk.printing import sent_jobs
    from checkin.security.erase import OUT_OF_REACH, purge, purge_files

    if not yes:
        fail("purge.confirm")
    db_path = obj.db_path  # type: ignore[attr-defined]
    serving = holder(db_path)
    if serving is not None:
        # A running server writes backups and replicates while the purge deletes them, and
        # its devices would keep sending codes: the purge is for after the event.
        fail("purge.serving", pid=str(serving.get("pid", "?")))
    db = obj.db()  # type: ignore[attr-defined]
    jobs = sent_jobs(db)
    done = purge(db, uploads=db_path.parent / "uploads")
    files = purge_files(db, db_path, jobs)
    outputs = clear_jobs(db_path)
    click.echo(f"Erased the personal data of {done.participants} participant(s): names, "
               "e-mail addresses, organisations, badge codes, mail and print records, notes. "
               "City, organisation type, working group and excursion stay for the report.")
    click.echo(f"Revoked {done.devices} device(s): each deletes what it stored at its next "
               "contact with the server.")
    click.echo(f"Deleted {done.uploads} waiting upload(s), {files.backups} backup copy(ies) "
               f"and {files.print_files} print file(s); one new backup of the erased event is "
               "in backups/.")
    click.echo(f"Deleted {outputs} organiser output(s) kept for download (lists, badges, "
               "exports).")
    for replica in files.replicas:
        click.echo(f"Replica {replica}: its old files are deleted, a new one is written.")
    for problem in files.problems:
        click.echo(f"Not done: {problem}", err=True)
    click.echo("Out of checkin's reach, erase these yourself:")
    for item in OUT_OF_REACH:
        click.echo(f"- {item}")
    if not done.wal_emptied:
        click.echo("Something still holds the database open: close it and run "
                   "`checkin purge --yes` again, so that no old bytes stay in the -wal file.",
                   err=True)
        sys.exit(2)
    if files.problems:
        sys.exit(2)
