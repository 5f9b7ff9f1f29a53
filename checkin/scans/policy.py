"""Authorisation rules that are not about checkpoints: plain functions over the database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from checkin.core import clock
from checkin.core.clock import event_day_of, event_zone_of
from checkin.core.event import event_info
from checkin.core.permissions import may_read_names

#: How far a device's time may lie before or after the event's day (or the server's now).
SLACK = timedelta(days=1)


def device_time_window(db: Database, now: datetime | None = None
                       ) -> list[tuple[datetime, datetime]]:
    """Return the spans a device's time may fall in: the event's day ± 1 day, and now ± 1 day.

    The second span lets organisers rehearse with real devices before the day (and lets the
    demo event of 2019 be tried today); a time far from both is a wrong clock or a forgery.
    """
    now = now or clock.now()
    spans = [(now - SLACK, now + SLACK)]
    info = event_info(db)
    day = event_day_of(info)
    if day is None:
        return spans
    start, end = clock.day_span(day, event_zone_of(info))
    spans.append((start - SLACK, end + SLACK))
    return spans


def time_allowed(db: Database, moment: datetime, now: datetime | None = None,
                 window: list[tuple[datetime, datetime]] | None = None) -> bool:
    """Say whether a device time (aware) lies within the event's day ± 1 day or now ± 1 day.

    `window` is device_time_window's answer when the caller checks a whole batch with it.
    """
    return any(lo <= moment <= hi for lo, hi in (window or device_time_window(db, now)))


def guide_may_name(db: Database, checkpoint: str, excursion: str | None,
                   participant_ids: list[int]) -> bool:
    """Say whether a guide may record scans by bare participant id for all these people.

    Only for people on its roster: assigned to its excursion, or already scanned at its
    checkpoint (a badge from elsewhere, which the guide saw). Unknown ids are refused alike,
    so the answer reveals nothing about who exists.
    """
    if not participant_ids:
        return True
    # Imported here: the scan domain imports this policy.
    from checkin.scans.readmodel import excursion_members, latest_scans_at

    # Who is on the roster comes from the read model: the plan with the day's walk-ons
    # over it, and the people whose (not voided) badge scans reached this checkpoint.
    members = excursion_members(db, excursion) if excursion else {}
    scanned = latest_scans_at(db, checkpoint)
    return all(pid in members or pid in scanned for pid in set(participant_ids))


def guide_walk_on(body: dict[str, Any]) -> dict[str, Any] | None:
    """Return a guide's walk-on event reduced to its badge code, or None if it has no code.

    A guide adds someone by the badge it saw; only organisers may move a person by id.
    """
    code = body.get("code")
    if not isinstance(code, str) or not code:
        return None
    return {**body, "participant": None}


def counts_only(state: dict[str, Any]) -> dict[str, Any]:
    """Return an excursion's state without its roster: what a display may read."""
    keep = ("id", "title", "departure_place", "departs_at", "returns_at", "capacity", "status",
            "departed_at", "returned_at")
    return {"excursion": {k: state["excursion"].get(k) for k in keep},
            "counts": state["counts"]}


def may_read_roster(actor: dict[str, Any], state: dict[str, Any]) -> bool:
    """Say whether the actor may read an excursion's names (its state otherwise: counts only)."""
    return may_read_names(actor, state["excursion"]["status"] == "returned")


def excursion_view(actor: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """Return what the actor may read of an excursion's state: all of it, or its counts only."""
    return state if may_read_roster(actor, state) else counts_only(state)


def excursion_returned(db: Database, excursion_id: str) -> bool:
    """Say whether an excursion's return has been recorded."""
    from checkin.scans.day import has_returned

    return has_returned(db, excursion_id)
