"""Command-line commands of issue 8: remove an organiser, delete a participant, purge."""

from __future__ import annotations

import sys

import click


@click.command("remove")
@click.argument("username")
@click.pass_obj
def organiser_remove_command(obj: object, username: str) -> None:
    """Delete an organiser account; every session it has ends at once.

    Example: checkin --db event.db organiser remove anna
    """
    from checkin.security.sessions import remove_organiser

    if not remove_organiser(obj.db(), username):  # type: ignore[attr-defined]
        click.echo(f"No organiser {username!r}.", err=True)
        sys.exit(1)
    click.echo(f"Organiser {username!r} is removed and signed out everywhere.")
