"""Organiser pages for devices: the list, adding one, its pairing QR code, revoking it."""

from __future__ import annotations

from typing import Any

import qrcode
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from markupsafe import Markup
from qrcode.image.svg import SvgPathImage

from checkin import devices
from checkin.core import clock
from checkin.core.clock import now_iso
from checkin.core.db import get_db
from checkin.core.event import event_zone
from checkin.devices.signals import device_revoked
from checkin.security.permissions import organiser_required
from checkin.tls.reach import device_base_url, lan_addresses_from_config
from checkin.web.signals import send

# Pairing codes are stored only hashed; the organiser's own (signed) session keeps the plain
# code for the few minutes it is valid, so the QR page survives a reload.
SESSION_KEY = "pairing_codes"


def qr_svg(text: str, label: str) -> Markup:
    """Return an inline SVG QR code of `text` (our own URL, so safe to embed) named `label`."""
    image = qrcode.make(text, image_factory=SvgPathImage, box_size=10, border=4)
    svg = image.to_string(encoding="unicode")
    svg = svg[svg.index("<svg"):]
    # The SVG comes from qrcode (no user input); the label is escaped by Markup's %.
    labelled = Markup('<svg role="img" aria-label="%s" ') % label
    return Markup(svg.replace("<svg ", labelled, 1))  # noqa: S704


def _remember(device_id: str, code: str, expires: str) -> None:
    stamp = now_iso()
    codes = {k: v for k, v in session.get(SESSION_KEY, {}).items() if v[1] > stamp}
    codes[device_id] = [code, expires]
    session[SESSION_KEY] = codes


def _choices() -> list[dict[str, Any]]:
    return list(get_db().query("SELECT id, kind, name FROM checkpoints ORDER BY position, id"))


@organiser_required
def index() -> Any:
    """List devices and add new ones."""
    db = get_db()
    error, form = None, {"name": "", "role": "scanner", "checkpoint": ""}
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in form}
        try:
            added = devices.add_device(db, form["name"], form["role"], form["checkpoint"] or None)
        except devices.DeviceError as exc:
            error = exc.message
        else:
            _remember(added["id"], added["pairing_code"], added["pair_expires_at"])
            return redirect(url_for("devices.detail", device_id=added["id"]), 303)
    every = devices.list_devices(db)
    show_all = request.args.get("show") == "all"
    shown = every if show_all else [d for d in every if d["status"] != "revoked"]
    return render_template("devices/index.html", devices=shown, show_all=show_all,
                           revoked=sum(d["status"] == "revoked" for d in every),
                           zone=event_zone(db), checkpoints=_choices(), form=form,
                           error=error), (400 if error else 200)


@organiser_required
def detail(device_id: str) -> Any:
    """Show one device and, while it is valid, the pairing QR code for it."""
    device = devices.get_device(get_db(), device_id)
    if device is None:
        abort(404)
    pairing = None
    zone = event_zone(get_db())
    code, expires = session.get(SESSION_KEY, {}).get(device_id, [None, None])
    if code and device["status"] != "revoked" and expires > now_iso() \
            and device["pair_expires_at"] == expires:
        base = device_base_url(request.host_url, lan_addresses_from_config(current_app.config))
        # No LAN address at all: show the page's own address, with a warning beside it.
        url = devices.pair_url(base or request.host_url, code)
        pairing = {"url": url, "qr": qr_svg(url, _("QR code of the pairing address")),
                   "unreachable": base is None,
                   "expires": clock.clock_text(expires, zone)}
    return render_template("devices/detail.html", device=device, pairing=pairing, zone=zone)


@organiser_required
def new_code(device_id: str) -> Any:
    """Make a new pairing code for a device (the previous one stops working)."""
    try:
        code, expires = devices.new_pairing_code(get_db(), device_id)
    except devices.DeviceError:
        abort(404)
    _remember(device_id, code, expires)
    return redirect(url_for("devices.detail", device_id=device_id), 303)


@organiser_required
def revoke(device_id: str) -> Any:
    """Revoke a device: its token stops working at once."""
    if devices.revoke(get_db(), device_id):
        # Its open live connection (a dashboard, a guide's phone) is closed now, not later.
        send(device_revoked, device_id=device_id)
        flash(_("The device is revoked; it cannot scan any more."))
    return redirect(url_for("devices.index"), 303)


def register(app: Flask) -> None:
    """Attach the organisers' device pages to the app."""
    bp = Blueprint("devices", __name__)
    bp.add_url_rule("/devices", view_func=index, methods=["GET", "POST"])
    bp.add_url_rule("/devices/<device_id>", view_func=detail)
    bp.add_url_rule("/devices/<device_id>/pairing", view_func=new_code, methods=["POST"])
    bp.add_url_rule("/devices/<device_id>/revoke", view_func=revoke, methods=["POST"])
    app.register_blueprint(bp)
