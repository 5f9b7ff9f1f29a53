"""Signals of the security domain, so the live layer can act without being imported."""

from blinker import Namespace

_signals = Namespace()

#: Sent after an organiser signed out in the server (sender = the Flask app, kwarg
#: `session_id`): their open /live connections close at once. Sessions ended from the
#: command line (organiser remove, a new password) close at the publisher's next tick.
session_ended = _signals.signal("session-ended")
