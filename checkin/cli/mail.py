"""`checkin mail badges`: send every participant their QR code and badge by e-mail."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from checkin import mail
from checkin.cli.failing import fail, fail_with
from checkin.mail.sending import Connection, send_all
from checkin.participants.records import find_by_reference

if TYPE_CHECKING:
    from checkin.cli import Context

TIMEOUT = 30


def parse_server(text: str) -> tuple[str, int]:
    """Split HOST:PORT (IPv6 in brackets); the port is required."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not host:
        raise click.BadParameter("give the SMTP server as HOST:PORT, e.g. mail.example.org:587")
    return host.strip("[]"), int(port)


@click.group("mail")
def mail_group() -> None:
    """Send participants their personal QR codes by e-mail.

    Example: checkin --db event.db mail badges --smtp mail.example.org:587 --starttls --sender orga@example.org --user orga --password-env SMTP_PASSWORD
    """  # noqa: E501


@mail_group.command("badges")
@click.option("--smtp", "server", required=True, metavar="HOST:PORT",
              help="The SMTP server that sends the mails.")
@click.option("--sender", required=True, metavar="ADDRESS", help="The From address.")
@click.option("--starttls", "security", flag_value="starttls",
              help="Upgrade the connection with STARTTLS (usually port 587).")
@click.option("--ssl", "security", flag_value="ssl",
              help="Connect with TLS from the start (usually port 465).")
@click.option("--user", default=None, help="Sign in to the SMTP server as this user.")
@click.option("--password-env", default=None, metavar="VAR",
              help="The environment variable that holds the SMTP password (never on the "
                   "command line, where other users can see it).")
@click.option("--only", multiple=True, metavar="ID_EMAIL_OR_CODE",
              help="Only this participant (repeat for more).")
@click.option("--resend", is_flag=True,
              help="Send also to people who were reached already.")
@click.option("--dry-run", is_flag=True,
              help="Make every mail and say who would get one; send nothing.")
@click.option("--rate", type=click.FloatRange(min=0.1), default=None, metavar="PER_MINUTE",
              help="Send at most this many mails a minute (some providers limit it).")
@click.pass_obj
def badges_command(ctx: Context, server: str, sender: str, security: str | None,
                   user: str | None, password_env: str | None, only: tuple[str, ...],
                   resend: bool, dry_run: bool, rate: float | None) -> None:
    """Mail each participant their QR code and one-page badge, in their language.

    Only people not reached yet get a mail (new ones, a reissued code, a changed address,
    last run's failures); --resend mails everyone again. The texts are the files in
    mail-templates/ beside the event database (made from the defaults on the first run).

    Example: checkin --db event.db mail badges --smtp localhost:25 --sender orga@example.org --dry-run
    """  # noqa: E501
    host, port = parse_server(server)
    if "@" not in sender:
        raise click.BadParameter("the sender must be an e-mail address", param_hint="--sender")
    password = None
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            fail("env_not_set", exit_code=2, name=password_env)
    if password is not None and not user:
        raise click.BadParameter("--password-env needs --user", param_hint="--user")
    db = ctx.db()
    folder = mail.template_folder(ctx.db_path)
    for path in mail.ensure_templates(folder):
        click.echo(f"Wrote the default mail text {path} (edit it to change the mails).")
    try:
        templates = mail.Templates.load(folder)
    except mail.TemplateProblem as exc:
        fail_with(exc)
    ids = None
    if only:
        ids, unknown = [], []
        for item in only:
            pid = find_by_reference(db, item.strip())
            (ids.append(pid) if pid is not None else unknown.append(item))
        if unknown:
            fail("unknown_participant.reference", reference=", ".join(unknown))
    people = mail.recipients(db, ids, resend=resend)
    if not people:
        click.echo("Everyone is reached already; nothing to send (--resend sends again).")
        return
    if dry_run:
        for person in people:
            try:
                mail.preview(db, person, templates)  # a broken template shows now
            except mail.TemplateProblem as exc:
                fail_with(exc)
            click.echo(f"would mail {person['first_name']} {person['last_name']} "
                       f"<{person['email']}> ({person['language']})")
        click.echo(f"Dry run: {len(people)} mail(s) made, none sent.")
        return
    connection = Connection(host, port, security or "plain", user, password)
    try:
        with click.progressbar(length=len(people), label="Sending badge mails",
                               file=sys.stderr, show_pos=True) as bar:
            outcome = send_all(db, people, templates, sender, connection, rate,
                               progress=lambda _done, _total: bar.update(1))
    except mail.TemplateProblem as exc:
        click.echo(f"\nError: {exc}", err=True)
        sys.exit(1)
    if outcome.stopped:
        click.echo(f"\nError: cannot use the SMTP server {host}:{port}: {outcome.stopped}. "
                   f"{outcome.sent} mail(s) were sent; run again to send the rest.", err=True)
        sys.exit(1)
    click.echo(f"Sent {outcome.sent} badge mail(s).")
    if outcome.failed:
        click.echo(f"{len(outcome.failed)} mail(s) failed (they are tried again on the next "
                   "run):", err=True)
        for person, reason in outcome.failed:
            click.echo(f"  {person['first_name']} {person['last_name']} <{person['email']}>: "
                       f"{reason}", err=True)
        sys.exit(1)
