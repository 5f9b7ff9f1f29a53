"""Signals the scan domain's callers send, so the live layer can push updates."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: Sent by the API after new scans were stored and committed. Sender: the Flask app;
#: keyword `scans`: the new rows of table `scans` as dicts (duplicates are not included).
scans_recorded = _signals.signal("scans-recorded")

#: Sent after a correction (undo = 'void', or 'move') was stored and committed. Sender: the
#: Flask app; keywords `correction` (the corrections row as a dict) and `scan` (the scan row).
scan_corrected = _signals.signal("scan-corrected")

#: Sent after a roll call was started, ended or accounted in (an assembly scan too) and
#: committed. Sender: the Flask app; keyword `rollcall_id`.
rollcall_changed = _signals.signal("rollcall-changed")
