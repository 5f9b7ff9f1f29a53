"""The organisers' overview: its numbers, the alerts function, and corrections of scans."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from checkin.core.clock import now_iso
from checkin.core.codes import reissue
from checkin.core.db import connect
from checkin.devices import add_device, revoke
from checkin.excursions import record_event
from checkin.live import stats
from checkin.live.alerts import alerts, bad_code_alerts
from checkin.live.corrections import CorrectionError, correct
from checkin.scans import headcounts, organiser_actor, record_scans

SCANNER = organiser_actor("orga")


def scan(db, checkpoint: str, *, code: str | None = None, participant: int | None = None,
         direction: str = "in", at: datetime | None = None) -> dict[str, Any]:
    """Record one scan through the scan domain; return its stored row."""
    item: dict[str, Any] = {"id": str(uuid.uuid4()), "checkpoint": checkpoint,
                            "direction": direction, "at": now_iso(at)}
    if code is not None:
        item["code"] = code
    else:
        item["participant"] = participant
    recorded = record_scans(db, SCANNER, [item])
    return recorded.stored[0]


def people(db, where: str = "1 = 1", limit: int = 100) -> list[dict[str, Any]]:
    return list(db.query(f"SELECT * FROM participants WHERE {where} ORDER BY id LIMIT ?",  # noqa: S608
                         [limit]))


def independent_arrivals(db) -> set[int]:
    """People with a valid scan that no correction voided, counted from the raw tables."""
    voided = {r[0] for r in db.execute("SELECT scan_id FROM corrections WHERE action = 'void'")}
    return {r["participant_id"] for r in db.query("SELECT * FROM scans")
            if r["status"] != "rejected" and r["participant_id"] is not None
            and r["id"] not in voided}


def test_overview_numbers_match_an_independent_count(organiser, db):
    everyone = people(db)
    for person in everyone[:9]:
        scan(db, "entrance", code=person["code"])
    # A replaced badge is rejected and makes nobody arrive; an unknown code neither.
    old_code = everyone[20]["code"]
    reissue(db, everyone[20]["id"])
    assert scan(db, "entrance", code=old_code)["status"] == "rejected"
    scan(db, "entrance", code="2345678923456789234567")
    # A voided scan no longer counts: person 9 arrives only through a scan undone later.
    undone = scan(db, "entrance", code=everyone[9]["code"])
    correct(db, undone["id"], "void", "orga")

    arrived = independent_arrivals(db)
    assert len(arrived) == 9
    numbers = stats.overview_numbers(db)
    assert numbers["arrived"] == len(arrived) and numbers["registered"] == len(everyone)
    by_city = Counter(p["city"] for p in everyone if p["id"] in arrived)
    registered_by_city = Counter(p["city"] for p in everyone)
    assert {r["key"]: (r["arrived"], r["registered"]) for r in numbers["by_city"]} == \
        {city: (by_city[city], n) for city, n in registered_by_city.items()}
    by_type = Counter(p["organisation_type"] for p in everyone if p["id"] in arrived)
    assert {r["key"]: r["arrived"] for r in numbers["by_type"]} == \
        {t: by_type[t] for t in {p["organisation_type"] for p in everyone}}
    by_group = Counter(p["working_group"] for p in everyone if p["id"] in arrived)
    assert {r["key"]: r["arrived"] for r in numbers["by_group"]} == \
        {g: by_group[g] for g in {p["working_group"] for p in everyone}}
    by_excursion = Counter(p["excursion"] or "" for p in everyone if p["id"] in arrived)
    assert {r["key"]: r["arrived"] for r in numbers["by_excursion"]} == \
        {x: by_excursion[x] for x in {p["excursion"] or "" for p in everyone}}
    missing, total = stats.not_arrived(db)
    assert total == len(everyone) - len(arrived)
    assert {p["id"] for p in missing} == {p["id"] for p in everyone} - arrived

    html = organiser.get("/overview").get_data(as_text=True)
    tile = re.search(r'data-num="arrived">(\d+)</span> / <span data-num="registered">(\d+)',
                     html)
    assert tile and (int(tile.group(1)), int(tile.group(2))) == (9, len(everyone))
    for city, n in registered_by_city.items():
        assert re.search(rf"<th scope=\"row\">{city}</th><td class=\"num\">{by_city[city]}"
                         rf"</td><td class=\"num\">{n}</td>", html), city
    # The unknown and the revoked badge are alerts; the voided scan is not.
    assert html.count('class="alert alert-warn"') == 2
    # Search among those who have not arrived.
    name = missing[0]["last_name"]
    part = organiser.get("/overview/part/missing", query_string={"q": name}).get_data(
        as_text=True)
    assert name in part
    assert everyone[0]["last_name"] not in part or everyone[0]["last_name"] == name


def test_overview_needs_an_organiser(client):
    for path in ("/overview", "/overview/part/numbers", "/overview/participants/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_alert_over_capacity(db):
    room = db.execute("SELECT id, capacity FROM checkpoints WHERE id = 'room:kamer-f'"
                      ).fetchone()
    crowd = people(db, limit=room[1] + 1)
    for person in crowd[:-1]:
        scan(db, room[0], participant=person["id"])
    assert [a for a in alerts(db) if a["kind"] == "over_capacity"] == []
    scan(db, room[0], participant=crowd[-1]["id"])
    found = [a for a in alerts(db) if a["kind"] == "over_capacity"]
    assert found == [{"id": "over_capacity:room:kamer-f", "kind": "over_capacity",
                      "severity": "bad", "checkpoint": "room:kamer-f", "name": "Kamer F",
                      "inside": room[1] + 1, "capacity": room[1]}]


def test_alert_excursion_due_with_people_missing(db):
    departs = datetime.fromisoformat(
        db.execute("SELECT departs_at FROM excursions WHERE id = 'forum'").fetchone()[0])
    assigned = people(db, "excursion = 'forum'")

    def due(now: datetime) -> list[dict[str, Any]]:
        return [a for a in alerts(db, now) if a["kind"] == "excursion_due"
                and a["excursion"] == "forum"]

    assert due(departs - timedelta(minutes=20)) == []
    soon = due(departs - timedelta(minutes=5))
    assert len(soon) == 1 and soon[0]["severity"] == "warn" and soon[0]["minutes"] == 5
    assert soon[0]["missing"] == len(assigned)
    late = due(departs + timedelta(minutes=15))
    assert late[0]["severity"] == "bad" and late[0]["minutes"] == -15
    # Everyone confirmed: nothing to call about.
    for person in assigned:
        scan(db, "excursion:forum", participant=person["id"])
    assert due(departs - timedelta(minutes=5)) == []
    # One missing again (a confirmation voided), then the bus leaves: no longer "due".
    last = db.execute("SELECT id FROM scans WHERE checkpoint = 'excursion:forum' "
                      "ORDER BY seq DESC LIMIT 1").fetchone()[0]
    correct(db, last, "void", "orga")
    assert due(departs - timedelta(minutes=5))[0]["missing"] == 1
    record_event(db, "forum", {"id": "depart-forum-1", "action": "depart",
                               "at": now_iso(departs)})
    assert due(departs + timedelta(minutes=1)) == []


def test_alert_unknown_and_revoked_codes(db):
    person = people(db, limit=1)[0]
    old = person["code"]
    reissue(db, person["id"])
    unknown = scan(db, "entrance", code="2345678923456789234567")
    revoked = scan(db, "entrance", code=old)
    now = datetime.now(UTC)
    found = {a["kind"]: a for a in alerts(db, now) if a["kind"] in ("unknown_code",
                                                                     "revoked_code")}
    assert found["unknown_code"]["scan"] == unknown["id"]
    assert found["revoked_code"]["scan"] == revoked["id"]
    assert found["revoked_code"]["participant_name"] == \
        f"{person['first_name']} {person['last_name']}"
    # Half an hour later it is no longer news; a voided one never was.
    assert [a for a in alerts(db, now + timedelta(minutes=31))
            if a["kind"].endswith("_code")] == []
    correct(db, unknown["id"], "void", "orga", note="test badge")
    assert [a["kind"] for a in alerts(db, now) if a["kind"].endswith("_code")] == \
        ["revoked_code"]


def test_alert_silent_device(db):
    now = datetime.now(UTC)
    quiet = add_device(db, "Kamer A tablet", "scanner", "room:kamer-a")
    busy = add_device(db, "Entrance tablet", "scanner", "entrance")
    add_device(db, "Never used", "scanner")
    gone = add_device(db, "Revoked tablet", "scanner")
    old = add_device(db, "Put away", "scanner")
    for device, minutes in ((quiet, 15), (busy, 3), (gone, 15), (old, 4 * 60)):
        db.execute("UPDATE devices SET last_seen_at = ? WHERE id = ?",
                   [now_iso(now - timedelta(minutes=minutes)), device["id"]])
    db.conn.commit()
    revoke(db, gone["id"])
    silent = [a for a in alerts(db, now) if a["kind"] == "device_silent"]
    assert [(a["device"], a["minutes"], a["checkpoint_name"]) for a in silent] == \
        [(quiet["id"], 15, "Kamer A")]


def _form_token(client, path: str) -> tuple[str, str]:
    html = client.get(path).get_data(as_text=True)
    return (re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
            re.search(r'name="correction_id" value="([^"]+)"', html).group(1))


def test_void_and_move_change_presence_and_keep_the_scan(organiser, db_path):
    db = connect(db_path)
    person = people(db, "working_group = 'bibliotheken'", limit=1)[0]
    scan(db, "entrance", participant=person["id"])
    wrong = scan(db, "room:kamer-b", participant=person["id"])
    original = list(db.query("SELECT * FROM scans WHERE id = ?", [wrong["id"]]))[0]
    location = lambda: list(db.query(  # noqa: E731
        "SELECT checkpoint, direction FROM location WHERE participant_id = ?",
        [person["id"]]))[0]
    inside = lambda cp: next(c["inside"] for c in headcounts(db)["checkpoints"]  # noqa: E731
                             if c["id"] == cp)
    assert location() == {"checkpoint": "room:kamer-b", "direction": "in"}
    page = f"/overview/participants/{person['id']}"

    # Without the CSRF token nothing is stored.
    response = organiser.post(f"/overview/scans/{wrong['id']}/move",
                              data={"checkpoint": "room:kamer-a"})
    assert response.status_code == 400
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 0

    # Move it to the room the person really was in.
    token, correction_id = _form_token(organiser, page)
    form = {"csrf_token": token, "correction_id": correction_id, "checkpoint": "room:kamer-a",
            "note": "scanned at the wrong door"}
    response = organiser.post(f"/overview/scans/{wrong['id']}/move", data=form)
    assert response.status_code == 303
    assert location() == {"checkpoint": "room:kamer-a", "direction": "in"}
    assert (inside("room:kamer-a"), inside("room:kamer-b")) == (1, 0)
    # Pressing twice stores one correction.
    organiser.post(f"/overview/scans/{wrong['id']}/move", data=form)
    rows = list(db.query("SELECT * FROM corrections"))
    assert [(r["action"], r["checkpoint"], r["organiser"], r["note"]) for r in rows] == \
        [("move", "room:kamer-a", "orga", "scanned at the wrong door")]

    # Void it: the person is back in the venue, in no room.
    token, correction_id = _form_token(organiser, page)
    response = organiser.post(f"/overview/scans/{wrong['id']}/void",
                              data={"csrf_token": token, "correction_id": correction_id})
    assert response.status_code == 303
    assert location() == {"checkpoint": "entrance", "direction": "in"}
    assert inside("room:kamer-a") == 0 and inside("entrance") == 1
    # Nothing was overwritten: the scan row is exactly as it was stored.
    assert list(db.query("SELECT * FROM scans WHERE id = ?", [wrong["id"]]))[0] == original
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 2

    # The person's day shows the scan struck through, with both corrections.
    html = organiser.get(page).get_data(as_text=True)
    assert 'class="voided"' in html and "scanned at the wrong door" in html
    assert "Moved to Kamer A" in html and "Voided at" in html
    # A voided scan cannot be voided again: refused, nothing stored.
    token, _ = _form_token(organiser, f"/overview/participants/{person['id']}")
    response = organiser.post(f"/overview/scans/{wrong['id']}/void",
                              data={"csrf_token": token, "correction_id": str(uuid.uuid4())},
                              follow_redirects=True)
    assert "already voided" in response.get_data(as_text=True)
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 2
    db.conn.close()


def test_correction_rules(db):
    person = people(db, limit=1)[0]
    stored = scan(db, "entrance", participant=person["id"])
    rejected = scan(db, "entrance", code="2345678923456789234567")
    for scan_id, action, checkpoint, code in (
            ("no-such-scan", "void", None, "unknown_scan"),
            (stored["id"], "delete", None, "bad_action"),
            (stored["id"], "move", "room:nowhere", "unknown_checkpoint"),
            (stored["id"], "move", "entrance", "same_checkpoint"),
            (rejected["id"], "move", "entrance", "rejected_scan")):
        try:
            correct(db, scan_id, action, "orga", checkpoint=checkpoint)
        except CorrectionError as exc:
            assert exc.code == code
        else:
            raise AssertionError(f"{action} {scan_id} was not refused")
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 0
    # A rejected scan can be voided (it then leaves the alert list).
    correction, _scan, new = correct(db, rejected["id"], "void", "orga")
    assert new and correction["action"] == "void"



def test_arrivals_over_the_day_count_first_valid_scans_in_local_time(db):
    everyone = people(db, limit=5)
    day = datetime(2019, 11, 12, tzinfo=UTC)  # Europe/Amsterdam is UTC+1 in November

    def at(hh_mm: str) -> datetime:
        hours, minutes = map(int, hh_mm.split(":"))
        return day + timedelta(hours=hours, minutes=minutes)

    scan(db, "entrance", participant=everyone[0]["id"], at=at("08:05"))
    scan(db, "entrance", participant=everyone[1]["id"], at=at("08:20"))
    scan(db, "entrance", participant=everyone[2]["id"], at=at("08:21"))
    scan(db, "room:kamer-a", participant=everyone[2]["id"], at=at("08:55"))  # not an arrival
    # Person 3's first scan was a mistake and is voided: they arrived with the second.
    mistake = scan(db, "entrance", participant=everyone[3]["id"], at=at("07:00"))
    correct(db, mistake["id"], "void", "orga")
    scan(db, "entrance", participant=everyone[3]["id"], at=at("08:50"))
    # A rejected scan (an unknown badge) is nobody's arrival.
    scan(db, "entrance", code="2345678923456789234567", at=at("07:30"))

    timeline = stats.arrivals_timeline(db)
    assert timeline["bucket_minutes"] == 15 and timeline["total"] == 4
    assert [(b["label"], b["count"], b["total"]) for b in timeline["buckets"]] == \
        [("09:00", 1, 1), ("09:15", 2, 3), ("09:30", 0, 3), ("09:45", 1, 4)]
    assert stats.arrival_times(db) == sorted(now_iso(at(t)) for t in
                                             ("08:05", "08:20", "08:21", "08:50"))


def test_bad_code_alerts_read_their_index_not_the_whole_log(db):
    """Every push to the organisers asks for these; at 50,000 scans a full read took 8 ms."""
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    try:
        bad_code_alerts(db, datetime.now(UTC))
    finally:
        db.conn.set_trace_callback(None)
    [query] = [s for s in statements if "unknown_code" in s]
    plan = " ".join(str(row[-1]) for row in db.execute("EXPLAIN QUERY PLAN " + query))
    assert "USING INDEX scans_bad_codes" in plan, plan
