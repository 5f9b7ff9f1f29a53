"""Moved to checkin.scans.corrections (the correction rules belong to the scan domain)."""

from checkin.scans.corrections import MAX_NOTE, CorrectionError, correct, scan_state

__all__ = ["MAX_NOTE", "CorrectionError", "correct", "scan_state"]
