"""Scanner pages: pairing a tablet, the scanner itself, and the service worker that keeps
it working offline. The pages are shells; everything they show comes from the device API."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, render_template, url_for

from checkin.auth import current_organiser
from checkin.core.assembly import marshals_may_start
from checkin.core.db import get_db
from checkin.core.event import event_zone
from checkin.scanner import NO_STORE, SHELL_ASSETS, strings, worker_response
from checkin.scanner.marshal import MARSHAL_ASSETS, MARSHAL_TEMPLATES, marshal_strings


def _page(template: str, **context: Any) -> Response:
    """Render a scanner page with its strings; never cached by the browser's HTTP cache."""
    organiser = current_organiser()
    html = render_template(template, strings=strings(), organiser=organiser, **context)
    return Response(html, headers=NO_STORE)


def scan() -> Response:
    """The scanner: choose checkpoint and direction, then scan badges (works offline)."""
    # Times on the tablet are the event's wall clock, whatever zone the tablet is set to.
    return _page("scanner/scan.html", timezone=str(event_zone(get_db())))


def pair(code: str) -> Response:
    """The page a tablet opens from the pairing QR: it trades the code for a device token."""
    # The code travels in the page only; the JavaScript posts it and forgets it.
    return _page("scanner/pair.html", code=code[:200])


def service_worker() -> Response:
    """The scanner's service worker, with the list of files it caches and their version."""
    return worker_response(url_for("scanner.scan"), SHELL_ASSETS,
                           ("scanner/scan.html", "base.html", "_languages.html",
                            "_device_states.html", "_icon.html", "desk/_panel.html",
                            "_refused.html"))


def marshal() -> Response:
    """The marshal's page: the roll call at an assembly point (works offline)."""
    organiser = current_organiser()
    db = get_db()
    config = {"organiser": organiser is not None, "timezone": str(event_zone(db)),
              "may_start": organiser is not None or marshals_may_start(db),
              "sw": url_for("scanner.marshal_worker"), "scope": url_for("scanner.marshal")}
    html = render_template("scanner/marshal.html", strings=marshal_strings(),
                           organiser=organiser, config=config)
    return Response(html, headers=NO_STORE)


def marshal_worker() -> Response:
    """The marshal page's service worker: the scanner's, with the marshal's files and cache."""
    return worker_response(url_for("scanner.marshal"), MARSHAL_ASSETS, MARSHAL_TEMPLATES,
                           cache="checkin-marshal-")


def register(app: Flask) -> None:
    """Attach the scanner and pairing pages and the service worker to the app."""
    bp = Blueprint("scanner", __name__)
    bp.add_url_rule("/scan", view_func=scan)
    bp.add_url_rule("/scan/sw.js", view_func=service_worker)
    bp.add_url_rule("/pair/<code>", view_func=pair)
    bp.add_url_rule("/marshal", view_func=marshal)
    bp.add_url_rule("/marshal/sw.js", view_func=marshal_worker)
    app.register_blueprint(bp)
