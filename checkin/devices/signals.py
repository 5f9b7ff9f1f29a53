"""Signals the devices domain's callers send, so the live layer can act without being imported."""

from blinker import Namespace

_signals = Namespace()

#: Sent after an organiser revoked a device in the server (sender = the Flask app, kwarg
#: `device_id`). A revocation from the command line reaches /live at the publisher's next tick.
device_revoked = _signals.signal("device-revoked")
