"""The device API /api/v1 through the real app: statuses, errors, roles, exactly once."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from checkin.core.codes import reissue
from checkin.core.db import connect
from checkin.devices import add_device, revoke
from checkin.scans.signals import scans_recorded
from tests.conftest import csrf_token

NOW = "2019-11-12T08:00:00.000Z"  # in the past, so it is the scan's sort time


@pytest.fixture
def device(db, client):
    """Make devices and return (token, id) pairs, paired through the API like a tablet."""

    def make(role="scanner", checkpoint=None, name="Tablet"):
        added = add_device(db, name, role, checkpoint)
        response = client.post("/api/v1/pair", json={"code": added["pairing_code"]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"], added["id"]

    return make


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def person(db, **where):
    sql = "SELECT id, code, working_group, excursion FROM participants"
    if where:
        sql += " WHERE " + " AND ".join(f"{k} = ?" for k in where)
    return next(db.query(sql + " ORDER BY id", list(where.values())))


def item(code=None, checkpoint="entrance", direction="in", **extra):
    scan = {"id": str(uuid.uuid4()), "checkpoint": checkpoint, "direction": direction,
            "at": NOW, **extra}
    if code is not None:
        scan["code"] = code
    return scan


def post(client, token, *scans, raw=None):
    if raw is not None:
        return client.post("/api/v1/scans", data=raw, headers=auth(token),
                           content_type="application/json")
    return client.post("/api/v1/scans", json={"scans": list(scans)}, headers=auth(token))


def error(response):
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]


def scan_count(db):
    return db.execute("SELECT count(*) FROM scans").fetchone()[0]


def test_pair_once_then_me(client, db):
    added = add_device(db, "Bus Forum", "guide", "excursion:forum")
    response = client.post("/api/v1/pair", json={"code": added["pairing_code"]})
    body = response.get_json()
    assert body["device"] == {"id": added["id"], "name": "Bus Forum", "role": "guide",
                              "checkpoint": "excursion:forum"}
    assert response.headers["Cache-Control"] == "no-store"
    again = client.post("/api/v1/pair", json={"code": added["pairing_code"]})
    assert error(again) == (404, "unknown_pairing_code")
    assert error(client.post("/api/v1/pair", json={"code": 5})) == (400, "bad_field")
    assert error(client.post("/api/v1/pair", data=b'{"code": "\\ud800abcdefghijk"}',
                             content_type="application/json")) == (404, "unknown_pairing_code")
    assert error(client.post("/api/v1/pair", data="{", content_type="application/json")) == \
        (400, "bad_json")
    me = client.get("/api/v1/me", headers=auth(body["token"])).get_json()
    assert me["device"] == body["device"]
    assert me["event"]["name"].startswith("Expertentreffen")


def test_every_status_and_reason(client, db, device):
    token, _ = device()
    p = person(db, working_group="abfall")
    old_code = p["code"]
    new_code = reissue(db, p["id"])
    scans = [item(new_code), item(new_code), item(new_code, "room:kamer-a"),
             item(old_code), item("23456789ABCDEFGHJKMNPQ"), item("hello")]
    response = post(client, token, *scans)
    assert response.status_code == 200
    body = response.get_json()
    got = [(r["id"], r["status"], r["reason"], r["duplicate"]) for r in body["results"]]
    assert got == [
        (scans[0]["id"], "accepted", None, False), (scans[1]["id"], "warning", "already_in", False),
        (scans[2]["id"], "warning", "not_assigned", False),
        (scans[3]["id"], "rejected", "revoked_code", False),
        (scans[4]["id"], "rejected", "unknown_code", False),
        (scans[5]["id"], "rejected", "invalid", False)]
    assert body["results"][1]["detail"]["since"] == "2019-11-12T08:00:00.000+00:00"
    shown = body["results"][0]["participant"]
    assert set(shown) == {"id", "name", "first_name", "last_name", "organisation", "city",
                          "working_group", "working_group_title", "excursion",
                          "excursion_title"}
    assert shown["working_group_title"].startswith("Abfallmanagement")
    assert body["results"][4]["participant"] is None
    assert body["headcount"] == {"checkpoint": "entrance", "inside": 1, "expected": 60,
                                 "capacity": None}


def test_over_capacity_through_the_api(client, db, device):
    token, _ = device()
    group = list(db.query("SELECT code FROM participants WHERE working_group = 'abfall'"))
    body = post(client, token, *[item(p["code"], "room:kamer-f") for p in group[:9]]).get_json()
    assert [r["reason"] for r in body["results"]] == [None] * 8 + ["over_capacity"]
    assert body["headcount"] == {"checkpoint": "room:kamer-f", "inside": 9,
                                 "expected": len(group), "capacity": 8}


def test_duplicates_across_requests_return_the_original_result(client, db, device):
    token, _ = device()
    code = person(db)["code"]
    first = item(code)
    original = post(client, token, first).get_json()["results"][0]
    # The same scan again (a re-send, even with another time) returns what was stored first.
    again = post(client, token, item(code), {**first, "at": "2019-11-12T09:00:00Z",
                                             "queued": True}).get_json()["results"]
    assert again[1] == {**original, "duplicate": True}
    assert again[0]["reason"] == "already_in"
    assert scan_count(db) == 2


ALIVE = "2019-11-12T08:00:00.000+00:00"


def test_a_door_whose_clock_is_behind(client, db, device):
    """Door 2's clock is 3 minutes behind: its live scan is judged and placed by what the
    server knows, so it is 'already in' since door 1's scan; a queued scan keeps its time."""
    door1, _ = device(name="Door 1")
    door2, _ = device(name="Door 2")
    p = person(db)
    first = post(client, door1, item(p["code"])).get_json()
    assert first["results"][0]["status"] == "accepted"
    assert first["server_time"]
    behind = post(client, door2, item(p["code"], at="2019-11-12T07:57:00.000Z"))
    result = behind.get_json()["results"][0]
    assert (result["status"], result["reason"]) == ("warning", "already_in")
    assert result["detail"]["since"] == ALIVE
    # Every answer carries the server's time, for the pages' clock offset.
    assert behind.headers["X-Checkin-Time"] >= behind.get_json()["server_time"]
    # The live scan from the wrong clock did not move the person's day earlier.
    placed = db.execute("SELECT sort_at FROM scans WHERE id = ?", [result["id"]]).fetchone()
    assert placed[0] == ALIVE
    later = post(client, door1, item(p["code"], at="2019-11-12T08:01:00.000Z")).get_json()
    assert later["results"][0]["detail"]["since"] == ALIVE
    # A scan from an offline queue falls into place by its device time (and is judged by the
    # person's newest state: they are in).
    queued = post(client, door2, item(p["code"], at="2019-11-12T07:30:00.000Z",
                                      queued=True)).get_json()["results"][0]
    assert queued["reason"] == "already_in"
    assert db.execute("SELECT min(sort_at) FROM scans").fetchone()[0] == \
        "2019-11-12T07:30:00.000+00:00"
    # The answer does not depend on the device's time at all: out, then in from a clock
    # that puts the 'in' before the 'out', is a green welcome back.
    post(client, door1, item(p["code"], direction="out", at="2019-11-12T08:05:00.000Z"))
    back = post(client, door2, item(p["code"], at="2019-11-12T08:02:00.000Z")).get_json()
    assert back["results"][0]["status"] == "accepted"
    hc = client.get("/api/v1/headcounts", headers=auth(door1)).get_json()
    assert hc["checkpoints"][0]["inside"] == 1


