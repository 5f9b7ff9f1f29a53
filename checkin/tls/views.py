"""The CA certificate download, so a tablet or phone can trust the server once."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app

from checkin.tls.certs import ca_der


def tls_folder(app: Flask) -> Path:
    """Return where `checkin serve` keeps its certificates for this app's event database."""
    configured = app.config.get("TLS_DIR")
    return Path(configured) if configured else Path(app.config["DATABASE"]).parent / "tls"


def ca_certificate() -> Response:
    """Serve the local CA certificate (DER) for devices to install; 404 before it exists."""
    der = ca_der(tls_folder(current_app._get_current_object()))  # type: ignore[attr-defined]
    if der is None:
        abort(404)
    # This MIME type makes iOS offer the profile and Android the certificate installer.
    return Response(der, mimetype="application/x-x509-ca-cert", headers={
        "Content-Disposition": 'attachment; filename="checkin-ca.crt"',
        "Cache-Control": "no-cache"})


def register(app: Flask) -> None:
    """Add the public /ca.crt rule."""
    bp = Blueprint("tls", __name__)
    bp.add_url_rule("/ca.crt", view_func=ca_certificate)
    app.register_blueprint(bp)
