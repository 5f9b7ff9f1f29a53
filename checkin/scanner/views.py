"""Scanner pages: pairing a tablet, the scanner itself, and the service worker that keeps
it working offline. The pages are shells; everything they show comes from the device API."""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from flask import Blueprint, Flask, Response, render_template, url_for
from flask_babel import gettext as _

from checkin.auth.views import current_organiser
from checkin.core.db import get_db
from checkin.core.event import event_zone
from checkin.core.paths import STATIC, TEMPLATES

# Files the service worker keeps so that a reload without network still shows the page
# (the registration desk's panel too: offline it says what waits for the server).
SHELL_ASSETS = ("css/app.css", "css/scanner.css", "js/checkin-wipe.js", "js/checkin-idb.js",
                "js/scanner-store.js", "js/checkin-camera.js", "js/scanner.js",
                "vendor/jsqr/jsQR.js", "js/checkin-ui.js", "img/icons.svg", "css/desk.css",
                "js/desk.js")
SW_SOURCE = "js/scanner-sw.js"
NO_STORE = {"Cache-Control": "no-store, private"}


def strings() -> dict[str, str]:
    """Every text the scanner's JavaScript shows, translated for the current language."""
    return {
        "accepted_in": _("Welcome"),
        "accepted_out": _("Goodbye"),
        "accepted": _("Accepted"),
        "warning": _("Attention"),
        "rejected": _("Not admitted"),
        "already_in": _("Already checked in at {time}"),
        "already_in_plain": _("Already checked in"),
        "not_assigned": _("Not on the list for this checkpoint"),
        "not_assigned_excursion": _("Not assigned to this excursion"),
        "not_assigned_room": _("Their working group does not meet in this room"),
        "over_capacity": _("Over capacity: more people inside than places"),
        "unknown_code": _("Unknown badge"),
        "revoked_code": _("This badge was replaced and is no longer valid"),
        "invalid": _("Not a badge code"),
        "id_conflict": _("This scan's number belongs to another scan"),
        "id_conflict_resent": _("This scan's number belonged to another scan: it was sent "
                                "again under a new number."),
        "saved_offline": _("Saved offline, will be sent when the connection is back"),
        "unchecked_offline": _("Saved offline; could not be checked (no offline list yet)"),
        "offline_already": _("Already scanned here on this device at {time}"),
        "undo": _("Undo this scan"),
        "undone": _("Scan undone"),
        "undo_failed": _("Could not undo the scan"),
        "ready": _("Ready to scan"),
        "ready_hint": _("Hold a badge in front of the camera, use the hand scanner, "
                        "or search a name."),
        "waiting": _("{n} scans waiting to be sent"),
        "waiting_one": _("1 scan waiting to be sent"),
        "dropped": _("{n} scans refused by the server (kept on this device)"),
        "dropped_one": _("1 scan refused by the server (kept on this device)"),
        "online": _("Online"),
        "offline": _("Offline: scans are saved on this device"),
        "refused": _("The server refuses the waiting scans: {message}"),
        "inside": _("{inside} inside of {expected}"),
        "inside_capacity": _("{inside} inside of {expected} (capacity {capacity})"),
        "count_as_of": _("as of {time}"),
        "camera_off": _("Camera is off"),
        "camera_on": _("Turn camera on"),
        "camera_stop": _("Turn camera off"),
        "camera_unavailable": _("No camera available here. Use the hand scanner or the name "
                                "search."),
        "camera_insecure": _("The camera needs a secure (https) connection."),
        "search_offline": _("Name search needs a connection."),
        "search_offline_name": _("Offline, only the full last name finds someone."),
        "search_offline_found": _("Found offline by the full last name."),
        "search_none": _("Nobody found."),
        "search_short": _("Type at least 2 letters."),
        "searching": _("Searching…"),
        "in": _("In"),
        "out": _("Out"),
        "direction_in": _("Checking in"),
        "direction_out": _("Checking out"),
        "not_paired": _("This device is not paired."),
        "revoked_device": _("This device is no longer allowed to scan. Ask an organiser to "
                            "pair it again."),
        "display_device": _("This is a display device: it shows numbers but does not scan."),
        "no_checkpoints": _("This device may not scan at any checkpoint."),
        "loading": _("Loading…"),
        "sent": _("sent"),
        "queued": _("waiting"),
        "participant_search": _("name search"),
        "sound_on": _("Mute sound"),
        "sound_off": _("Turn sound on"),
        "kind_entrance": _("Entrance"),
        "kind_room": _("Room"),
        "kind_excursion": _("Excursion"),
        "fixed_checkpoint": _("This device is set to this checkpoint."),
        "pair_working": _("Pairing this device…"),
        "pair_done": _("Paired. Opening the scanner…"),
        "pair_unknown": _("This pairing code is unknown, was already used or has expired. Ask "
                          "an organiser for a new pairing QR code."),
        "pair_expired": _("This pairing code has expired. Ask an organiser for a new pairing "
                          "QR code."),
        "pair_failed": _("Pairing failed: {message}"),
        "pair_offline": _("The server cannot be reached. Check the Wi-Fi and try again."),
        "error_network": _("The server cannot be reached."),
    }


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


@functools.cache
def _shell_version(assets: tuple[str, ...], templates: tuple[str, ...]) -> str:
    """A hash of the shell's files, so a changed file makes browsers fetch a new shell."""
    digest = hashlib.sha256()
    # The page's template counts too: its strings and markup are part of the shell.
    files = [STATIC / name for name in (*assets, SW_SOURCE)]
    files += [TEMPLATES / name for name in templates]
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@functools.cache
def _sw_source() -> str:
    """The service worker's source; like the shell's files it cannot change while serving."""
    return (STATIC / SW_SOURCE).read_text(encoding="utf-8")


def worker_response(page: str, assets: tuple[str, ...], templates: tuple[str, ...],
                    cache: str = "checkin-scanner-") -> Response:
    """The service worker for an offline page: scanner-sw.js filled in with the page, the
    files it keeps, their version, and its own cache name (the guide's page uses it too)."""
    source = _sw_source()
    urls = [url_for("static", filename=name) for name in assets]
    # A cache name per page: one page's worker never deletes another page's cache.
    source = (source.replace('"checkin-scanner-"', json.dumps(cache))
              .replace("__VERSION__", _shell_version(assets, templates))
              .replace('"__ASSETS__"', json.dumps(urls))
              .replace("__PAGE__", page))
    return Response(source, mimetype="text/javascript", headers={
        # The worker lives at <page>/sw.js but must control the page itself.
        "Service-Worker-Allowed": page,
        "Cache-Control": "no-cache",
    })


def service_worker() -> Response:
    """The scanner's service worker, with the list of files it caches and their version."""
    return worker_response(url_for("scanner.scan"), SHELL_ASSETS,
                           ("scanner/scan.html", "base.html", "_languages.html",
                            "_device_states.html", "_icon.html", "desk/_panel.html",
                            "_refused.html"))


def register(app: Flask) -> None:
    """Attach the scanner and pairing pages and the service worker to the app."""
    bp = Blueprint("scanner", __name__)
    bp.add_url_rule("/scan", view_func=scan)
    bp.add_url_rule("/scan/sw.js", view_func=service_worker)
    bp.add_url_rule("/pair/<code>", view_func=pair)
    app.register_blueprint(bp)