def test_a_scan_id_reused_for_another_badge(client, db, device):
    """The same id with other content is refused (id_conflict) and changes nothing; the
    same id with the same content keeps returning the first answer."""
    token, _ = device()
    first_person, other = (person(db, working_group="abfall"),
                           person(db, working_group="bibliotheken"))
    scan = item(first_person["code"])
    original = post(client, token, scan).get_json()["results"][0]
    stored = db.execute("SELECT * FROM scans").fetchall()
    for changed in ({"code": other["code"]}, {"checkpoint": "room:raadzaal"},
                    {"direction": "out"}):
        answer = post(client, token, {**scan, **changed})
        assert answer.status_code == 200
        result = answer.get_json()["results"][0]
        assert result == {"id": scan["id"], "status": "rejected", "reason": "id_conflict",
                          "detail": {}, "participant": None, "duplicate": False}
    by_id = {k: v for k, v in scan.items() if k != "code"}
    conflict = post(client, token, {**by_id, "participant": other["id"]}).get_json()
    assert conflict["results"][0]["reason"] == "id_conflict"
    # Nothing stored, nothing changed, the second person is not in.
    assert db.execute("SELECT * FROM scans").fetchall() == stored
    assert conflict["headcount"]["inside"] == 1
    again = post(client, token, scan).get_json()["results"][0]
    assert again == {**original, "duplicate": True}
    # A scan by participant id is the same scan when it names the same person.
    manual = item(participant=other["id"])
    assert post(client, token, manual).get_json()["results"][0]["status"] == "accepted"
    assert post(client, token, manual).get_json()["results"][0]["duplicate"] is True
    assert post(client, token, {**manual, "participant": first_person["id"]}).get_json()[
        "results"][0]["reason"] == "id_conflict"


