"""Web hardening the app factory installs: Secure cookies and HSTS on HTTPS, trusted proxies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from checkin.auth.sessions import IDLE

HSTS = "max-age=31536000"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, marked Secure whenever the request came over HTTPS."""

    def open_session(self, app: Flask, request: Any) -> Any:
        """Open the signed-cookie session; without a cookie, a new empty one at once.

        Devices on the scan API send no cookie: building the signing serializer for nothing
        cost 1.4 % of a scan request's server CPU (py-spy, scripts/bench).
        """
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        """Say whether the cookie gets the Secure flag: configured so, or an HTTPS request."""
        return bool(app.config["SESSION_COOKIE_SECURE"]
                    or (has_request_context() and request.is_secure))


def _signed_in() -> bool:
    from checkin.auth import current_organiser

    return current_organiser() is not None


def hsts(response: Any) -> Any:
    """Tell browsers to come back only over HTTPS, on HTTPS answers."""
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def trusted_proxies(value: Any) -> int:
    """Return how many reverse proxies in front of the server to trust (0: none)."""
    try:
        hops = int(value or 0)
    except (TypeError, ValueError):
        raise ValueError(f"TRUSTED_PROXIES must be a whole number, not {value!r}") from None
    if not 0 <= hops <= 5:
        raise ValueError("TRUSTED_PROXIES must be 0 to 5")
    return hops


def install(app: Flask) -> None:
    """Install the server-side session interface and the HSTS header."""
    if app.config["PERMANENT_SESSION_LIFETIME"] == timedelta(days=31):  # Flask's default
        # The cookie lives as long as the server-side session may idle (checked there too).
        app.config["PERMANENT_SESSION_LIFETIME"] = IDLE
    app.session_interface = SessionInterface()
    # Templates ask the server-side session, never the cookie, whether someone is signed in.
    app.context_processor(lambda: {"signed_in": _signed_in})
    app.after_request(hsts)


def trust_proxies(app: Flask) -> None:
    """Believe X-Forwarded-* from the configured number of reverse proxies (0: none).

    Called after Socket.IO has wrapped the app, so that ProxyFix stands outermost and the
    per-address cap on live sessions sees the client's address too, not only Flask.
    """
    hops = trusted_proxies(app.config.get("TRUSTED_PROXIES"))
    if hops:
        # Only with an explicit setting: otherwise anyone could claim any address in
        # X-Forwarded-For and dodge the sign-in throttle.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops, x_port=hops)
