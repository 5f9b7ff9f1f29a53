"""The effective scan log: the scans that count, where corrections put them, in order.

Scans that are rejected, belong to nobody, were voided or were made at an assembly point
count nowhere; a moved scan counts at the checkpoint of its latest move. Every other module
of the read model reads the log through these functions (see checkin.scans.readmodel and
docs/counting.md).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from sqlite_utils import Database

from checkin.core.assembly import PREFIX as ASSEMBLY_PREFIX
from checkin.scans.sql import rows

# --------------------------------------------------------------------------- the effective log

# What corrections make of the scan `s`: voided, or moved (the latest move wins).
VOIDED = "EXISTS (SELECT 1 FROM corrections v WHERE v.scan_id = s.id AND v.action = 'void')"
MOVED_TO = ("(SELECT m.checkpoint FROM corrections m WHERE m.scan_id = s.id "
            "AND m.action = 'move' ORDER BY m.seq DESC LIMIT 1)")
# Scans at an assembly point account for people in a roll call (checkin.scans.rollcall) and
# never move presence or headcounts: this is the one place that leaves them out.
_VALID = (f"s.status != 'rejected' AND s.participant_id IS NOT NULL AND NOT {VOIDED} "
          f"AND s.checkpoint NOT LIKE '{ASSEMBLY_PREFIX}%'")
# Scans made at :cp or moved there: with the index on scans(checkpoint) SQLite reads only these.
AT_CHECKPOINT = ("(s.checkpoint = :cp OR s.id IN (SELECT scan_id FROM corrections "
                 "WHERE action = 'move' AND checkpoint = :cp))")


def effective_sql(where: str = "", outer: str = "", kind: bool = True) -> str:
    """Return the SQL of the effective scan log, narrowed by `where` on the raw scans `s`.

    Columns: seq, id, participant_id, direction, sort_at, checkpoint and (with `kind`) the
    checkpoint's kind and ref. `outer` (a WHERE/ORDER BY clause over the columns of `e`, and
    of the checkpoint `c` with `kind`) is appended last.
    """
    inner = (f"SELECT s.seq, s.id, s.participant_id, s.direction, s.sort_at, "  # noqa: S608
             f"coalesce({MOVED_TO}, s.checkpoint) AS checkpoint FROM scans s "
             f"WHERE {_VALID}" + (f" AND {where}" if where else ""))
    if not kind:
        # Where the checkpoint is known already, the join would only cost time.
        return f"SELECT e.* FROM ({inner}) e " + outer  # noqa: S608
    return (f"SELECT e.seq, e.id, e.participant_id, e.direction, e.sort_at, "  # noqa: S608
            f"e.checkpoint, c.kind, c.ref FROM ({inner}) e "
            f"LEFT JOIN checkpoints c ON c.id = e.checkpoint " + outer)


def correction_state(db: Database, scan_id: str) -> dict[str, Any]:
    """Return whether corrections voided a scan and where moves put it (None: not moved)."""
    found = db.execute(f"SELECT {VOIDED}, {MOVED_TO} FROM scans s WHERE s.id = ?",  # noqa: S608
                       [scan_id]).fetchone()
    return {"voided": bool(found and found[0]), "moved_to": found[1] if found else None}


def effective_scans(db: Database, participant_id: int | None = None) -> list[dict[str, Any]]:
    """Return the effective scan log (one person's, or everyone's) in the order it happened."""
    if participant_id is None:
        return rows(db, effective_sql(outer="ORDER BY e.sort_at, e.seq"))
    return rows(db, effective_sql("s.participant_id = :pid", "ORDER BY e.sort_at, e.seq"),
                {"pid": participant_id})


def timelines(db: Database) -> dict[int, list[dict[str, Any]]]:
    """Return every person's effective scans, in the order they happened."""
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for scan in effective_scans(db):
        out[scan["participant_id"]].append(scan)
    return out