def test_an_id_reused_by_another_device_leaks_nothing(client, db, device):
    """A stored answer goes back only to the device that sent the scan."""
    door, _ = device(name="Door")
    door2, _ = device(name="Door 2")
    guide, _ = device("guide", "excursion:forum", name="Bus Forum")
    elsewhere = person(db, excursion="avebe")
    scan = item(elsewhere["code"])
    answer = post(client, door, scan).get_json()["results"][0]
    assert answer["participant"]["excursion"] == "avebe"
    name = answer["participant"]["last_name"]
    for token, body in ((guide, {**scan, "checkpoint": "excursion:forum"}), (door2, scan)):
        response = post(client, token, body)
        assert response.status_code == 200
        result = response.get_json()["results"][0]
        assert result["reason"] == "id_conflict" and result["participant"] is None
        assert name not in response.get_data(as_text=True)
    assert scan_count(db) == 1
    # The id is still the door's: it may undo it, the guide may not.
    assert client.post(f"/api/v1/scans/{scan['id']}/undo", headers=auth(guide)).status_code \
        == 403
    assert post(client, door, scan).get_json()["results"][0]["duplicate"] is True


def test_a_removed_participant_checked_in_by_participant_id(client, db, device):
    """After `checkin participant delete` the person is refused by id exactly as by code."""
    from checkin.security.erase import erase_participant

    token, _ = device()
    p = person(db, working_group="abfall")
    assert erase_participant(db, p["id"])
    by_code = post(client, token, item(p["code"])).get_json()["results"][0]
    for checkpoint in ("entrance", "room:kamer-a"):
        body = post(client, token, item(participant=p["id"], checkpoint=checkpoint)).get_json()
        result = body["results"][0]
        assert (result["status"], result["reason"]) == ("rejected", "unknown_code")
        assert result["participant"] is None
        assert (result["status"], result["reason"]) == (by_code["status"], by_code["reason"])
        assert body["headcount"]["inside"] == 0
    hc = client.get("/api/v1/headcounts", headers=auth(token)).get_json()
    assert hc["arrived"] == 0
    assert db.execute("SELECT count(*) FROM location").fetchone()[0] == 0


def test_manual_check_in_by_participant(client, db, device):
    token, _ = device()
    p = person(db)
    body = post(client, token, item(participant=p["id"])).get_json()
    assert body["results"][0]["status"] == "accepted"
    assert body["results"][0]["participant"]["id"] == p["id"]
    assert next(db.query("SELECT source FROM scans"))["source"] == "search"


def test_batch_of_500_is_fine_and_501_is_refused(client, db, device):
    token, _ = device()
    codes = [r[0] for r in db.execute("SELECT code FROM participants")]
    batch = [item(codes[n % len(codes)], "room:raadzaal", "in" if n % 2 else "out")
             for n in range(500)]
    response = post(client, token, *batch)
    assert response.status_code == 200 and len(response.get_json()["results"]) == 500
    assert scan_count(db) == 500
    response = post(client, token, *[item(codes[0]) for _ in range(501)])
    assert error(response) == (400, "too_many_scans")
    assert scan_count(db) == 500


