"""The projections kept on write: late scans, corrections, walk-ons and re-imports land right,
each write touches only its person's rows, and an existing event file gets them filled."""

from __future__ import annotations

import csv
import io
import random
import sqlite3
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from checkin.core.clock import now_iso, to_utc
from checkin.core.db import connect
from checkin.core.schema import migrations
from checkin.excursions import record_event
from checkin.participants.csvfile import export_participants, import_file
from checkin.reports import attendance, over_the_day
from checkin.scans import correct_scan, headcounts, organiser_actor, record_scans
from checkin.scans.projections import PROJECTIONS
from checkin.scans.readmodel import (
    arrival_times,
    day_window,
    effective_scans,
    excursion_state,
    expected,
    group_attendance,
    in_venue,
    inside,
    outside_day,
    timelines,
)
from checkin.scans.rebuild import rebuild_projections

T0 = datetime(2019, 11, 12, 8, 0, tzinfo=UTC)  # the demo event's day
ORGA = organiser_actor("orga")
NOW = T0 + timedelta(hours=6)
MIGRATION = "m019a_projections_kept_on_write"


def at(minutes: float) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def scan(db, pid: int, checkpoint: str, minute: float, direction: str = "in",
         queued: bool = False, scan_id: str | None = None) -> dict:
    item = {"id": scan_id or f"s-{pid}-{checkpoint}-{minute}-{direction}", "participant": pid,
            "checkpoint": checkpoint, "direction": direction, "at": at(minute),
            "queued": queued}
    return record_scans(db, ORGA, [item], now=NOW).results[0]


def projections(db) -> dict[str, list[tuple]]:
    return {t: db.execute(f"SELECT * FROM {t} " + ("WHERE n != 0 " if t == "tallies"  # noqa: S608
                                                   else "") + "ORDER BY 1, 2, 3").fetchall()
            for t in PROJECTIONS}


