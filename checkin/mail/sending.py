"""Sending badge mails over SMTP, one session for the run: used by `checkin mail badges` and
the Participants page's mailing."""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from sqlite_utils import Database

from checkin import mail

TIMEOUT = 30


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


def reason_of(exc: Exception) -> str:
    """The server's own words for a refusal."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(f"{code} {text.decode(errors='replace')}"
                         for code, text in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {exc.smtp_error.decode(errors='replace')}"
    return str(exc) or type(exc).__name__


def send_one(connection: Connection, message: EmailMessage) -> str | None:
    """Send one mail; return None, or the server's reason it refused this recipient.

    A session the server closed is opened again once; if that fails too, the error rises
    and the run stops (the rest are sent next time).
    """
    for attempt in (1, 2):
        smtp = connection.open()
        try:
            smtp.send_message(message)
            return None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                smtplib.SMTPSenderRefused) as exc:
            return reason_of(exc)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            connection.drop()
            if attempt == 2:
                raise
    return None


@dataclass
class Outcome:
    """What a run did: how many were sent, who failed and why, and why it stopped early."""

    sent: int = 0
    failed: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    stopped: str | None = None


def send_all(db: Database, people: list[dict[str, Any]], templates: mail.Templates,
             sender: str, connection: Connection, rate: float | None = None,
             progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Mail each person in turn, recording every attempt; call progress(done, total).

    A refused recipient is recorded as failed and the run goes on; a server that cannot be
    used stops the run (Outcome.stopped says why; the rest are due next time). Raises
    mail.TemplateProblem before sending to a person whose text cannot be made.
    """
    gap = 60.0 / rate if rate else 0.0
    out = Outcome()
    last = 0.0
    try:
        for n, person in enumerate(people, start=1):
            message = mail.build_message(db, person, templates, sender)
            if gap:
                time.sleep(max(0.0, last + gap - time.monotonic()))
            last = time.monotonic()
            reason = send_one(connection, message)
            if reason is None:
                mail.record(db, person, "sent", message_id=message["Message-ID"])
                out.sent += 1
            else:
                mail.record(db, person, "failed", reason=reason)
                out.failed.append((person, reason))
            if progress:
                progress(n, len(people))
    except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
        out.stopped = reason_of(exc)
    finally:
        connection.close()
    return out