BAD_BATCHES = [
    ("not json", b"{scans: [", "bad_json"),
    ("not an object", b"[1, 2]", "bad_json"),
    ("not utf-8", b'{"scans": "\xff"}', "bad_json"),
    ("deep nesting", b"[" * 100000 + b"]" * 100000, "bad_json"),
    ("no scans", {}, "bad_field"),
    ("scans not a list", {"scans": {"id": "x"}}, "bad_field"),
    ("empty", {"scans": []}, "bad_field"),
    ("item not an object", {"scans": ["ABC"]}, "bad_field"),
    ("missing id", {"scans": [{"code": "X", "checkpoint": "entrance", "direction": "in",
                               "at": NOW}]}, "bad_field"),
    ("id too long", {"scans": [item("X", id="a" * 65)]}, "bad_field"),
    ("id not text", {"scans": [item("X", id=12)]}, "bad_field"),
    ("no code and no participant", {"scans": [item()]}, "bad_field"),
    ("code and participant", {"scans": [item("X", participant=1)]}, "bad_field"),
    ("code not text", {"scans": [item(["X"])]}, "bad_field"),
    ("code too long", {"scans": [item("X" * 1001)]}, "bad_field"),
    ("code with a lone surrogate", b'{"scans": [{"id": "a", "code": "\\ud800", '
     b'"checkpoint": "entrance", "direction": "in", "at": "2019-11-12T08:00:00Z"}]}',
     "bad_field"),
    ("participant not a number", {"scans": [item(participant="1")]}, "bad_field"),
    ("participant boolean", {"scans": [item(participant=True)]}, "bad_field"),
    ("unknown checkpoint", {"scans": [item("X", "room:attic")]}, "unknown_checkpoint"),
    ("checkpoint missing", {"scans": [item("X", None)]}, "bad_field"),
    ("bad direction", {"scans": [item("X", direction="sideways")]}, "bad_field"),
    ("time without zone", {"scans": [item("X", at="2019-11-12T08:00:00")]}, "bad_field"),
    ("not a time", {"scans": [item("X", at="at nine")]}, "bad_field"),
    ("time as number", {"scans": [item("X", at=1764144000)]}, "bad_field"),
    ("absurd year", {"scans": [item("X", at="0001-01-01T00:00:00Z")]}, "bad_field"),
    ("queued not true or false", {"scans": [item("X", queued="yes")]}, "bad_field"),
]


@pytest.mark.parametrize("body,expected", [(b, e) for _n, b, e in BAD_BATCHES],
                         ids=[n for n, _b, _e in BAD_BATCHES])
def test_bad_input_is_400_and_stores_nothing(client, db, device, body, expected):
    token, _ = device()
    good = item(person(db)["code"])
    if isinstance(body, dict) and body.get("scans") and isinstance(body["scans"], list):
        body = {"scans": [good, *body["scans"]]}  # the good one must not be stored either
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = post(client, token, raw=raw)
    assert error(response) == (400, expected)
    assert scan_count(db) == 0


def test_body_over_1_mb_is_413_json(client, db, device):
    token, _ = device()
    big = json.dumps({"scans": [item("X" * 1000) for _ in range(1100)]}).encode()
    assert len(big) > 1024 * 1024
    assert error(post(client, token, raw=big)) == (413, "body_too_large")
    assert scan_count(db) == 0


def test_tokens(client, db, device):
    token, device_id = device()
    assert error(client.get("/api/v1/me")) == (401, "no_token")
    assert error(client.get("/api/v1/me", headers=auth("wrong" * 10))) == (401, "bad_token")
    assert error(client.get("/api/v1/me", headers={"Authorization": "Basic " + token})) == \
        (401, "bad_token")
    assert error(post(client, "nope", item("X"))) == (401, "bad_token")
    assert client.get("/api/v1/me", headers=auth(token)).status_code == 200
    revoke(db, device_id)
    assert error(client.get("/api/v1/me", headers=auth(token))) == (401, "bad_token")
    assert error(post(client, token, item(person(db)["code"]))) == (401, "bad_token")
    assert scan_count(db) == 0


