"""How the device API answers: its errors, who is calling, the JSON body, its blueprints.

The device API's views (checkin.api.views), the desk's and the guide's APIs answer alike
through these.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, request
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms.validators import ValidationError

from checkin import devices
from checkin.auth import current_organiser
from checkin.core.clock import now_iso
from checkin.core.db import get_db
from checkin.core.errors import DomainError, say
from checkin.core.permissions import organiser_actor
from checkin.http.extensions import csrf

MAX_BODY = 1024 * 1024
#: On a refused device token: the device deletes everything it stored.
WIPE_HEADER = "X-Checkin-Wipe"
#: Every API answer carries the server's time: device pages keep their clock's offset by it.
TIME_HEADER = "X-Checkin-Time"
PREFIX = "/api/v1"
HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
              405: "method_not_allowed", 413: "body_too_large", 500: "internal_error"}



class ApiError(DomainError):
    """An answer other than success, from the error catalogue (checkin.core.errors)."""


def error_response(status: int, code: str, message: Any) -> Any:
    """Return the API's error shape with `status` (the message in the caller's language)."""
    response = jsonify({"error": {"code": code, "message": str(message)}})
    response.status_code = status
    return response


def actor() -> dict[str, Any]:
    """Return who is calling: the device of the bearer token, or the signed-in organiser."""
    header = request.headers.get("Authorization")
    if header is not None:
        scheme, _sep, token = header.strip().partition(" ")
        device = devices.authenticate(get_db(), token.strip()) \
            if scheme.lower() == "bearer" else None
        if device is None:
            raise ApiError("bad_token")
        return device
    username = current_organiser()
    if username is None:
        raise ApiError("no_token")
    if request.method == "POST":
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError:
            raise ApiError("bad_csrf_token") from None
    return organiser_actor(username)


def json_body() -> dict[str, Any]:
    """Return the request's JSON object, or answer 400 bad_json (413 when over 1 MB)."""
    data = request.get_data(cache=True)
    if not data:
        # Also what a chunked body without Content-Length looks like: Werkzeug refuses to
        # read a stream of unknown length.
        raise ApiError("bad_json.empty")
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise ApiError("bad_json.invalid") from None
    if not isinstance(body, dict):
        raise ApiError("bad_json.not_object")
    return body


def _limit_body() -> None:
    # The app allows 10 MB for CSV uploads; devices never need more than 1 MB.
    request.max_content_length = MAX_BODY


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    # Set last, so that it is as close as can be to the moment the answer leaves.
    response.headers[TIME_HEADER] = now_iso()
    return response


def domain_error(exc: DomainError) -> Any:
    """Answer a domain error in the API's shape, in the caller's language."""
    # The one place a domain error becomes an HTTP answer.
    response = error_response(exc.status, exc.code, exc.text)
    if exc.code == "bad_token":
        # A revoked (lost) device forgets what it stored: the token, its queue, its roster
        # (static/js/checkin-wipe.js). Not Clear-Site-Data: browsers clear with it at a moment
        # of their choosing, also the tombstone that lets the page say "removed".
        response.headers[WIPE_HEADER] = "storage"
    return response


def _http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    message = say("body_too_large") if status == 413 else (exc.description or "")
    return error_response(status, HTTP_CODES.get(status, "http_error"), message)


def api_blueprint(name: str, url_prefix: str = PREFIX) -> Blueprint:
    """Return a blueprint that answers like the device API: 1 MB bodies, no-store, JSON
    errors, bearer tokens instead of form CSRF (the guide API under /api/v1 uses it too)."""
    bp = Blueprint(name, __name__, url_prefix=url_prefix)
    bp.before_request(_limit_body)
    bp.after_request(_no_store)
    bp.register_error_handler(DomainError, domain_error)
    bp.register_error_handler(HTTPException, _http_error)
    # Devices authenticate with bearer tokens, not cookies, so form CSRF does not apply;
    # organiser sessions are checked against X-CSRFToken in actor().
    csrf.exempt(bp)
    return bp
