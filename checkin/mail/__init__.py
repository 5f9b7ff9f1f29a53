"""Personal QR codes by e-mail: who still needs their badge mail, the mail itself (in the
person's language, from templates the organiser can edit), and the record of what was sent.

A person is reached when a mail with their current code went to their current address;
a new code (reissued) or a changed address makes them due again.
"""

from __future__ import annotations

import html
import io
import shutil
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from sqlite_utils import Database

from checkin.badges import qr_png
from checkin.core import clock
from checkin.core.clock import now_iso
from checkin.core.db import writing
from checkin.core.errors import DomainError
from checkin.core.event import event_info
from checkin.core.texts import all_texts, event_in
from checkin.desk.printing import render_badge
from checkin.scans.people import in_language, people

DEFAULTS = Path(__file__).parent / "templates"
LANGUAGES = ("de", "nl", "en")
KIND = "badge"
#: The one-page badge attached to the mail (issue 13's A6 when it exists).
MAIL_BADGE_SIZE = "a6"


class TemplateProblem(DomainError, ValueError):
    """A mail template cannot be used: a catalogue entry naming the file and why."""


def template_folder(db_path: Path) -> Path:
    """Return the folder beside the event's database that holds the editable mail texts."""
    return Path(db_path).resolve().parent / "mail-templates"


def ensure_templates(folder: Path) -> list[Path]:
    """Copy the shipped default texts into `folder` where missing; return what was copied."""
    folder.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted(DEFAULTS.glob(f"{KIND}.*.txt")):
        target = folder / source.name
        if not target.exists():
            shutil.copyfile(source, target)
            copied.append(target)
    return copied


@dataclass
class Templates:
    """The badge mail's subject and body per language, compiled once."""

    by_language: dict[str, tuple[Any, Any]]

    @classmethod
    def load(cls, folder: Path) -> Templates:
        """Read `badge.<language>.txt` for every language: 'Subject: ...', a blank line, the
        body; Jinja2 in a sandbox (organisers edit these files)."""
        env = SandboxedEnvironment(undefined=StrictUndefined, keep_trailing_newline=True,
                                   autoescape=False)  # noqa: S701 - plain-text mail
        found = {}
        for language in LANGUAGES:
            path = folder / f"{KIND}.{language}.txt"
            if not path.exists():
                path = DEFAULTS / path.name
            text = path.read_text(encoding="utf-8")
            head, sep, body = text.partition("\n\n")
            if not sep or not head.lower().startswith("subject:"):
                raise TemplateProblem("mail.no_subject", file=str(path))
            try:
                found[language] = (env.from_string(head.split(":", 1)[1].strip()),
                                   env.from_string(body))
            except TemplateError as exc:
                raise TemplateProblem("mail.template", file=str(path), error=str(exc)) from exc
        return cls(found)

    def render(self, language: str, values: dict[str, Any]) -> tuple[str, str]:
        """Return the subject and body for one person."""
        subject, body = self.by_language.get(language, self.by_language["en"])
        try:
            return " ".join(subject.render(values).split()), body.render(values)
        except TemplateError as exc:
            raise TemplateProblem("mail.template", file=f"badge.{language}.txt",
                                  error=str(exc)) from exc


def recipients(db: Database, only_ids: list[int] | None = None,
               resend: bool = False) -> list[dict[str, Any]]:
    """Return the people to mail: with an address, and (unless `resend`) not yet reached
    with their current code at their current address. Ordered by id.

    Rows of the people view: the excursion mailed is the one the person is on today.
    """
    where = ["v.email IS NOT NULL AND v.email != ''"]
    params: list[Any] = []
    if only_ids is not None:
        where.append(f"v.id IN ({', '.join('?' * len(only_ids))})")
        params += only_ids
    if not resend:
        where.append("NOT EXISTS (SELECT 1 FROM mailings m WHERE m.participant_id = v.id "
                     "AND m.kind = ? AND m.status = 'sent' AND m.code = v.code "
                     "AND lower(m.email) = lower(v.email))")
        params.append(KIND)
    return people(db, " AND ".join(where), params)


