"""Sign-in, sign-out and first-organiser setup pages."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext

from checkin.auth import accounts
from checkin.db import get_db

THROTTLE = "checkin.login_throttle"


def current_organiser() -> str | None:
    """Return the signed-in organiser's username, if any."""
    return session.get("organiser")


def organiser_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Send visitors who are not signed in as organisers to the sign-in page."""

    @functools.wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if current_organiser() is None:
            # full_path ends in a bare "?" when there is no query string.
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        g.organiser = current_organiser()
        return view(**kwargs)

    return wrapped


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
            error, status = ngettext(
                "Too many wrong passwords from this device. Try again in %(num)d minute.",
                "Too many wrong passwords from this device. Try again in %(num)d minutes.",
                minutes), 429
        elif accounts.check_login(get_db(), username, request.form.get("password", "")):
            throttle.succeeded(address)
            session.clear()
            session["organiser"] = username.strip()
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")))
        else:
            throttle.failed(address)
            error, status = _("Wrong username or password."), 401
    no_accounts = not accounts.has_organisers(get_db())
    # A wrong password keeps the username, so only the password is typed again.
    response = render_template("auth/login.html", error=error, no_accounts=no_accounts,
                               username=request.form.get("username", "")[:200])
    if status == 429:
        return response, status, {"Retry-After": str(wait)}
    return response, status


def logout() -> Any:
    """Sign the organiser out."""
    session.pop("organiser", None)
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
        if password != request.form.get("password2", ""):
            error = _("The two passwords differ.")
        elif accounts.password_problem(password):
            error = _("The password needs at least %(n)d characters.", n=accounts.MIN_PASSWORD)
        elif not username:
            error = _("Choose a username.")
        elif accounts.use_setup_token(db, token, username, password):
            session.clear()
            session["organiser"] = username
            return redirect(url_for("participants.index"))
        else:
            abort(404)
    return render_template("auth/setup.html", error=error, min_length=accounts.MIN_PASSWORD), \
        (400 if error else 200)
