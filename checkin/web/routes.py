"""Every URL rule of the app, in one place, grouped by who uses it."""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, url_for

from checkin.auth import views as auth
from checkin.auth.throttle import LoginThrottle


def register(app: Flask) -> None:
    """Create the blueprints, attach every URL rule, and register them with the app."""
    # Blueprints are made here, per app, so that no module holds mutable state.
    # --- Everyone: sign-in, first-organiser setup -------------------------------------
    bp = Blueprint("auth", __name__)
    bp.add_url_rule("/login", view_func=auth.login, methods=["GET", "POST"])
    bp.add_url_rule("/logout", view_func=auth.logout, methods=["POST"])
    bp.add_url_rule("/setup/<token>", view_func=auth.setup, methods=["GET", "POST"])
    app.register_blueprint(bp)
    app.extensions[auth.THROTTLE] = LoginThrottle()
    app.add_url_rule("/", "home", lambda: redirect(url_for("participants.index")))
    # --- Everyone: the local CA certificate (/ca.crt) for devices to trust HTTPS ----------
    from checkin.tls import views as tls

    tls.register(app)

    # --- Organisers: participants, badges, upload ---------------------------------------
    from checkin.participants import views as participants

    participants.register(app)
    from checkin.mail import views as mailing

    mailing.register(app)

    # --- Organisers: devices and pairing; devices: the scan API /api/v1 --------------------
    from checkin.api import views as api
    from checkin.devices import views as device_pages

    device_pages.register(app)
    api.register(app)
    # --- Desks and kiosks: walk-ins, printing, self check-in ----------------------------------
    from checkin.desk import views as desk

    desk.register(app)
    # --- Devices: the scanner page ----------------------------------------------------------
    # [scanner]
    from checkin.scanner import views as scanner

    scanner.register(app)
    # --- Live: dashboard, guide page, organisers' overview, reports --------------------------
    # [live]
    from checkin.excursions import views as excursions
    from checkin.reports import views as reports

    excursions.register(app)
    reports.register(app)
    from checkin import live

    live.register(app)
    # --- Marshals, guides, organisers, displays: roll calls (issue 22) -------------------
    from checkin.rollcall import views as rollcall

    rollcall.register(app)
    # --- Organisers: erasing a person's personal data (issue 8) --------------------------
    from checkin.security import views as privacy

    privacy.register(app)
    # --- Everyone: favicon, friendly error pages, event-time filters --------------------------
    from checkin.web import screen

    screen.register(app)
