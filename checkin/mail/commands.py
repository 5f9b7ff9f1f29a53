"""`checkin mail badges`: send every participant their QR code and badge by e-mail."""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import sys
import time
from typing import TYPE_CHECKING

import click

from checkin import mail
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


class Connection:
    """One SMTP session, opened on first use and again after the server hung up."""

    def __init__(self, host: str, port: int, security: str, user: str | None,
                 password: str | None):
        self.host, self.port, self.security = host, port, security
        self.user, self.password = user, password
        self.smtp: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        """Return the open session, connecting (and signing in) if needed."""
        if self.smtp is not None:
            return self.smtp
        context = ssl.create_default_context()
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=TIMEOUT,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=TIMEOUT)
            if self.security == "starttls":
                smtp.starttls(context=context)
        if self.user:
            smtp.login(self.user, self.password or "")
        self.smtp = smtp
        return smtp

    def drop(self) -> None:
        """Forget a broken session."""
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
        self.smtp = None

    def close(self) -> None:
        """End the session politely."""
        if self.smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.smtp.quit()
        self.smtp = None


def _reason(exc: Exception) -> str:
    """The server's own words for a refusal."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {text.decode(errors='replace')}"
                         for code, text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
    return str(exc) or type(exc).__name__


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
            click.echo(f"Error: the environment variable {password_env} is not set.", err=True)
            sys.exit(2)
    if password is not None and not user:
        raise click.BadParameter("--password-env needs --user", param_hint="--user")
    db = ctx.db()
    folder = mail.template_folder(ctx.db_path)
    for path in mail.ensure_templates(folder):
        click.echo(f"Wrote the default mail text {path} (edit it to change the mails).")
    try:
        templates = mail.Templates.load(folder)
    except mail.TemplateProblem as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    ids = None
    if only:
        ids, unknown = [], []
        for item in only:
            pid = find_by_reference(db, item.strip())
            (ids.append(pid) if pid is not None else unknown.append(item))
        if unknown:
            click.echo(f"Error: no participant {', '.join(map(repr, unknown))} "
                       "(give an id, e-mail or code).", err=True)
            sys.exit(1)
    people = mail.recipients(db, ids, resend=resend)
    if not people:
        click.echo("Everyone is reached already; nothing to send (--resend sends again).")
        return
    if dry_run:
        for person in people:
            try:
                mail.preview(db, person, templates)  # a broken template shows now
            except mail.TemplateProblem as exc:
                click.echo(f"Error: {exc}", err=True)
                sys.exit(1)
            click.echo(f"would mail {person['first_name']} {person['last_name']} "
                       f"<{person['email']}> ({person['language']})")
        click.echo(f"Dry run: {len(people)} mail(s) made, none sent.")
        return
    connection = Connection(host, port, security or "plain", user, password)
    gap = 60.0 / rate if rate else 0.0
    sent, failed = 0, []
    last = 0.0
    try:
        with click.progressbar(people, label="Sending badge mails", file=sys.stderr,
                               show_pos=True) as bar:
            for person in bar:
                try:
                    message = mail.build_message(db, person, templates, sender)
                except mail.TemplateProblem as exc:
                    click.echo(f"\nError: {exc}", err=True)
                    sys.exit(1)
                if gap:
                    time.sleep(max(0.0, last + gap - time.monotonic()))
                last = time.monotonic()
                reason = _send(connection, message)
                if reason is None:
                    mail.record(db, person, "sent", message_id=message["Message-ID"])
                    sent += 1
                else:
                    mail.record(db, person, "failed", reason=reason)
                    failed.append((person, reason))
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        click.echo(f"\nError: cannot use the SMTP server {host}:{port}: {_reason(exc)}. "
                   f"{sent} mail(s) were sent; run again to send the rest.", err=True)
        sys.exit(1)
    finally:
        connection.close()
    click.echo(f"Sent {sent} badge mail(s).")
    if failed:
        click.echo(f"{len(failed)} mail(s) failed (they are tried again on the next run):",
                   err=True)
        for person, reason in failed:
            click.echo(f"  {person['first_name']} {person['last_name']} <{person['email']}>: "
                       f"{reason}", err=True)
        sys.exit(1)


def _send(connection: Connection, message: object) -> str | None:
    """Send one mail; return None, or the server's reason it refused this recipient.

    A session the server closed is opened again once; if that fails too, the error rises
    and the run stops (the rest are sent next time).
    """
    for attempt in (1, 2):
        smtp = connection.open()
        try:
            smtp.send_message(message)  # type: ignore[arg-type]
            return None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused) as exc:
            return _reason(exc)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            connection.drop()
            if attempt == 2:
                raise
    return None