def history_before(db: Database, participant_id: int, sort_at: str,
                   checkpoint: str | None = None) -> Iterator[dict[str, Any]]:
    """Yield a person's effective scans no later than `sort_at`, latest first, lazily.

    With `checkpoint`, only those (effectively) at that checkpoint. Callers usually need the
    last one or two, so rows are read one at a time instead of the whole history.
    """
    where = "s.participant_id = :pid AND s.sort_at <= :at"
    outer = "ORDER BY e.sort_at DESC, e.seq DESC"
    if checkpoint is not None:
        where += " AND " + AT_CHECKPOINT
        outer = "WHERE e.checkpoint = :cp " + outer
    cursor = db.conn.execute(effective_sql(where, outer, kind=checkpoint is None),
                             {"pid": participant_id, "at": sort_at, "cp": checkpoint})
    keys = [d[0] for d in cursor.description]
    try:
        for row in cursor:
            yield dict(zip(keys, row, strict=True))
    finally:
        cursor.close()


def latest_scan(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return a person's latest effective scan (where they are), or None."""
    found = rows(db, effective_sql("s.participant_id = :pid",
                                   "ORDER BY e.sort_at DESC, e.seq DESC LIMIT 1", kind=False),
                 {"pid": participant_id})
    return found[0] if found else None


# The latest of a group's scans: SQLite takes the bare columns next to max() from the row
# holding the maximum (twice as fast here as a window function).
LATEST = "max(sort_at || '#' || printf('%015d', seq))"


def latest_scans_at(db: Database, checkpoint: str) -> dict[int, dict[str, Any]]:
    """Return, per person, their latest effective scan at `checkpoint`."""
    found = db.execute(
        f"SELECT participant_id, direction, sort_at, seq, {LATEST} FROM ("  # noqa: S608
        + effective_sql(AT_CHECKPOINT, "WHERE e.checkpoint = :cp", kind=False)
        + ") GROUP BY participant_id",
        {"cp": checkpoint}).fetchall()
    return {r[0]: {"direction": r[1], "sort_at": r[2], "seq": r[3]} for r in found}


# Scans made at an excursion checkpoint or moved to one (the scans_checkpoint index finds them).
_AT_BUSES = ("(s.checkpoint IN (SELECT id FROM checkpoints WHERE kind = 'excursion') "
             "OR s.id IN (SELECT scan_id FROM corrections WHERE action = 'move' AND "
             "checkpoint IN (SELECT id FROM checkpoints WHERE kind = 'excursion')))")


def at_buses(db: Database) -> dict[str, dict[int, str]]:
    """Return, per excursion checkpoint, who has 'in' as their latest effective scan there
    (person id -> that scan's time)."""
    out: dict[str, dict[int, str]] = defaultdict(dict)
    for pid, checkpoint, direction, sort_at, _latest in db.execute(
            f"SELECT participant_id, checkpoint, direction, sort_at, {LATEST} FROM ("  # noqa: S608
            + effective_sql(_AT_BUSES, "WHERE c.kind = 'excursion'")
            + ") GROUP BY participant_id, checkpoint").fetchall():
        if direction == "in":
            out[checkpoint][pid] = sort_at
    return out


def in_venue(kind: str | None, direction: str) -> bool:
    """Say whether a latest scan of this checkpoint kind and direction means 'in the venue'."""
    return (kind == "entrance" and direction == "in") or kind == "room"


# --------------------------------------------------------------------------- checkpoints

def checkpoints(db: Database) -> dict[str, dict[str, Any]]:
    """Return every checkpoint row by id, in display order."""
    return {c["id"]: c for c in rows(db, "SELECT id, kind, name, capacity, ref FROM "
                                         "checkpoints ORDER BY position, id")}


def checkpoint_of_excursion(db: Database, excursion_id: str) -> str | None:
    """Return the id of the checkpoint where people are confirmed for an excursion."""
    found = db.execute("SELECT id FROM checkpoints WHERE kind = 'excursion' AND ref = ?",
                       [excursion_id]).fetchone()
    return found[0] if found else None
