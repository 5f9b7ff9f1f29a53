"""Who is where: the `location` projection of the scan log, and headcounts.

A person's location is their latest (by sort_at, then seq) valid scan that no correction
voided, at the checkpoint a 'move' correction gave it, if any:
entrance in -> in the venue; room X in -> in room X (and the venue); room X out -> in the
venue, in no room; entrance out -> gone; excursion X in -> on excursion X.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from checkin.db import writing
from checkin.scans.sql import rows

# The log as corrections make it: voided scans drop out, moved scans take their new place.
EFFECTIVE = """
SELECT s.seq, s.id, s.participant_id, s.direction, s.sort_at,
  COALESCE((SELECT c.checkpoint FROM corrections c WHERE c.scan_id = s.id
            AND c.action = 'move' ORDER BY c.seq DESC LIMIT 1), s.checkpoint) AS checkpoint
FROM scans s
WHERE s.status != 'rejected' AND s.participant_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM corrections v WHERE v.scan_id = s.id AND v.action = 'void')
"""


def in_venue(checkpoint: str, direction: str) -> bool:
    """Say whether a location (checkpoint, direction) means the person is in the venue."""
    return (checkpoint == "entrance" and direction == "in") or checkpoint.startswith("room:")


def history_before(db: Database, participant_id: int, sort_at: str,
                   checkpoint: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield a person's effective scans no later than `sort_at`, latest first, lazily.

    With `checkpoint`, only those (effectively) at that checkpoint. Callers usually need the
    last one or two, so rows are read one at a time instead of the whole history.
    """
    sql = EFFECTIVE + " AND s.participant_id = :pid AND s.sort_at <= :at"
    if checkpoint is not None:
        sql += (" AND (s.checkpoint = :cp OR s.id IN (SELECT scan_id FROM corrections "
                "WHERE action = 'move' AND checkpoint = :cp))")
    cursor = db.conn.execute(sql + " ORDER BY s.sort_at DESC, s.seq DESC",
                             {"pid": participant_id, "at": sort_at, "cp": checkpoint})
    keys = [d[0] for d in cursor.description]
    try:
        for row in cursor:
            scan = dict(zip(keys, row, strict=True))
            if checkpoint is None or scan["checkpoint"] == checkpoint:
                yield scan
    finally:
        cursor.close()


