"""What every page shares on screen: event-time filters, the favicon and friendly error pages."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, render_template, request, send_from_directory
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from checkin.core.clock import clock_text, parse
from checkin.core.event import event_zone

# The API answers errors in JSON itself; only pages get the friendly HTML.
API_PREFIX = "/api/"


def local_time(value: str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Format a stored UTC ISO time in the event's time zone ('' when there is none)."""
    if not value:
        return ""
    if parse(value) is None:
        return str(value)
    from checkin.core.db import get_db

    return clock_text(value, event_zone(get_db()), fmt)


def event_text(kind: str, ident: str | None, fallback: str | None) -> str | None:
    """Return an event name (room, excursion, group, place) in the viewer's language."""
    from flask import g
    from flask_babel import get_locale

    from checkin.core.db import get_db
    from checkin.core.texts import all_texts, localized

    if "event_texts" not in g:
        g.event_texts = all_texts(get_db())
    return localized(g.event_texts, kind, ident, str(get_locale()), fallback)


def checkpoint_text(checkpoint: str | None, fallback: str | None) -> str | None:
    """Return a checkpoint's name (by its id) in the viewer's language."""
    if not checkpoint:
        return fallback
    kind, _, ref = checkpoint.partition(":")
    if kind == "entrance":
        return event_text("venue", "entrance", fallback)
    return event_text(kind, ref, fallback)


def event_names() -> dict[str, Any]:
    """Return the names device pages show, in the viewer's language, for their scripts."""
    from flask_babel import get_locale

    from checkin.core.db import get_db
    from checkin.core.texts import all_texts, checkpoint_names, localized

    db, lang = get_db(), str(get_locale())
    texts = all_texts(db)
    excursions = {x["id"]: {"title": localized(texts, "excursion", x["id"], lang, x["title"]),
                            "departure_place": localized(texts, "departure_place", x["id"],
                                                         lang, x["departure_place"])}
                  for x in db.query("SELECT id, title, departure_place FROM excursions")}
    groups = {w["id"]: {"title": localized(texts, "working_group", w["id"], lang, w["title"])}
              for w in db.query("SELECT id, title FROM working_groups")}
    return {"checkpoints": checkpoint_names(db, lang), "excursions": excursions,
            "working_groups": groups}


def _error_page(exc: HTTPException) -> Any:
    """Render a translated page for an HTTP error on a page (JSON stays with the API)."""
    if request.path.startswith(API_PREFIX):
        return exc
    status = exc.code or 500
    titles = {404: _("Page not found"), 410: _("This link was already used"),
              500: _("Something went wrong")}
    texts = {404: _("There is nothing at this address. Check the link, or start again from the "
                    "first page."),
             410: _("This one-time link has done its job. Sign in with the account it created "
                    "instead."),
             500: _("The server could not finish this. Nothing you entered is lost: go back "
                    "and try again, and tell an organiser if it happens again.")}
    title = titles.get(status, exc.name)
    text = texts.get(status, exc.description or "")
    return render_template("error.html", status=status, title=title, text=text), status


def _server_error(_exc: Exception) -> Any:
    """Show the friendly page for an unexpected failure."""
    from werkzeug.exceptions import InternalServerError

    return _error_page(InternalServerError())


def favicon() -> Response:
    """Serve the app's icon where browsers look for it by default."""
    return send_from_directory(str(current_app.static_folder), "img/favicon.svg",
                               mimetype="image/svg+xml", max_age=86400)


def names_api() -> Any:
    """GET /api/v1/event-names: the event's names in the caller's language (?lang=), for
    device pages; like every device API call it needs a device token or an organiser."""
    from checkin.api.views import actor
    from checkin.security.permissions import IDENTIFY, require

    require(actor(), IDENTIFY)
    return event_names()


def register(app: Flask) -> None:
    """Attach the shared filters, the favicon and the error pages to the app."""
    from checkin.api.views import api_blueprint

    bp = api_blueprint("event_names")
    bp.add_url_rule("/event-names", view_func=names_api)
    app.register_blueprint(bp)
    app.add_template_filter(local_time, "local_time")
    app.add_template_global(event_text, "event_text")
    app.add_template_global(checkpoint_text, "checkpoint_text")
    app.add_template_global(event_names, "event_names")
    app.add_url_rule("/favicon.ico", "favicon", favicon)
    for status in (404, 405, 410):
        app.register_error_handler(status, _error_page)
    app.register_error_handler(500, _server_error)
