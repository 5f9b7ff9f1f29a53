"""The marshal's phone page and the roll call on a phone: the texts their JavaScript shows and
the files the marshal page's service worker keeps (the guide's page shares the roll call's)."""

from __future__ import annotations

from flask_babel import gettext as _

# Files the marshal page's service worker keeps, so a reload without network shows the page.
MARSHAL_ASSETS = ("css/app.css", "css/guide.css", "css/rollcall.css", "js/checkin-wipe.js",
                  "js/checkin-idb.js", "js/scanner-store.js", "js/checkin-camera.js",
                  "js/rollcall-phone.js", "js/marshal.js", "vendor/jsqr/jsQR.js",
                  "vendor/socket.io/socket.io.min.js", "js/checkin-ui.js", "img/icons.svg")
MARSHAL_TEMPLATES = ("scanner/marshal.html", "scanner/_rollcall.html", "base.html",
                     "_languages.html", "_device_states.html", "_icon.html", "_refused.html")


def rollcall_strings() -> dict[str, str]:
    """The roll call's texts on a phone (marshal and guide), translated for the current
    language."""
    return {
        "rc_missing": _("Missing"),
        "rc_accounted": _("Accounted for"),
        "rc_missing_in": _("Missing, last seen in {place}: {n}"),
        "rc_missing_n": _("Missing: {n}"),
        "rc_accounted_n": _("Accounted for: {n}"),
        "rc_unknown_room": _("an unknown place"),
        "rc_last_seen": _("Last seen: {place}, {time}"),
        "rc_how_scan": _("Badge scanned at {place} · {time}"),
        "rc_how_tap": _("Seen at {place} · {time}"),
        "rc_how_elsewhere": _("Seen elsewhere · {time}"),
        "rc_how_left": _("Left earlier · {time}"),
        "rc_by": _("by {by}"),
        "rc_waiting": _("waiting to be sent"),
        "rc_started": _("Roll call started at {time}"),
        "rc_started_here": _("started on this phone"),
        "rc_started_now": _("Roll call started."),
        "rc_ended": _("The roll call ended at {time}."),
        "accounted_name": _("{name}: accounted for"),
        "already_accounted": _("{name} is already accounted for"),
        "end_offline": _("Ending the roll call needs a connection to the server."),
    }


def bus_strings() -> dict[str, str]:
    """The guide's "back on the bus" texts, with the roll call's, for the guide's page."""
    return rollcall_strings() | {
        "bus_none": _("Not started. Start it when everyone should be back on the bus."),
        "bus_counts": _("{accounted} of {expected} back, {missing} missing."),
        "bus_not_expected": _("{name} did not leave with this bus"),
    }


def marshal_strings() -> dict[str, str]:
    """Every text the marshal page's JavaScript shows, translated for the current language."""
    return rollcall_strings() | {
        "choose_point": _("Choose the assembly point"),
        "choose_point_first": _("Choose your assembly point first."),
        "snapshot_line": _("Ready: {n} people present, list of {time}"),
        "snapshot_none": _("No list of who is present on this phone yet."),
        "start_summary": _("Everyone present is expected: {n} people (list of {time})."),
        "refused": _("The server refused: {message}"),
        "waiting": _("{n} waiting to be sent"),
        "dropped": _("{n} refused by the server (kept on this phone)"),
        "online": _("Online"),
        "offline": _("Offline: everything is saved on this phone"),
        "scan_accounted": _("{name}: accounted for"),
        "scan_accounted_offline": _("{name}: accounted for (waiting to be sent)"),
        "scan_not_expected": _("{name} was not inside when the roll call started"),
        "scan_no_rollcall": _("{name}: no roll call is running"),
        "unknown_offline": _("This badge is not on the list of who is present."),
        "unknown_code": _("Unknown badge"),
        "revoked_code": _("This badge was replaced and is no longer valid"),
        "invalid": _("Not a badge code"),
        "search_none": _("Nobody missing by that name."),
        "search_many": _("{n} people match: tap the name."),
        "camera_on": _("Scan badge"),
        "camera_stop": _("Stop camera"),
        "camera_unavailable": _("No camera available here. Use the hand scanner or tap the "
                                "names."),
        "camera_insecure": _("The camera needs a secure (https) connection."),
        "not_paired": _("This phone is not paired as a marshal's phone."),
        "not_marshal": _("This device is not a marshal's phone."),
    }
