"""Recording an excursion event of the day (departure, return, walk-on) with its projections."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.scans.projections import refresh_person


def store_event(db: Database, event: dict[str, Any]) -> None:
    """Append one checked excursion event to the log (the caller holds the write lock).

    A walk-on changes the person's excursion, so their projections are recomputed in the same
    transaction; a departure or return changes no person's rows (counts read the status).
    """
    db.execute(
        "INSERT INTO excursion_events (id, excursion, action, participant_id, at, "
        "received_at, device_id, detail) VALUES (:id, :excursion, :action, :participant_id, "
        ":at, :received_at, :device_id, :detail)", event)
    if event.get("participant_id") is not None:
        refresh_person(db, event["participant_id"])
