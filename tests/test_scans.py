"""The scan domain: what each scan means, presence, headcounts, exactly once, undo."""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from checkin.core.codes import reissue
from checkin.core.db import connect
from checkin.devices import add_device, authenticate
from checkin.scans import (
    Forbidden,
    ScanInputError,
    checkpoint_headcount,
    correct_scan,
    headcounts,
    organiser_actor,
    record_scans,
    refresh_location,
    undo_scan,
)
from checkin.scans.rebuild import rebuild_projections

T0 = datetime(2019, 11, 12, 8, 0, tzinfo=UTC)  # the demo event's day
ORGA = organiser_actor("orga")


def at(minutes: float) -> str:
    """An ISO time `minutes` after 08:00 UTC, as a device sends it."""
    return (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def people(db, **where) -> list[dict]:
    """Participants (id, code, working group, excursion), optionally filtered."""
    sql = "SELECT id, code, working_group, excursion FROM participants"
    if where:
        sql += " WHERE " + " AND ".join(f"{k} = ?" for k in where)
    return list(db.query(sql + " ORDER BY id", list(where.values())))


class Scanner:
    """Sends scans with increasing ids, received an hour after the event's clock starts."""

    def __init__(self, db, actor=ORGA):
        self.db, self.actor, self.n = db, actor, 0

    def item(self, code, checkpoint, direction="in", minute=0.0, **extra):
        self.n += 1
        key = "participant" if isinstance(code, int) else "code"
        prefix = self.actor["id"] or "orga"
        return {"id": extra.pop("id", f"{prefix}-{self.n}"), key: code, "checkpoint": checkpoint,
                "direction": direction, "at": at(minute), **extra}

    def __call__(self, code, checkpoint, direction="in", minute=0.0, **extra) -> dict:
        item = self.item(code, checkpoint, direction, minute, **extra)
        return record_scans(self.db, self.actor, [item], now=T0 + timedelta(hours=1)).results[0]


def location(db, pid):
    row = db.execute("SELECT checkpoint, direction FROM location WHERE participant_id = ?",
                     [pid]).fetchone()
    return tuple(row) if row else None


def count(db, checkpoint):
    return checkpoint_headcount(db, checkpoint)["inside"]


def recount(db) -> dict:
    """Headcounts recomputed in Python straight from the scans and corrections tables."""
    voided = {r[0] for r in db.execute("SELECT scan_id FROM corrections WHERE action='void'")}
    moved = {}
    for scan_id, cp in db.execute("SELECT scan_id, checkpoint FROM corrections "
                                  "WHERE action = 'move' ORDER BY seq"):
        moved[scan_id] = cp
    latest, at_excursion = {}, {}
    for s in db.query("SELECT * FROM scans ORDER BY sort_at, seq"):
        if s["status"] == "rejected" or s["participant_id"] is None or s["id"] in voided:
            continue
        cp = moved.get(s["id"], s["checkpoint"])
        latest[s["participant_id"]] = (cp, s["direction"])
        if cp.startswith("excursion:"):
            at_excursion[(s["participant_id"], cp)] = s["direction"]
    counts = {}
    for cp, direction in latest.values():
        if cp == "entrance" and direction == "in" or cp.startswith("room:"):
            counts["entrance"] = counts.get("entrance", 0) + 1
        if cp.startswith("room:") and direction == "in":
            counts[cp] = counts.get(cp, 0) + 1
    # On a bus only the people expected there count (the plan, or a walk-on of the day).
    planned = dict(db.execute("SELECT id, 'excursion:' || excursion FROM participants"))
    for pid, x in db.execute("SELECT participant_id, excursion FROM excursion_events "
                             "WHERE action = 'walk_on' ORDER BY seq"):
        planned[pid] = "excursion:" + x
    for (pid, cp), direction in at_excursion.items():
        if direction == "in" and planned.get(pid) == cp:
            counts[cp] = counts.get(cp, 0) + 1
    return {"inside": counts, "arrived": len(latest)}


def assert_counts_match_log(db):
    expected = recount(db)
    got = headcounts(db)
    assert got["arrived"] == expected["arrived"]
    for cp in got["checkpoints"]:
        assert cp["inside"] == expected["inside"].get(cp["id"], 0), cp["id"]
        assert checkpoint_headcount(db, cp["id"])["inside"] == cp["inside"]
        assert checkpoint_headcount(db, cp["id"])["expected"] == cp["expected"]


def test_first_entrance_scan_is_accepted_and_counted(db):
    person = people(db)[0]
    result = Scanner(db)(person["code"], "entrance", minute=1)
    assert result["status"] == "accepted" and result["reason"] is None
    assert result["participant"]["id"] == person["id"] and not result["duplicate"]
    assert "email" not in result["participant"] and "code" not in result["participant"]
    assert location(db, person["id"]) == ("entrance", "in")
    assert count(db, "entrance") == 1
    assert headcounts(db)["arrived"] == 1 and headcounts(db)["registered"] == 60


def test_second_entrance_scan_warns_already_in_with_the_time(db):
    scan = Scanner(db)
    code = people(db)[0]["code"]
    scan(code, "entrance", minute=1)
    result = scan(code, "entrance", minute=5)
    assert (result["status"], result["reason"]) == ("warning", "already_in")
    assert result["detail"]["since"].startswith("2019-11-12T08:01:00")
    assert count(db, "entrance") == 1


def test_room_move_takes_the_person_out_of_the_previous_room(db):
    scan = Scanner(db)
    person = people(db, working_group="bibliotheken")[0]
    scan(person["code"], "entrance", minute=1)
    assert scan(person["code"], "room:kamer-a", minute=2)["status"] == "accepted"
    assert count(db, "room:kamer-a") == 1
    # The plenum hosts no working group, so nobody is "not assigned" there.
    assert scan(person["code"], "room:raadzaal", minute=3)["status"] == "accepted"
    assert count(db, "room:kamer-a") == 0 and count(db, "room:raadzaal") == 1
    assert count(db, "entrance") == 1
    assert location(db, person["id"]) == ("room:raadzaal", "in")


def test_room_out_leaves_the_person_in_the_venue(db):
    scan = Scanner(db)
    person = people(db, working_group="bibliotheken")[0]
    scan(person["code"], "room:kamer-a", minute=1)
    scan(person["code"], "room:kamer-a", "out", minute=2)
    assert count(db, "room:kamer-a") == 0 and count(db, "entrance") == 1


def test_leaving_and_reentry(db):
    scan = Scanner(db)
    person = people(db)[0]
    scan(person["code"], "entrance", minute=1)
    assert scan(person["code"], "entrance", "out", minute=2)["status"] == "accepted"
    assert count(db, "entrance") == 0 and location(db, person["id"]) == ("entrance", "out")
    again = scan(person["code"], "entrance", minute=3)
    assert again["status"] == "accepted"
    assert count(db, "entrance") == 1
    assert headcounts(db)["arrived"] == 1


def test_not_assigned_in_a_group_room_and_on_an_excursion(db):
    scan = Scanner(db)
    person = people(db, working_group="abfall")[0]
    result = scan(person["code"], "room:kamer-a", minute=1)
    assert (result["status"], result["reason"]) == ("warning", "not_assigned")
    other = next(x for x in ("homelessness", "forum") if x != person["excursion"])
    result = scan(person["code"], f"excursion:{other}", minute=2)
    assert (result["status"], result["reason"]) == ("warning", "not_assigned")
    # Stored all the same: the person was there.
    assert location(db, person["id"]) == (f"excursion:{other}", "in")


def test_over_capacity_when_the_room_is_full(db):
    scan = Scanner(db)
    group = people(db, working_group="abfall")  # meets in kamer-f, capacity 8
    assert len(group) > 8
    results = [scan(p["code"], "room:kamer-f", minute=n) for n, p in enumerate(group[:9])]
    assert all(r["status"] == "accepted" for r in results[:8])
    assert (results[8]["status"], results[8]["reason"]) == ("warning", "over_capacity")
    assert results[8]["detail"] == {"inside": 9, "capacity": 8, "reasons": ["over_capacity"]}
    assert count(db, "room:kamer-f") == 9


def test_rejected_scans_are_stored_but_change_no_presence(db):
    scan = Scanner(db)
    person = people(db)[0]
    old_code = person["code"]
    reissue(db, person["id"])
    revoked = scan(old_code, "entrance", minute=1)
    assert (revoked["status"], revoked["reason"]) == ("rejected", "revoked_code")
    assert revoked["participant"]["id"] == person["id"]
    unknown = scan("23456789ABCDEFGHJKMNPQ", "entrance", minute=2)
    assert (unknown["status"], unknown["reason"], unknown["participant"]) == \
        ("rejected", "unknown_code", None)
    invalid = scan("https://example.org/not-a-badge", "entrance", minute=3)
    assert (invalid["status"], invalid["reason"]) == ("rejected", "invalid")
    rows = list(db.query("SELECT code, participant_id, status FROM scans ORDER BY seq"))
    assert [r["status"] for r in rows] == ["rejected"] * 3
    assert rows[1]["participant_id"] is None and rows[2]["code"].startswith("https://")
    assert location(db, person["id"]) is None and headcounts(db)["arrived"] == 0


def test_a_hand_scanner_code_with_spaces_and_lower_case_is_valid(db):
    code = people(db)[0]["code"]
    typed = " " + code[:11].lower() + " " + code[11:] + "\n"
    assert Scanner(db)(typed, "entrance")["status"] == "accepted"


def test_manual_check_in_by_participant_id(db):
    scan = Scanner(db)
    person = people(db)[0]
    assert scan(person["id"], "entrance")["status"] == "accepted"
    row = next(db.query("SELECT source, code, participant_id FROM scans"))
    assert row == {"source": "search", "code": "", "participant_id": person["id"]}
    missing = scan(99999, "entrance")
    assert (missing["status"], missing["reason"]) == ("rejected", "unknown_code")


def test_exactly_once_by_scan_id(db):
    scan = Scanner(db)
    code = people(db)[0]["code"]
    first = scan(code, "entrance", id="same-id", minute=1)
    again = scan(code, "entrance", id="same-id", minute=1)
    assert again == {**first, "duplicate": True}
    # A copy inside one batch is also stored once.
    batch = [scan.item(code, "room:raadzaal", id="twice"), scan.item(code, "room:raadzaal",
                                                                      id="twice")]
    results = record_scans(db, ORGA, batch).results
    assert [r["duplicate"] for r in results] == [False, True]
    assert results[0]["status"] == results[1]["status"]
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 2


def test_a_scan_sent_again_after_its_person_was_erased_is_the_same_scan(db):
    """The erasure blanks the code in the log; the device's resend (same id, same content)
    is still that scan: a duplicate, nothing stored, the code not written back."""
    from checkin.security.erase import erase_participant

    scan = Scanner(db)
    person = people(db)[0]
    first = scan(person["code"], "entrance", id="sent-before-erasure", minute=1)
    assert first["status"] == "accepted"
    assert erase_participant(db, person["id"])
    stored = db.execute("SELECT count(*) FROM scans").fetchone()[0]
    again = scan(person["code"], "entrance", id="sent-before-erasure", minute=1)
    assert again["duplicate"] is True and again["status"] == "accepted", again
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == stored
    assert db.execute("SELECT count(*) FROM scans WHERE code = ?",
                      [person["code"]]).fetchone()[0] == 0
    # Another checkpoint under that id is still another scan.
    assert scan(person["code"], "room:raadzaal", id="sent-before-erasure",
                minute=2)["reason"] == "id_conflict"


def test_a_malformed_batch_stores_nothing(db):
    scan = Scanner(db)
    code = people(db)[0]["code"]
    good = scan.item(code, "entrance")
    for bad, reason in [({**good, "id": "x", "direction": "up"}, "bad_field"),
                        ({**good, "id": "y", "checkpoint": "room:nowhere"},
                         "unknown_checkpoint"),
                        ({**good, "id": "z", "at": "yesterday"}, "bad_field")]:
        with pytest.raises(ScanInputError) as exc:
            record_scans(db, ORGA, [good, bad])
        assert exc.value.code == reason
    with pytest.raises(ScanInputError) as exc:
        record_scans(db, ORGA, [good] * 501)
    assert exc.value.code == "too_many_scans"
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0


def test_a_fast_device_clock_cannot_pin_a_state(db):
    scan = Scanner(db)
    person = people(db, working_group="bibliotheken")[0]
    # Device clock a day ahead: its scan sorts at the time it arrived (09:00).
    scan(person["code"], "room:kamer-a", minute=24 * 60)
    row = next(db.query("SELECT at, sort_at, received_at FROM scans"))
    assert row["sort_at"] == row["received_at"] < row["at"]
    # A queued scan from a correct clock (08:30 device time, received 09:01) does not win...
    record_scans(db, ORGA, [scan.item(person["code"], "room:raadzaal", minute=30,
                                      queued=True)],
                 now=T0 + timedelta(hours=1, minutes=1))
    assert location(db, person["id"]) == ("room:kamer-a", "in")
    # ...but one made after the first arrived does.
    record_scans(db, ORGA, [scan.item(person["code"], "room:raadzaal", minute=61)],
                 now=T0 + timedelta(hours=1, minutes=2))
    assert location(db, person["id"]) == ("room:raadzaal", "in")


def _story(db) -> list[dict]:
    """A morning of scans for 12 people: arrivals, room changes, leaving, excursions."""
    scan = Scanner(db)
    items, rng = [], random.Random(7)
    rooms = ["room:raadzaal", "room:kamer-a", "room:kamer-b", "room:kamer-f"]
    for n, p in enumerate(people(db)[:12]):
        minute = n
        steps = [("entrance", "in")] + [(rng.choice(rooms), rng.choice(["in", "in", "out"]))
                                        for _ in range(4)]
        if n % 3 == 0:
            steps.append(("entrance", "out"))
        if n % 4 == 0:
            steps.append((f"excursion:{p['excursion'] or 'forum'}", "in"))
        if n % 5 == 0:
            steps.append(("entrance", "in"))
        for cp, direction in steps:
            minute += rng.choice([1, 2, 3])
            # Sent late from devices' queues: each falls into place by its device time.
            items.append(scan.item(p["code"], cp, direction, minute=minute, queued=True))
    return items


def _locations(db):
    return list(db.query("SELECT participant_id, checkpoint, direction, sort_at FROM location "
                         "ORDER BY participant_id"))


def test_out_of_order_arrival_gives_the_same_locations(db_path, tmp_path):
    copy = tmp_path / "copy.db"
    shutil.copy(db_path, copy)
    in_order, shuffled = connect(db_path), connect(copy)
    items = _story(in_order)
    for item in items:
        record_scans(in_order, ORGA, [item], now=T0 + timedelta(hours=3))
    mixed = items[:]
    random.Random(1).shuffle(mixed)
    for n in range(0, len(mixed), 7):
        record_scans(shuffled, ORGA, mixed[n:n + 7], now=T0 + timedelta(hours=3))
    assert _locations(in_order) == _locations(shuffled)
    assert len(_locations(in_order)) == 12
    assert headcounts(in_order) == headcounts(shuffled)
    assert_counts_match_log(shuffled)


def test_rebuild_equals_incremental_after_undo_and_move(db):
    items = _story(db)
    for n in range(0, len(items), 5):
        record_scans(db, ORGA, items[n:n + 5], now=T0 + timedelta(hours=3))
    undo_scan(db, ORGA, items[-1]["id"])
    undo_scan(db, ORGA, items[10]["id"])
    correct_scan(db, items[3]["id"], "move", checkpoint="room:kamer-c", organiser="orga")
    correct_scan(db, items[6]["id"], "move", checkpoint="excursion:avebe", organiser="orga")
    correct_scan(db, items[7]["id"], "move", checkpoint="excursion:avebe", organiser="orga")
    # Moved to a bus they are not expected on: seen there, never counted as on it.
    from checkin.excursions import excursion_state
    state = excursion_state(db, "avebe")
    assert state["counts"]["not_on_list"] + state["counts"]["confirmed"] >= 1
    assert checkpoint_headcount(db, "excursion:avebe")["inside"] == state["counts"]["confirmed"]
    incremental = _locations(db)
    assert rebuild_projections(db)["location"] == len(incremental)
    assert _locations(db) == incremental
    assert_counts_match_log(db)


def test_excursion_confirmation_stays_after_later_scans(db):
    scan = Scanner(db)
    person = people(db, excursion="forum")[0]
    cp = "excursion:forum"
    assert scan(person["code"], cp, minute=1)["status"] == "accepted"
    assert location(db, person["id"]) == (cp, "in")
    assert scan(person["code"], cp, minute=2)["reason"] == "already_in"
    scan(person["code"], "entrance", minute=90)  # back in the venue
    assert count(db, cp) == 1 and count(db, "entrance") == 1
    scan(person["code"], cp, "out", minute=91)
    assert count(db, cp) == 0


def test_undo_voids_the_scan_and_restores_the_earlier_place(db):
    scanner = add_device(db, "Door", "scanner")
    device = authenticate(db, scanner["token"])
    scan = Scanner(db, device)
    person = people(db, working_group="bibliotheken")[0]
    scan(person["code"], "entrance", minute=1)
    scan(person["code"], "room:kamer-a", minute=2, id="last")
    assert count(db, "room:kamer-a") == 1
    correction, new = undo_scan(db, device, "last")
    assert new and correction["action"] == "void"
    assert location(db, person["id"]) == ("entrance", "in") and count(db, "room:kamer-a") == 0
    assert undo_scan(db, device, "last")[1] is False  # idempotent
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 1
    other = authenticate(db, add_device(db, "Door 2", "scanner")["token"])
    with pytest.raises(Forbidden):
        undo_scan(db, other, f"{device['id']}-1")
    with pytest.raises(LookupError):
        undo_scan(db, device, "no-such-scan")
    undo_scan(db, ORGA, f"{device['id']}-1")  # organisers may undo any scan
    assert location(db, person["id"]) is None and headcounts(db)["arrived"] == 0


def test_refresh_location_recomputes_from_the_log(db):
    scan = Scanner(db)
    person = people(db)[0]
    scan(person["code"], "entrance", minute=1)
    with db.conn:
        db.conn.execute("DELETE FROM location")
    assert refresh_location(db, person["id"])["checkpoint"] == "entrance"
    assert location(db, person["id"]) == ("entrance", "in")


def test_roles_limit_where_a_device_scans(db):
    code = people(db)[0]["code"]
    display = authenticate(db, add_device(db, "Screen", "display")["token"])
    guide = authenticate(db, add_device(db, "Bus", "guide", "excursion:forum")["token"])
    door = authenticate(db, add_device(db, "Door", "scanner", "entrance")["token"])
    roaming = authenticate(db, add_device(db, "Roaming", "scanner")["token"])
    for actor, checkpoint in [(display, "entrance"), (guide, "excursion:avebe"),
                              (guide, "entrance"), (door, "room:kamer-a"),
                              (roaming, "excursion:forum")]:
        with pytest.raises(Forbidden):
            Scanner(db, actor)(code, checkpoint)
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
    assert Scanner(db, door)(code, "entrance")["status"] == "accepted"
    assert Scanner(db, roaming)(code, "room:kamer-b")["status"] in ("accepted", "warning")
    assert Scanner(db, guide)(code, "excursion:forum")["status"] in ("accepted", "warning")
    stored = {r[0] for r in db.execute("SELECT device_id FROM scans")}
    assert stored == {guide["id"], roaming["id"], door["id"]}


def test_expected_counts(db):
    counts = {c["id"]: c for c in headcounts(db)["checkpoints"]}
    assert counts["entrance"]["expected"] == 60
    assert counts["room:kamer-a"]["expected"] == len(people(db, working_group="bibliotheken"))
    assert counts["room:raadzaal"]["expected"] == 0
    assert counts["excursion:forum"]["expected"] == len(people(db, excursion="forum"))
    assert counts["room:kamer-f"]["capacity"] == 8