def test_display_reads_but_cannot_scan(client, db, device):
    token, _ = device("display")
    assert error(post(client, token, item(person(db)["code"]))) == (403, "forbidden")
    # Entrance, 7 rooms, 6 excursions and the roll call's 2 assembly points.
    assert len(client.get("/api/v1/checkpoints", headers=auth(token))
               .get_json()["checkpoints"]) == 16
    counts = client.get("/api/v1/headcounts", headers=auth(token)).get_json()
    assert counts["registered"] == 60 and counts["arrived"] == 0
    assert {"id", "kind", "name", "inside", "expected", "capacity", "state"} == \
        set(counts["checkpoints"][0])
    assert error(client.get("/api/v1/roster", headers=auth(token))) == (403, "forbidden")
    assert error(client.get("/api/v1/participants?q=an", headers=auth(token))) == \
        (403, "forbidden")
    assert scan_count(db) == 0


def test_guide_only_at_its_excursion_and_only_its_roster(client, db, device):
    token, _ = device("guide", "excursion:forum")
    mine = list(db.query("SELECT id, code, last_name FROM participants "
                         "WHERE excursion = 'forum'"))
    assert error(post(client, token, item(mine[0]["code"], "excursion:avebe"))) == \
        (403, "forbidden")
    assert error(post(client, token, item(mine[0]["code"], "entrance"))) == (403, "forbidden")
    assert scan_count(db) == 0
    body = post(client, token, item(mine[0]["code"], "excursion:forum")).get_json()
    assert body["results"][0]["status"] == "accepted"
    assert body["headcount"]["checkpoint"] == "excursion:forum"
    assert [c["id"] for c in client.get("/api/v1/checkpoints", headers=auth(token))
            .get_json()["checkpoints"]] == ["excursion:forum"]
    entries = client.get("/api/v1/roster", headers=auth(token)).get_json()["entries"]
    assert len(entries) == len(mine)
    assert {e["k"] for e in entries} == {
        hashlib.sha256(f"checkin-id:{p['code']}".encode()).hexdigest() for p in mine}
    other = next(db.query("SELECT last_name FROM participants WHERE excursion = 'avebe' "
                          "AND last_name NOT IN (SELECT last_name FROM participants "
                          "WHERE excursion = 'forum')"))
    found = client.get(f"/api/v1/participants?q={other['last_name']}",
                       headers=auth(token)).get_json()["participants"]
    assert found == []
    found = client.get(f"/api/v1/participants?q={mine[0]['last_name']}",
                       headers=auth(token)).get_json()["participants"]
    assert mine[0]["id"] in [p["id"] for p in found]


def decrypt(code, entry):
    key = hashlib.sha256(f"checkin-key:{code}".encode()).digest()
    return json.loads(AESGCM(key).decrypt(base64.b64decode(entry["iv"]),
                                          base64.b64decode(entry["d"]), None))


def test_roster_entries_decrypt_with_the_code_and_not_without(client, db, device):
    token, _ = device()
    p = person(db)
    old = p["code"]
    new = reissue(db, p["id"])
    roster = client.get("/api/v1/roster", headers=auth(token)).get_json()
    assert roster["generated_at"]
    entries = {e["k"]: e for e in roster["entries"]}
    assert len(entries) == 61  # 60 valid codes and the revoked one
    key = hashlib.sha256(f"checkin-id:{new}".encode()).hexdigest()
    plain = decrypt(new, entries[key])
    assert plain["status"] == "valid" and plain["participant"]["id"] == p["id"]
    assert "email" not in plain["participant"]
    old_entry = entries[hashlib.sha256(f"checkin-id:{old}".encode()).hexdigest()]
    assert decrypt(old, old_entry)["status"] == "revoked"
    with pytest.raises(InvalidTag):
        decrypt(old, entries[key])
    raw = json.dumps(roster)
    assert p["code"] not in raw and "Zijlstra" not in raw


def test_participant_search(client, db, device):
    token, _ = device()
    assert error(client.get("/api/v1/participants?q=a", headers=auth(token))) == \
        (400, "bad_field")
    found = client.get("/api/v1/participants?q=gemeente", headers=auth(token)).get_json()
    assert 0 < len(found["participants"]) <= 20
    # The titles are the plain texts; the ids let a page show them in its language.
    assert set(found["participants"][0]) == {"id", "name", "organisation", "city",
                                             "working_group", "working_group_title",
                                             "excursion", "excursion_title"}


