"""Sending the domains' signals from a request, after its commit (blinker signals).

Each domain declares its own signals (checkin.scans.signals, checkin.excursions.signals,
checkin.devices.signals); views send them through here, so that no feature imports another
feature's views to do so.
"""

from __future__ import annotations

from typing import Any

from flask import current_app


def send(signal: Any, **kwargs: Any) -> None:
    """Send a signal after a commit; a failing receiver must not fail the stored request."""
    try:
        signal.send(current_app._get_current_object(), **kwargs)
    except Exception:
        current_app.logger.exception("a receiver of %s failed", signal.name)
