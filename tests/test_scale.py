"""The large event for benchmarks (checkin.demo.scale) and the bulk writer of the log it uses.

The built event is checked against a recomputation from the raw rows written here, not
against the read model's own SQL: every scan counts where its corrections put it, and the
projections (`location`, headcounts) agree with what the log says.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.demo.scale import build_scale_event
from checkin.scans.bulk import append_log
from checkin.scans.readmodel import effective_scans, headcounts
from checkin.scans.rebuild import rebuild_projections

PEOPLE, SCANS = 300, 6000


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A small large event: 300 people, 6,000 scans."""
    path = tmp_path_factory.mktemp("scale") / "event.db"
    summary = build_scale_event(path, people=PEOPLE, scans=SCANS, seed=7)
    db = connect(path)
    yield db, summary
    db.conn.close()


def recompute(db):
    """Return the effective log (scan id -> checkpoint) and each person's latest scan there,
    worked out in Python from the raw rows."""
    voided = {r[0] for r in db.execute("SELECT scan_id FROM corrections WHERE action = 'void'")}
    moved = dict(db.execute("SELECT scan_id, checkpoint FROM corrections WHERE action = 'move' "
                            "ORDER BY seq").fetchall())
    effective, latest = {}, {}
    for seq, scan_id, pid, checkpoint, direction, sort_at, status in db.execute(
            "SELECT seq, id, participant_id, checkpoint, direction, sort_at, status "
            "FROM scans ORDER BY sort_at, seq"):
        if status == "rejected" or pid is None or scan_id in voided:
            continue
        effective[scan_id] = moved.get(scan_id, checkpoint)
        latest[pid] = (seq, effective[scan_id], direction, sort_at)
    return effective, latest


def test_the_event_has_the_size_and_the_mix_asked_for(built):
    db, summary = built
    assert summary["people"] == PEOPLE
    assert summary["scans"] == SCANS
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == SCANS
    mix = dict(db.execute("SELECT status, count(*) FROM scans GROUP BY status").fetchall())
    assert mix["rejected"] == SCANS // 50 and mix["warning"] == SCANS // 100
    actions = dict(db.execute("SELECT action, count(*) FROM corrections GROUP BY 1").fetchall())
    assert actions["void"] > 0 and actions["move"] > 0
    # A day and a half: the evening before and the day, in the event's zone (UTC+1).
    evening = db.execute("SELECT count(*) FROM scans WHERE sort_at < '2019-11-11T23:00'")
    assert 0 < evening.fetchone()[0] < SCANS // 4
    kinds = {k for (k,) in db.execute(
        "SELECT DISTINCT c.kind FROM scans s JOIN checkpoints c ON c.id = s.checkpoint")}
    assert kinds == {"entrance", "room", "excursion"}
    excursions = db.execute("SELECT count(*) FROM excursions").fetchone()[0]
    assert dict(db.execute("SELECT action, count(*) FROM excursion_events GROUP BY 1")
                .fetchall()) == {"depart": excursions, "return": excursions}
    # Everyone scans more than once; unknown badges belong to nobody.
    assert db.execute("SELECT count(DISTINCT participant_id) FROM scans").fetchone()[0] == PEOPLE
    assert db.execute("SELECT count(*) FROM scans WHERE status = 'rejected' "
                      "AND participant_id IS NOT NULL").fetchone()[0] == 0


def test_every_scan_is_effective_where_it_should_be(built):
    db, _summary = built
    effective, _latest = recompute(db)
    assert {s["id"]: s["checkpoint"] for s in effective_scans(db)} == effective
    # Rows are in the order they happened: a scan's seq follows its time, as at a real door.
    times = [r[0] for r in db.execute("SELECT sort_at FROM scans ORDER BY seq")]
    assert times == sorted(times)


def test_presence_and_headcounts_equal_a_recomputation(built):
    db, _summary = built
    _effective, latest = recompute(db)
    assert {r[0]: (r[1], r[2], r[3], r[4]) for r in db.execute(
        "SELECT participant_id, scan_seq, checkpoint, direction, sort_at FROM location")} \
        == latest
    rooms = defaultdict(int)
    venue = 0
    for _seq, checkpoint, direction, _at in latest.values():
        if checkpoint.startswith("room:") and direction == "in":
            rooms[checkpoint] += 1
        venue += checkpoint.startswith("room:") or (checkpoint, direction) == ("entrance", "in")
    counts = headcounts(db)
    assert counts["arrived"] == len(latest) and counts["registered"] == PEOPLE
    inside = {c["id"]: c["inside"] for c in counts["checkpoints"]}
    assert inside["entrance"] == venue > 0
    assert {k: v for k, v in inside.items() if k.startswith("room:") and v} == dict(rooms)
    # Every bus has come back: nobody is on an excursion now.
    assert all(v == 0 for k, v in inside.items() if k.startswith("excursion:"))
    assert sum(rooms.values()) > 0


def test_rebuilding_the_projections_changes_nothing(built):
    db, _summary = built
    before = db.execute("SELECT * FROM location ORDER BY participant_id").fetchall()
    rebuild_projections(db)
    assert db.execute("SELECT * FROM location ORDER BY participant_id").fetchall() == before


def test_the_bulk_writer_refuses_an_unknown_checkpoint_and_writes_nothing(tmp_path):
    db = connect(tmp_path / "event.db")
    create_demo(db, tmp_path)
    person, code = db.execute("SELECT id, code FROM participants LIMIT 1").fetchone()
    at = "2019-11-12T08:00:00.000+00:00"

    def scan(n, checkpoint):
        return {"id": f"b{n}", "code": code, "participant_id": person, "checkpoint": checkpoint,
                "direction": "in", "at": at, "received_at": at, "sort_at": at,
                "device_id": None, "source": "scan", "status": "accepted", "reason": None,
                "detail": None}

    with pytest.raises(ValueError, match="room:nowhere"):
        append_log(db, [scan(1, "entrance"), scan(2, "room:nowhere")])
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
    assert append_log(db, [scan(1, "entrance")])["location"] == 1
    assert db.execute("SELECT checkpoint FROM location WHERE participant_id = ?",
                      [person]).fetchone()[0] == "entrance"


def test_it_refuses_a_database_that_holds_an_event(built, tmp_path):
    db, _summary = built
    path = db.execute("PRAGMA database_list").fetchone()[2]
    with pytest.raises(ValueError, match="already holds an event"):
        build_scale_event(path, people=10, scans=100)