def _values(person: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """The names a template may use for one person."""
    language = person["language"] if person["language"] in LANGUAGES else "en"
    date = clock.date_text(event.get("date"), language)
    departs = clock.time_text(person.get("excursion_departs_at"),
                              clock.event_zone_of(event), language)
    return {"first_name": person["first_name"], "last_name": person["last_name"],
            "event_name": event.get("name", ""), "date": date, "venue": event.get("venue", ""),
            "host_city": event.get("host_city", ""), "code": person["code"],
            "working_group": person.get("working_group_title") or "",
            "working_group_room": person.get("working_group_room") or "",
            "excursion": person.get("excursion_title") or "",
            "excursion_place": person.get("excursion_place") or "",
            "excursion_departs": departs, "language": language}


def _in_readers_language(db: Database, person: dict[str, Any], event: dict[str, Any] | None
                         ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the person and the event with their titles and venue in the person's language."""
    event = event if event is not None else (event_info(db) or {})
    person = in_language(db, [dict(person)])[0]
    return person, event_in(event, all_texts(db), person.get("language"))


def build_message(db: Database, person: dict[str, Any], templates: Templates, sender: str,
                  event: dict[str, Any] | None = None) -> EmailMessage:
    """Make one person's badge mail: text, the same text as HTML with the QR code shown,
    the QR as an image, and the one-page badge PDF."""
    values = _values(*_in_readers_language(db, person, event))
    subject, body = templates.render(values["language"], values)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = person["email"]
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid("badge", domain=sender.rpartition("@")[2] or None)
    msg.set_content(body)
    cid = make_msgid("qr")
    paragraphs = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>"
                         for p in body.strip().split("\n\n"))
    # The code big and alone on a white ground, so a phone shows it scannable at the door.
    page = (f'<!doctype html><html lang="{values["language"]}"><body>{paragraphs}'
            f'<p style="background:#fff;padding:24px;display:inline-block">'
            f'<img src="cid:{cid[1:-1]}" width="300" height="300" '
            f'alt="QR code {html.escape(person["code"])}"></p></body></html>')
    msg.add_alternative(page, subtype="html")
    msg.get_payload()[1].add_related(qr_png(person["code"], box_size=10), "image", "png",
                                     cid=cid, filename="qr-code.png")
    pdf = io.BytesIO()
    render_badge(db, pdf, person["id"], MAIL_BADGE_SIZE)
    msg.add_attachment(pdf.getvalue(), "application", "pdf", filename="badge.pdf")
    # Last: turning the message into a multipart moves Content-* headers into the parts.
    msg["Content-Language"] = values["language"]
    return msg


def preview(db: Database, person: dict[str, Any], templates: Templates,
            event: dict[str, Any] | None = None) -> tuple[str, str]:
    """Return one person's subject and text without making the mail (for a dry run)."""
    values = _values(*_in_readers_language(db, person, event))
    return templates.render(values["language"], values)


def record(db: Database, person: dict[str, Any], status: str, reason: str | None = None,
           message_id: str | None = None) -> None:
    """Record one attempt to mail a person (sent, or failed with the server's reason)."""
    with writing(db):
        db["mailings"].insert({"participant_id": person["id"], "kind": KIND,
                               "email": person["email"], "code": person["code"],
                               "status": status, "reason": reason, "message_id": message_id,
                               "at": now_iso()})


def failures(db: Database) -> list[dict[str, Any]]:
    """Return the people whose last badge mail failed and who are not reached since."""
    return list(db.query(
        "SELECT p.id, p.first_name, p.last_name, m.email, m.reason, m.at FROM mailings m "
        "JOIN participants p ON p.id = m.participant_id "
        "WHERE m.kind = ? AND m.status = 'failed' AND m.id = (SELECT max(id) FROM mailings "
        "WHERE participant_id = p.id AND kind = ?) ORDER BY p.id", [KIND, KIND]))


def status_counts(db: Database) -> dict[str, int]:
    """Return how many people with an address were reached, failed, or are still due."""
    total = db.execute("SELECT count(*) FROM participants WHERE email IS NOT NULL "
                       "AND email != ''").fetchone()[0]
    due = len(recipients(db))
    failed = len(failures(db))
    return {"with_email": total, "reached": total - due, "failed": failed,
            "not_yet": due - failed}
