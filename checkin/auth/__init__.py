"""Who is signed in, and the decorator that keeps organisers' pages for organisers.

Sign-in, sign-out and setup pages are in checkin.auth.views; accounts and server-side
sessions in checkin.auth.accounts and checkin.auth.sessions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, g, redirect, request, session, url_for

from checkin.auth import sessions
from checkin.core.db import get_db
from checkin.core.permissions import MANAGE, may, organiser_actor

SESSION_ID = "sid"


def current_organiser() -> str | None:
    """Return the signed-in organiser's username, if their server-side session is live."""
    if "organiser" not in g:
        sid = session.get(SESSION_ID)
        g.organiser = sessions.session_user(get_db(), sid) if sid else None
    return g.organiser


def organiser_page(action: str = MANAGE) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Return a decorator for organisers' pages: visitors go to sign-in, others get 403."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            username = current_organiser()
            if username is None:
                # full_path ends in a bare "?" when there is no query string.
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not may(organiser_actor(username), action):
                abort(403)
            return view(**kwargs)

        return wrapped

    return decorate


#: The decorator of every organisers' page.
organiser_required = organiser_page(MANAGE)