def assert_as_rebuilt(db) -> None:
    """The projections kept on write equal those recomputed from the log (on a copy)."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    db.conn.backup(copy)
    again = Database(copy)
    rebuild_projections(again)
    assert projections(db) == projections(again)
    copy.close()


def arrival(db, pid: int) -> str | None:
    return next(r["arrived_at"] for r in attendance(db)["participants"] if r["id"] == pid)


def test_a_late_offline_scan_with_an_earlier_time_moves_arrival_and_group(db):
    pid = 1  # working group bibliotheken in kamer-a, 09:30-11:30 UTC
    scan(db, pid, "entrance", 180)  # 11:00, live
    assert arrival(db, pid) == "2019-11-12T11:00:00.000+00:00"
    assert group_attendance(db)[pid] == "no"
    # Sent late from a tablet's queue: in the group's room at 09:40, then out at 10:50.
    scan(db, pid, "room:kamer-a", 100, queued=True, scan_id="late-in")
    scan(db, pid, "room:kamer-a", 170, "out", queued=True)
    assert arrival(db, pid) == "2019-11-12T09:40:00.000+00:00"
    assert group_attendance(db)[pid] == "yes"
    # The person is where their latest scan (11:00, entrance) puts them, not in the room.
    counts = {c["id"]: c["inside"] for c in headcounts(db)["checkpoints"]}
    assert counts["room:kamer-a"] == 0 and counts["entrance"] == 1
    assert_as_rebuilt(db)
    correct_scan(db, "late-in", "void", organiser="orga")
    assert arrival(db, pid) == "2019-11-12T10:50:00.000+00:00"
    assert group_attendance(db)[pid] == "no"
    assert_as_rebuilt(db)


def _reimport(db, pid: int, excursion: str | None) -> None:
    """Import the plan again with one person on another excursion (as an organiser would)."""
    out = io.StringIO()
    export_participants(db, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    email = db.execute("SELECT email FROM participants WHERE id = ?", [pid]).fetchone()[0]
    for row in rows:
        row.pop("code")
        if row["email"] == email:
            row["excursion"] = excursion or ""
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    result = import_file(db, text.getvalue().encode())
    assert not result["problems"], result["problems"]


def test_walk_ons_moves_and_reimports_move_the_excursion_counts(db):
    counts = lambda x: excursion_state(db, x)["counts"]  # noqa: E731
    forum = [r[0] for r in db.execute("SELECT id FROM participants WHERE excursion = 'forum' "
                                      "ORDER BY id LIMIT 2")]
    before = counts("forum")["expected"], counts("avebe")["expected"]
    scan(db, forum[0], "excursion:forum", 300, scan_id="bus")
    assert counts("forum")["confirmed"] == 1
    record_event(db, "avebe", {"id": "walk-on-1", "action": "walk_on", "participant": forum[0],
                               "at": at(301)}, now=NOW)
    assert counts("forum") == {"expected": before[0] - 1, "confirmed": 0,
                               "missing": before[0] - 1, "not_on_list": 1, "walk_ons": 0}
    assert counts("avebe")["walk_ons"] == 1 and counts("avebe")["missing"] == before[1] + 1
    assert_as_rebuilt(db)
    # The scan moved to the avebe bus confirms the walk-on there.
    correct_scan(db, "bus", "move", checkpoint="excursion:avebe", organiser="orga")
    assert counts("avebe")["confirmed"] == 1 and counts("forum")["not_on_list"] == 0
    assert_as_rebuilt(db)
    # A re-import moves the other forum person off the plan's bus.
    _reimport(db, forum[1], None)
    assert counts("forum")["expected"] == before[0] - 2
    assert_as_rebuilt(db)


def test_the_migration_fills_the_projections_of_an_existing_event(db, db_path):
    for pid, cp, minute in ((1, "entrance", 10), (1, "room:kamer-a", 95), (2, "entrance", 12),
                            (2, "excursion:forum", 300), (3, "entrance", 14)):
        scan(db, pid, cp, minute)
    kept = projections(db)
    # An event file from before the projections: their tables and the migration's record gone.
    for table in PROJECTIONS[1:]:
        db.execute(f"DROP TABLE {table}")  # noqa: S608
    db.execute("DELETE FROM _sqlite_migrations WHERE name = ?", [MIGRATION])
    db.conn.commit()
    db.conn.close()
    reopened = connect(db_path)
    assert projections(reopened) == kept
    assert {r["id"]: r["arrived_at"] for r in attendance(reopened)["participants"]
            if r["arrived_at"]} == {1: "2019-11-12T08:10:00.000+00:00",
                                    2: "2019-11-12T08:12:00.000+00:00",
                                    3: "2019-11-12T08:14:00.000+00:00"}
    reopened.conn.close()


def test_the_log_size_migration_counts_an_existing_log(db, db_path):
    from checkin.scans.scanlist import log_totals

    for minute in range(5):
        scan(db, 1, "entrance", minute, "in" if minute % 2 == 0 else "out")
    # An event file from before m023l: no log_size, no triggers.
    db.executescript("DROP TRIGGER log_size_insert; DROP TRIGGER log_size_delete; "
                     "DROP TABLE log_size; DROP INDEX scans_sort;")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm023l_log_size'")
    db.conn.commit()
    db.conn.close()
    reopened = connect(db_path)
    try:
        count, last = reopened.execute(
            "SELECT count(*), max(received_at) FROM scans").fetchone()
        assert count >= 5
        assert log_totals(reopened) == {"scans": count, "last_received": last}
        scan(reopened, 2, "entrance", 30)
        assert log_totals(reopened)["scans"] == count + 1
    finally:
        reopened.conn.close()


def test_migration_order_puts_the_projections_last(tmp_path):
    # A new migration is appended: the projections' fill runs over every table it reads.
    conn = sqlite3.connect(tmp_path / "old.db")
    db = Database(conn)
    migrations.apply(db, stop_before=MIGRATION)
    assert "attendance" not in db.table_names()
    migrations.apply(db)
    assert {"attendance", "aboard", "counted", "tallies"} <= set(db.table_names())
    conn.close()


def _work(db, pid: int, minute: int) -> tuple[int, int]:
    """Record one scan; return how many SQL statements and SQLite VM steps it took."""
    statements, steps = [], [0]

    def step() -> int:
        steps[0] += 1
        return 0

    db.conn.set_trace_callback(statements.append)
    db.conn.set_progress_handler(step, 1)
    try:
        scan(db, pid, "entrance", minute, scan_id=f"probe-{pid}-{minute}")
    finally:
        db.conn.set_trace_callback(None)
        db.conn.set_progress_handler(None, 1)
    return len(statements), steps[0]


def test_a_scan_touches_only_its_persons_rows_whatever_the_log(db):
    ids = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id")]
    empty = _work(db, ids[0], 1)
    # 3,000 scans of everyone else: the log grows fifty-fold per other person.
    others = ids[2:]
    batch = []
    for n in range(3000):
        pid = others[n % len(others)]
        batch.append({"id": f"bulk-{n}", "participant": pid,
                      "checkpoint": ("entrance", "room:kamer-a", "excursion:forum")[n % 3],
                      "direction": "in" if n % 4 else "out", "at": at(n / 10),
                      "queued": True})
        if len(batch) == 500:
            record_scans(db, ORGA, batch, now=NOW)
            batch = []
    full = _work(db, ids[1], 1)
    # The same statements, and about the same work inside SQLite: only the person's rows.
    assert full[0] == empty[0], (empty, full)
    assert full[1] <= empty[1] * 1.2, (empty, full)
    assert_as_rebuilt(db)


def _over_the_day_from_the_log(db, step_minutes: int = 15) -> list[tuple[str, int, int]]:
    """The chart over the day as it was computed before its projection: from the whole log."""
    timeline = timelines(db)
    window = day_window(db, [s["sort_at"] for scans in timeline.values() for s in scans])
    if window is not None:
        timeline = {pid: [s for s in scans if window[0] <= s["sort_at"] < window[1]]
                    for pid, scans in timeline.items()}
        timeline = {pid: scans for pid, scans in timeline.items() if scans}
    if not timeline:
        return []
    times = [s["sort_at"] for scans in timeline.values() for s in scans]
    step = timedelta(minutes=step_minutes)
    first = to_utc(min(times))
    moment = first.replace(minute=first.minute - first.minute % step_minutes, second=0,
                           microsecond=0)
    end = to_utc(max(times)) + step
    slots = []
    while moment <= end and len(slots) < 200:
        stamp = now_iso(moment)
        arrived = inside = 0
        for scans in timeline.values():
            before = [s for s in scans if s["sort_at"] <= stamp]
            if before:
                arrived += 1
                inside += in_venue(before[-1]["kind"], before[-1]["direction"])
        slots.append((stamp, arrived, inside))
        moment += step
    return slots


def test_the_day_over_time_equals_the_one_from_the_log(db):
    rng = random.Random(19)
    ids = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id LIMIT 25")]
    checkpoints = ("entrance", "entrance", "room:kamer-a", "room:raadzaal", "excursion:forum")
    stored = []
    for n in range(300):
        # A day of live and queued scans, a few of them the day before and the day after.
        minute = rng.choice((rng.uniform(-60, 660), rng.uniform(-60, 660),
                             rng.uniform(-1500, -1000), rng.uniform(1500, 1600)))
        direction = rng.choice(("in", "in", "out"))
        item = {"id": f"d{n}", "participant": rng.choice(ids),
                "checkpoint": rng.choice(checkpoints), "direction": direction,
                "at": at(minute), "queued": rng.random() < 0.5}
        record_scans(db, ORGA, [item], now=T0 + timedelta(days=2))
        stored.append(item["id"])
        if rng.random() < 0.05:
            correct_scan(db, rng.choice(stored), "void", organiser="orga",
                         correction_id=f"v{n}")
        if n % 50 == 49:
            want = _over_the_day_from_the_log(db)
            assert [(s["at"], s["arrived"], s["inside"]) for s in over_the_day(db)] == want
            assert want and want[-1][1] > 0
            outside = outside_day(db, limit=25)
            listed = _outside_from_the_log(db)
            assert outside["count"] == len(listed) and listed
            # The list: the first of them in time order, those before the day and after it.
            assert [s["id"] for s in outside["scans"]] == listed[:25]
    assert_as_rebuilt(db)


def _outside_from_the_log(db) -> list[str]:
    """The ids of the effective scans outside the shown day, in the order they happened."""
    window = day_window(db, arrival_times(db))
    return [s["id"] for s in effective_scans(db)
            if not window[0] <= s["sort_at"] < window[1]]


def test_a_checkpoint_of_another_kind_counts_nobody(db):
    # A kind the projections do not count (a roll call's assembly point, added by another
    # feature): its headcount is zero, not an error.
    elsewhere = {"id": "elsewhere:x", "kind": "elsewhere", "ref": "forum"}
    scan(db, 2, "excursion:forum", 300)
    assert (inside(db, elsewhere), expected(db, elsewhere)) == (0, 0)
    assert inside(db, {"id": "excursion:forum", "kind": "excursion", "ref": "forum"}) == 1
