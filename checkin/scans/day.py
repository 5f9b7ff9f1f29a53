"""The plan and the day: who is on which excursion, and the excursions' departures and returns.

The plan is `participants.excursion`; the day is the append-only `excursion_events` (walk-ons,
departures, returns), layered over the plan and never overwriting it: a person's excursion is
their latest walk-on, else the plan's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

# --------------------------------------------------------------------------- plan and day

# A person's excursion: the day's latest walk-on, else the plan. For SQL over `p`.
ASSIGNED_EXCURSION = ("coalesce((SELECT w.excursion FROM excursion_events w "
                      "WHERE w.participant_id = p.id AND w.action = 'walk_on' "
                      "ORDER BY w.seq DESC LIMIT 1), p.excursion)")


def day_assignments(db: Database) -> dict[int, str]:
    """Return the excursion each walked-on person was added to last (the day's events)."""
    return dict(db.execute("SELECT participant_id, excursion FROM excursion_events "
                           "WHERE action = 'walk_on' ORDER BY seq").fetchall())


def assigned_excursion(db: Database, participant_id: int) -> str | None:
    """Return the excursion a person is on: the day's latest walk-on, else the plan's."""
    found = db.execute(f"SELECT {ASSIGNED_EXCURSION} FROM participants p "  # noqa: S608
                       "WHERE p.id = ?", [participant_id]).fetchone()
    return found[0] if found else None


def excursion_members(db: Database, excursion_id: str) -> dict[int, bool]:
    """Return who is expected on an excursion: person id -> added on the day (walk-on)."""
    day = day_assignments(db)
    members = {pid: False for (pid,) in db.execute(
        "SELECT id FROM participants WHERE excursion = ?", [excursion_id]).fetchall()
        if pid not in day}
    # A walk-on back onto the planned excursion is still a walk-on: the guide added them.
    members.update((pid, True) for pid, excursion in day.items() if excursion == excursion_id)
    return members


def assignments(db: Database) -> dict[int, str]:
    """Return every assigned person's excursion: the plan with the day's walk-ons over it."""
    plan = dict(db.execute("SELECT id, excursion FROM participants "
                           "WHERE excursion IS NOT NULL").fetchall())
    plan.update(day_assignments(db))
    return plan


def day_conflicts(db: Database, planned: Iterable[tuple[int, int, str | None]]
                  ) -> list[dict[str, Any]]:
    """Return where a plan (line, person id, excursion) contradicts a walk-on of the day."""
    day = day_assignments(db)
    return [{"line": line, "participant_id": pid, "plan": excursion, "day": day[pid]}
            for line, pid, excursion in planned if pid in day and day[pid] != excursion]


# --------------------------------------------------------------------------- excursions

def excursion_statuses(db: Database) -> dict[str, dict[str, Any]]:
    """Return every excursion's status ('boarding', 'departed', 'returned') and its times."""
    out = {x: {"status": "boarding", "departed_at": None, "returned_at": None}
           for (x,) in db.execute("SELECT id FROM excursions").fetchall()}
    for excursion, action, at in db.execute(
            "SELECT excursion, action, at FROM excursion_events WHERE action IN "
            "('depart', 'return') ORDER BY seq").fetchall():
        state = out.setdefault(excursion, {"status": "boarding", "departed_at": None,
                                           "returned_at": None})
        if action == "depart" and state["departed_at"] is None:
            state["departed_at"] = at
            if state["status"] == "boarding":
                state["status"] = "departed"
        elif action == "return" and state["returned_at"] is None:
            state["returned_at"] = at
            state["status"] = "returned"
    return out


def has_returned(db: Database, excursion_id: str | None) -> bool:
    """Say whether an excursion's return was recorded (one lookup on its events' index)."""
    return db.execute("SELECT EXISTS (SELECT 1 FROM excursion_events WHERE excursion = ? "
                      "AND action = 'return')", [excursion_id]).fetchone()[0] == 1


# --------------------------------------------------------------------------- the events' log

def stored_event(db: Database, event_id: str) -> dict[str, Any] | None:
    """Return the stored excursion event with this id, or None."""
    found = list(db.query("SELECT * FROM excursion_events WHERE id = ?", [event_id]))
    return found[0] if found else None


def excursion_actions(db: Database, excursion_id: str) -> set[str]:
    """Return which actions (depart, return, walk_on) were recorded for an excursion."""
    return {r[0] for r in db.execute(
        "SELECT action FROM excursion_events WHERE excursion = ?", [excursion_id])}


def latest_event_seq(db: Database) -> int:
    """Return the seq of the newest excursion event (0 when there is none)."""
    return db.execute("SELECT coalesce(max(seq), 0) FROM excursion_events").fetchone()[0]


def events_since(db: Database, seq: int) -> list[tuple[int, str, str | None]]:
    """Return (seq, excursion, detail) of the excursion events stored after `seq`, in order."""
    return db.execute("SELECT seq, excursion, detail FROM excursion_events WHERE seq > ? "
                      "ORDER BY seq", [seq]).fetchall()


def events_per_excursion(db: Database) -> dict[str, int]:
    """Return how many events of the day were recorded per excursion."""
    return dict(db.execute("SELECT excursion, count(*) FROM excursion_events "
                           "GROUP BY excursion").fetchall())