def refresh_location(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Recompute one person's row in `location` from the log; return it (None: no scans)."""
    with writing(db):
        row = db.execute(
            EFFECTIVE + " AND s.participant_id = ? ORDER BY s.sort_at DESC, s.seq DESC LIMIT 1",
            [participant_id]).fetchone()
        if row is None:
            db.execute("DELETE FROM location WHERE participant_id = ?", [participant_id])
            return None
        seq, _id, pid, direction, sort_at, checkpoint = row
        db.execute(
            "INSERT INTO location (participant_id, scan_seq, checkpoint, direction, sort_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(participant_id) DO UPDATE SET "
            "scan_seq = excluded.scan_seq, checkpoint = excluded.checkpoint, "
            "direction = excluded.direction, sort_at = excluded.sort_at",
            [pid, seq, checkpoint, direction, sort_at])
    return {"participant_id": pid, "scan_seq": seq, "checkpoint": checkpoint,
            "direction": direction, "sort_at": sort_at}


def rebuild_locations(db: Database) -> int:
    """Rebuild the whole `location` table from the log; return how many people it places."""
    with writing(db):
        db.execute("DELETE FROM location")
        db.execute(
            "INSERT INTO location (participant_id, scan_seq, checkpoint, direction, sort_at) "  # noqa: S608
            "SELECT participant_id, seq, checkpoint, direction, sort_at FROM ("
            " SELECT e.*, row_number() OVER (PARTITION BY e.participant_id "
            " ORDER BY e.sort_at DESC, e.seq DESC) AS n FROM (" + EFFECTIVE + ") e"
            ") WHERE n = 1")
        return db.execute("SELECT count(*) FROM location").fetchone()[0]


def _checkpoint(db: Database, checkpoint_id: str) -> dict[str, Any] | None:
    found = rows(db, "SELECT id, kind, name, capacity, ref FROM checkpoints WHERE id = ?",
                 [checkpoint_id])
    return found[0] if found else None


def excursion_confirmed(db: Database, checkpoint_id: str) -> int:
    """Count people whose latest effective scan at this excursion checkpoint is 'in'."""
    # The bare column `direction` next to max() comes from the row holding the maximum.
    return db.execute(
        "SELECT count(*) FROM (SELECT e.direction, "  # noqa: S608
        " max(e.sort_at || '#' || printf('%015d', e.seq)) FROM (" + EFFECTIVE +
        " AND (s.checkpoint = :cp OR s.id IN (SELECT scan_id FROM corrections "
        "  WHERE action = 'move' AND checkpoint = :cp))) e "
        " WHERE e.checkpoint = :cp GROUP BY e.participant_id) WHERE direction = 'in'",
        {"cp": checkpoint_id}).fetchone()[0]


def excursions_confirmed(db: Database) -> dict[str, int]:
    """Count, per excursion checkpoint, the people whose latest effective scan there is 'in'."""
    # Every 'excursion:...' id lies in ['excursion:', 'excursion;'): one index range.
    found = db.execute(
        "SELECT checkpoint, count(*) FROM (SELECT e.checkpoint, e.direction, "  # noqa: S608
        " max(e.sort_at || '#' || printf('%015d', e.seq)) FROM (" + EFFECTIVE +
        " AND ((s.checkpoint >= 'excursion:' AND s.checkpoint < 'excursion;') "
        "  OR s.id IN (SELECT scan_id FROM corrections WHERE action = 'move' "
        "  AND checkpoint >= 'excursion:' AND checkpoint < 'excursion;'))) e "
        " WHERE e.checkpoint >= 'excursion:' AND e.checkpoint < 'excursion;' "
        " GROUP BY e.participant_id, e.checkpoint) WHERE direction = 'in' GROUP BY checkpoint"
    ).fetchall()
    return dict(found)


def inside(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people inside a checkpoint (a checkpoints row) now."""
    if checkpoint["kind"] == "entrance":
        # Every 'room:...' id lies in ['room:', 'room;') (';' follows ':'): one index range.
        # The two disjoint ranges are counted apart: an OR would make SQLite dedupe rowids.
        return db.execute(
            "SELECT (SELECT count(*) FROM location WHERE checkpoint = 'entrance' "
            "AND direction = 'in') + (SELECT count(*) FROM location "
            "WHERE checkpoint >= 'room:' AND checkpoint < 'room;')").fetchone()[0]
    if checkpoint["kind"] == "room":
        return db.execute("SELECT count(*) FROM location WHERE checkpoint = ? "
                          "AND direction = 'in'", [checkpoint["id"]]).fetchone()[0]
    return excursion_confirmed(db, checkpoint["id"])


def expected(db: Database, checkpoint: dict[str, Any]) -> int:
    """Count the people expected at a checkpoint: all, the room's groups, the excursion's."""
    if checkpoint["kind"] == "entrance":
        return db.execute("SELECT count(*) FROM participants").fetchone()[0]
    if checkpoint["kind"] == "room":
        return db.execute(
            "SELECT count(*) FROM participants WHERE working_group IN "
            "(SELECT id FROM working_groups WHERE room = ?)", [checkpoint["ref"]]).fetchone()[0]
    return db.execute("SELECT count(*) FROM participants WHERE excursion = ?",
                      [checkpoint["ref"]]).fetchone()[0]


def checkpoint_headcount(db: Database, checkpoint_id: str) -> dict[str, Any] | None:
    """Return one checkpoint's headcount (checkpoint, inside, expected, capacity)."""
    cp = _checkpoint(db, checkpoint_id)
    if cp is None:
        return None
    return {"checkpoint": cp["id"], "inside": inside(db, cp), "expected": expected(db, cp),
            "capacity": cp["capacity"]}


def headcounts(db: Database) -> dict[str, Any]:
    """Return every checkpoint's headcount, how many arrived and how many are registered."""
    by_location = {(cp, d): n for cp, d, n in db.execute(
        "SELECT checkpoint, direction, count(*) FROM location GROUP BY 1, 2").fetchall()}
    by_room = dict(db.execute(
        "SELECT w.room, count(*) FROM participants p JOIN working_groups w "
        "ON w.id = p.working_group GROUP BY w.room").fetchall())
    by_excursion = dict(db.execute(
        "SELECT excursion, count(*) FROM participants WHERE excursion IS NOT NULL "
        "GROUP BY excursion").fetchall())
    registered = db.execute("SELECT count(*) FROM participants").fetchone()[0]
    venue = sum(n for (cp, d), n in by_location.items() if in_venue(cp, d))
    confirmed = excursions_confirmed(db)
    out = []
    for cp in rows(db, "SELECT id, kind, name, capacity, ref FROM checkpoints "
                       "ORDER BY position, id"):
        if cp["kind"] == "entrance":
            counts = venue, registered
        elif cp["kind"] == "room":
            counts = by_location.get((cp["id"], "in"), 0), by_room.get(cp["ref"], 0)
        else:
            counts = confirmed.get(cp["id"], 0), by_excursion.get(cp["ref"], 0)
        out.append({"id": cp["id"], "kind": cp["kind"], "name": cp["name"],
                    "inside": counts[0], "expected": counts[1], "capacity": cp["capacity"]})
    # Everyone with at least one valid, non-voided scan has exactly one row in `location`.
    arrived = db.execute("SELECT count(*) FROM location").fetchone()[0]
    return {"checkpoints": out, "arrived": arrived, "registered": registered}
