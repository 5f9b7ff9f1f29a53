"""Signals the excursions domain sends, so the live layer can push without being imported here."""

from blinker import Namespace

_signals = Namespace()

#: Sent after an excursion event was stored (sender = the Flask app, kwarg `excursion_id`).
excursion_changed = _signals.signal("excursion-changed")
