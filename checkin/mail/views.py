"""The Participants page's badge mailing: who is reached, and a run started from the browser
with its progress shown live. The sending itself is checkin.mail.sending, as on the command
line; the SMTP password is used for the run and never stored."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from checkin import mail
from checkin.core.db import connect, get_db
from checkin.core.errors import Text
from checkin.desk.background import Worker
from checkin.mail.sending import Connection, send_all
from checkin.participants.records import EMAIL
from checkin.security.permissions import organiser_required

RUN = "checkin.mail.run"
SECURITY = ("starttls", "ssl", "plain")


@dataclass
class Run:
    """The state of the page's mailing run, shared between the request and its thread."""

    running: bool = False
    done: int = 0
    total: int = 0
    sent: int = 0
    failed: int = 0
    stopped: str | None = None
    problem: Text | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    worker: Worker = field(default_factory=lambda: Worker("badge-mail"), repr=False)

    def public(self) -> dict[str, Any]:
        """Return the state as the progress endpoint shows it."""
        with self.lock:
            state = {k: getattr(self, k) for k in ("running", "done", "total", "sent",
                                                   "failed", "stopped")}
            # Worded here, in the language of whoever asks for the progress.
            return {**state, "problem": None if self.problem is None else str(self.problem)}


def _run() -> Run:
    found = current_app.extensions.get(RUN)
    if found is None:
        found = current_app.extensions[RUN] = Run()
    return found


def check_form(form: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Check the mailing form; return the settings and a message per bad field."""
    errors: dict[str, str] = {}
    server = form.get("smtp", "").strip()
    host, sep, port = server.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        errors["smtp"] = _("Give the SMTP server as host:port, e.g. mail.example.org:587.")
    sender = form.get("sender", "").strip()
    if not EMAIL.match(sender):
        errors["sender"] = _("Give the sender's e-mail address.")
    security = form.get("security", "starttls")
    if security not in SECURITY:
        errors["security"] = _("Choose how to connect.")
    user = form.get("user", "").strip() or None
    settings = {"host": host.strip("[]"), "port": int(port) if port.isdigit() else 0,
                "sender": sender, "security": security, "user": user,
                "password": form.get("password") or None,
                "resend": form.get("resend") == "yes"}
    return settings, errors


def _send_in_background(run: Run, db_path: str, settings: dict[str, Any]) -> None:
    """The run itself (in the worker thread, with its own connection to the database)."""
    db = connect(db_path)
    try:
        folder = mail.template_folder(Path(db_path))
        mail.ensure_templates(folder)
        templates = mail.Templates.load(folder)
        people = mail.recipients(db, resend=settings["resend"])
        with run.lock:
            run.total = len(people)

        def progress(done: int, _total: int) -> None:
            with run.lock:
                run.done = done

        connection = Connection(settings["host"], settings["port"], settings["security"],
                                settings["user"], settings["password"])
        outcome = send_all(db, people, templates, settings["sender"], connection,
                           progress=progress)
        with run.lock:
            run.sent, run.failed, run.stopped = outcome.sent, len(outcome.failed), outcome.stopped
    except mail.TemplateProblem as exc:
        with run.lock:
            run.problem = exc.text
    finally:
        with run.lock:
            run.running = False
        db.conn.close()


def mailing() -> Any:
    """The mailing page (GET), or start a run (POST) and come back to the page."""
    run = _run()
    errors: dict[str, str] = {}
    form = {"smtp": "", "sender": "", "security": "starttls", "user": ""}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in ("smtp", "sender", "security", "user",
                                                      "password", "resend")}
        settings, errors = check_form(form)
        if not errors:
            with run.lock:
                if run.running:
                    errors["smtp"] = _("A mailing is already running.")
                else:
                    run.running, run.done, run.total = True, 0, 0
                    run.sent, run.failed, run.stopped, run.problem = 0, 0, None, None
            if not errors:
                run.worker.submit(_send_in_background, run, current_app.config["DATABASE"],
                                  settings)
                return redirect(url_for("mailing.mailing"), code=303)
        form.pop("password", None)
    db = get_db()
    status = 400 if errors else 200
    return render_template("participants/mail.html", counts=mail.status_counts(db),
                           failures=mail.failures(db), run=run.public(), form=form,
                           errors=errors), status


def progress() -> Any:
    """The running mailing's progress, for the page to show live."""
    response = jsonify(_run().public())
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    """Attach the mailing page and its progress to the app (organisers only)."""
    bp = Blueprint("mailing", __name__)
    bp.add_url_rule("/participants/mail", view_func=organiser_required(mailing),
                    methods=["GET", "POST"])
    bp.add_url_rule("/participants/mail/progress", view_func=organiser_required(progress))
    app.register_blueprint(bp)