def test_undo_own_scan_only(client, db, device):
    token, _ = device()
    other, _ = device(name="Other")
    p = person(db)
    scan = item(p["code"])
    post(client, token, scan)
    url = f"/api/v1/scans/{scan['id']}/undo"
    assert error(client.post(url, headers=auth(other))) == (403, "forbidden")
    response = client.post(url, headers=auth(token))
    assert response.get_json() == {"id": scan["id"], "undone": True}
    assert client.post(url, headers=auth(token)).get_json() == {"id": scan["id"],
                                                                "undone": True}
    assert db.execute("SELECT count(*) FROM corrections").fetchone()[0] == 1
    counts = client.get("/api/v1/headcounts", headers=auth(token)).get_json()
    assert counts["arrived"] == 0
    assert error(client.post("/api/v1/scans/nope/undo", headers=auth(token))) == \
        (404, "unknown_scan")


def test_scanner_checkpoints(client, device):
    roaming, _ = device()
    door, _ = device(checkpoint="entrance")
    kinds = {c["kind"] for c in client.get("/api/v1/checkpoints", headers=auth(roaming))
             .get_json()["checkpoints"]}
    assert kinds == {"entrance", "room"}
    assert [c["id"] for c in client.get("/api/v1/checkpoints", headers=auth(door))
            .get_json()["checkpoints"]] == ["entrance"]


def test_organiser_session_needs_csrf_header_for_posts(organiser, db):
    code = person(db)["code"]
    assert organiser.get("/api/v1/me").get_json()["device"]["role"] == "organiser"
    response = organiser.post("/api/v1/scans", json={"scans": [item(code)]})
    assert error(response) == (400, "bad_csrf_token")
    assert scan_count(db) == 0
    token = csrf_token(organiser, "/devices")
    response = organiser.post("/api/v1/scans", json={"scans": [item(code, "excursion:forum")]},
                              headers={"X-CSRFToken": token})
    assert response.status_code == 200
    assert next(db.query("SELECT device_id FROM scans"))["device_id"] == "organiser:orga"


def test_unknown_addresses_and_methods_are_json(client, device):
    token, _ = device()
    assert error(client.get("/api/v1/nothing", headers=auth(token))) == (404, "not_found")
    assert error(client.get("/api/v1/scans", headers=auth(token))) == \
        (405, "method_not_allowed")
    assert error(client.delete("/api/v1/me", headers=auth(token))) == \
        (405, "method_not_allowed")


def test_scans_recorded_signal_carries_only_new_rows(app, client, db, device):
    token, _ = device()
    code = person(db)["code"]
    seen = []

    def receiver(sender, scans):
        seen.append((sender, [s["id"] for s in scans], scans))

    scan = item(code)
    with scans_recorded.connected_to(receiver):
        post(client, token, scan)
        post(client, token, scan)  # a duplicate: no signal
    assert len(seen) == 1
    sender, ids, rows = seen[0]
    assert sender is app and ids == [scan["id"]]
    assert rows[0]["status"] == "accepted" and rows[0]["seq"] > 0
    assert rows[0]["participant_id"] == person(db)["id"]


@pytest.mark.server
def test_limits_through_the_real_server(live_server):
    import requests

    token = add_device(connect(live_server.db_path), "Door", "scanner")["token"]
    url = live_server.url + "/api/v1/scans"
    big = json.dumps({"scans": [item("X" * 1000) for _ in range(1100)]})
    response = requests.post(url, data=big, timeout=30, headers={
        **auth(token), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"
    # A chunked body of unknown length is not read at all.
    response = requests.post(url, data=iter([b'{"scans": []}']), headers=auth(token),
                             timeout=30)
    assert response.status_code == 400
    response = requests.post(url, data="{", headers=auth(token), timeout=30)
    assert response.json()["error"]["code"] == "bad_json"
    db = connect(live_server.db_path)
    assert scan_count(db) == 0
