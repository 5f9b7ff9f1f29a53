"""Sign-in, sign-out and first-organiser setup pages."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from checkin.auth import SESSION_ID, accounts, sessions
from checkin.auth.signals import session_ended
from checkin.core.db import get_db
from checkin.core.errors import DomainError

THROTTLE = "checkin.login_throttle"


def sign_in(username: str) -> None:
    """Start a fresh server-side session for `username` in a new cookie."""
    session.clear()
    session[SESSION_ID] = sessions.start_session(get_db(), username)
    session.permanent = True
    g.organiser = username


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative redirects after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") \
            and not urlsplit(target).netloc:
        return target
    return url_for("participants.index")


def login() -> Any:
    """Show the sign-in form and sign organisers in."""
    error, status = None, 200
    if request.method == "POST":
        throttle = current_app.extensions[THROTTLE]
        address = request.remote_addr or "unknown"
        username = request.form.get("username", "")
        if wait := throttle.wait_seconds(address):
            # Checked before the password, so that guessing gains nothing while it waits.
            minutes = (wait + 59) // 60
            waiting = DomainError("too_many_logins", num=minutes)
            error, status = waiting.message, waiting.status
        elif accounts.check_login(get_db(), username, request.form.get("password", "")):
            throttle.succeeded(address)
            sign_in(username.strip())
            return redirect(_safe_next(request.args.get("next")))
        else:
            throttle.failed(address)
            refused = DomainError("wrong_login")
            error, status = refused.message, refused.status
    no_accounts = not accounts.has_organisers(get_db())
    # A wrong password keeps the username, so only the password is typed again.
    response = render_template("auth/login.html", error=error, no_accounts=no_accounts,
                               username=request.form.get("username", "")[:200])
    if status == 429:
        return response, status, {"Retry-After": str(wait)}
    return response, status


def logout() -> Any:
    """Sign the organiser out: the session ends for every copy of the cookie."""
    from checkin.http.signals import send

    sid = session.get(SESSION_ID)
    sessions.end_session(get_db(), sid)
    session.clear()
    g.organiser = None
    if sid:
        # Its open live connections (the overview's pushes) close now, not at the next tick.
        send(session_ended, session_id=sid)
    flash(_("You are signed out."))
    return redirect(url_for("auth.login"))


def setup(token: str) -> Any:
    """Let the first organiser choose a username and password with the one-time link."""
    db = get_db()
    if not accounts.setup_token_valid(db, token):
        # A used link says so and points to the sign-in; an unknown one is simply not found.
        abort(410 if accounts.setup_token_used(db, token) else 404)
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        try:
            if password != request.form.get("password2", ""):
                raise accounts.AccountError("passwords_differ")
            accounts.check_account(username, password)
        except accounts.AccountError as exc:
            error = exc.message
        else:
            if not accounts.use_setup_token(db, token, username, password):
                abort(404)
            sign_in(username)
            return redirect(url_for("participants.index"))
    return render_template("auth/setup.html", error=error, min_length=accounts.MIN_PASSWORD), \
        (400 if error else 200)
