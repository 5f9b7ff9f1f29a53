"""Excursions: the roster and its state, departures, returns, walk-ons, the guide API."""

from __future__ import annotations

import json
import uuid

import pytest

from checkin.devices import add_device
from checkin.excursions import (
    EventError,
    all_excursion_states,
    assigned_excursion,
    excursion_state,
    record_event,
)
from checkin.excursions.signals import excursion_changed
from checkin.scans import organiser_actor, record_scans
from tests.conftest import csrf_token

AT = "2019-11-12T12:50:00.000+00:00"


def uid() -> str:
    return str(uuid.uuid4())


def assigned(db, excursion: str) -> list[dict]:
    return list(db.query("SELECT id, code, excursion FROM participants WHERE excursion = ? "
                         "ORDER BY id", [excursion]))


def guide_token(db, excursion: str) -> str:
    return add_device(db, f"Guide {excursion}", "guide", f"excursion:{excursion}")["token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def scan(client, token: str, excursion: str, **what) -> dict:
    body = {"scans": [{"id": uid(), "checkpoint": f"excursion:{excursion}", "direction": "in",
                       "at": AT, **what}]}
    response = client.post("/api/v1/scans", json=body, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"][0]


def event(client, token: str, excursion: str, **body):
    body.setdefault("id", uid())
    body.setdefault("at", AT)
    return client.post(f"/api/v1/excursions/{excursion}/events", json=body, headers=auth(token))


def test_state_before_anything_happened(db):
    people = assigned(db, "bike-tour")
    state = excursion_state(db, "bike-tour")
    assert state["excursion"]["status"] == "boarding"
    assert state["excursion"]["departed_at"] is None
    assert state["excursion"]["departure_place"] == "Bicycle park Grote Markt"
    assert state["excursion"]["capacity"] == 12
    keys = [(r["last_name"].casefold(), r["first_name"].casefold()) for r in state["roster"]]
    assert keys == sorted(keys)
    assert {r["id"] for r in state["roster"]} == {p["id"] for p in people}
    assert all(r["status"] == "missing" and not r["walk_on"] for r in state["roster"])
    assert state["counts"] == {"expected": len(people), "confirmed": 0,
                               "missing": len(people), "not_on_list": 0, "walk_ons": 0}
    first = state["roster"][0]
    assert set(first) >= {"id", "name", "organisation", "city", "status", "walk_on",
                          "confirmed_at"}
    assert "email" not in first and "code" not in first
    assert excursion_state(db, "no-such-trip") is None
    assert [s["excursion"]["id"] for s in all_excursion_states(db)][0] == "avebe"
    assert len(all_excursion_states(db)) == 6


def test_confirm_by_scan_and_by_tap(client, db):
    token = guide_token(db, "forum")
    people = assigned(db, "forum")
    first = scan(client, token, "forum", code=people[0]["code"].lower())
    assert first["status"] == "accepted"
    scan(client, token, "forum", participant=people[1]["id"])
    state = client.get("/api/v1/excursions/forum", headers=auth(token)).get_json()
    confirmed = {r["id"] for r in state["roster"] if r["status"] == "confirmed"}
    assert confirmed == {people[0]["id"], people[1]["id"]}
    assert state["counts"]["confirmed"] == 2
    assert state["counts"]["missing"] == len(people) - 2
    assert all(r["confirmed_at"] for r in state["roster"] if r["status"] == "confirmed")


def test_undone_confirmation_counts_as_missing_again(client, db):
    token = guide_token(db, "forum")
    person = assigned(db, "forum")[0]
    result = scan(client, token, "forum", participant=person["id"])
    client.post(f"/api/v1/scans/{result['id']}/undo", headers=auth(token))
    roster = excursion_state(db, "forum")["roster"]
    assert next(r for r in roster if r["id"] == person["id"])["status"] == "missing"


def test_walk_on_moves_the_assignment(client, db):
    token = guide_token(db, "avebe")
    other = assigned(db, "forum")[0]
    before_forum = excursion_state(db, "forum")["counts"]["expected"]
    result = scan(client, token, "avebe", code=other["code"])
    assert result["status"] == "warning" and result["reason"] == "not_assigned"
    # Scanned but not yet added: shown, marked as not assigned here.
    row = next(r for r in excursion_state(db, "avebe")["roster"] if r["id"] == other["id"])
    assert row["assigned"] is False and row["status"] == "not_on_list"

    # A guide adds by the badge it saw (issue 8: a bare id is refused to guides).
    response = event(client, token, "avebe", action="walk_on", code=other["code"])
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "ok" and body["duplicate"] is False
    me = next(r for r in body["state"]["roster"] if r["id"] == other["id"])
    assert me["walk_on"] is True and me["status"] == "confirmed" and me["assigned"] is True
    assert body["state"]["counts"]["walk_ons"] == 1
    # A day event over the plan: the plan still says forum, the day says avebe.
    assert db.execute("SELECT excursion FROM participants WHERE id = ?",
                      [other["id"]]).fetchone()[0] == "forum"
    assert assigned_excursion(db, other["id"]) == "avebe"
    forum = excursion_state(db, "forum")
    assert other["id"] not in {r["id"] for r in forum["roster"]}
    assert forum["counts"]["expected"] == before_forum - 1
    stored = list(db.query("SELECT * FROM excursion_events WHERE action = 'walk_on'"))
    assert len(stored) == 1
    assert json.loads(stored[0]["detail"]) == {"from": "forum", "to": "avebe"}
    assert stored[0]["participant_id"] == other["id"]
    # Adding the same person again is refused and changes nothing.
    again = event(client, token, "avebe", action="walk_on", code=other["code"])
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_assigned"


def test_walk_on_by_code_when_the_phone_was_offline(client, db):
    token = guide_token(db, "avebe")
    person = next(db.query("SELECT id, code FROM participants WHERE excursion IS NULL"))
    response = event(client, token, "avebe", action="walk_on", code=person["code"])
    assert response.status_code == 200
    assert assigned_excursion(db, person["id"]) == "avebe"
    detail = json.loads(db.execute("SELECT detail FROM excursion_events").fetchone()[0])
    assert detail == {"from": None, "to": "avebe"}
    bad = event(client, token, "avebe", action="walk_on", code="2222222222222222222222")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "unknown_code"


def test_depart_records_who_came_and_who_did_not(client, db):
    token = guide_token(db, "homelessness")
    people = assigned(db, "homelessness")
    came = [p["id"] for p in people[:-2]]
    for pid in came:
        scan(client, token, "homelessness", participant=pid)
    received = []

    def listener(sender, **kw):
        received.append(kw["excursion_id"])

    with excursion_changed.connected_to(listener, sender=client.application):
        response = event(client, token, "homelessness", action="depart", id="depart-0001")
    assert response.status_code == 200, response.get_json()
    assert received == ["homelessness"]
    state = response.get_json()["state"]
    assert state["excursion"]["status"] == "departed"
    assert state["excursion"]["departed_at"] == AT
    row = db.execute("SELECT detail, device_id FROM excursion_events WHERE id = ?",
                     ["depart-0001"]).fetchone()
    detail = json.loads(row[0])
    assert sorted(detail["came"]) == sorted(came)
    assert sorted(detail["missing"]) == sorted(p["id"] for p in people[-2:])
    assert row[1] is not None

    # Exactly once: the same id again stores nothing, answers the original, sends nothing.
    with excursion_changed.connected_to(listener, sender=client.application):
        again = event(client, token, "homelessness", action="depart", id="depart-0001")
    assert again.status_code == 200 and again.get_json()["duplicate"] is True
    assert received == ["homelessness"]
    assert db.execute("SELECT count(*) FROM excursion_events").fetchone()[0] == 1
    # A second departure with a new id is refused.
    second = event(client, token, "homelessness", action="depart")
    assert second.status_code == 409
    assert second.get_json()["error"]["code"] == "already_departed"


def test_return_closes_the_excursion(client, db):
    token = guide_token(db, "digital-castle")
    early = event(client, token, "digital-castle", action="return")
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "not_departed"
    assert event(client, token, "digital-castle", action="depart").status_code == 200
    back = event(client, token, "digital-castle", action="return",
                 at="2019-11-12T15:20:00+00:00")
    assert back.status_code == 200
    ex = back.get_json()["state"]["excursion"]
    assert ex["status"] == "returned" and ex["returned_at"] == "2019-11-12T15:20:00.000+00:00"
    assert event(client, token, "digital-castle", action="return").status_code == 409
    assert db.execute("SELECT count(*) FROM excursion_events").fetchone()[0] == 2


def test_event_time_is_never_later_than_its_arrival(db):
    row, dup = record_event(db, "forum", {"id": uid(), "action": "depart",
                                          "at": "2999-01-01T00:00:00Z"})
    assert not dup and row["at"] == row["received_at"]


def test_guide_cannot_touch_another_excursion(client, db):
    token = guide_token(db, "forum")
    assert client.get("/api/v1/excursions/avebe", headers=auth(token)).status_code == 403
    response = event(client, token, "avebe", action="depart")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    other = assigned(db, "avebe")[0]
    refused = client.post("/api/v1/scans", headers=auth(token), json={"scans": [
        {"id": uid(), "participant": other["id"], "checkpoint": "excursion:avebe",
         "direction": "in", "at": AT}]})
    assert refused.status_code == 403
    assert db.execute("SELECT count(*) FROM excursion_events").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0


def test_roles_and_authentication(client, db):
    display = add_device(db, "TV", "display")["token"]
    scanner = add_device(db, "Door", "scanner")["token"]
    assert client.get("/api/v1/excursions/forum", headers=auth(display)).status_code == 200
    assert event(client, display, "forum", action="depart").status_code == 403
    assert client.get("/api/v1/excursions/forum", headers=auth(scanner)).status_code == 403
    assert event(client, scanner, "forum", action="depart").status_code == 403
    assert client.get("/api/v1/excursions/forum").status_code == 401
    assert client.get("/api/v1/excursions/forum",
                      headers=auth("x" * 43)).status_code == 401
    token = guide_token(db, "forum")
    assert client.get("/api/v1/excursions/nowhere", headers=auth(display)).status_code == 404
    assert event(client, token, "nowhere", action="depart").status_code == 403


def test_organiser_needs_the_csrf_header(organiser, db):
    assert organiser.get("/api/v1/excursions/bike-tour").status_code == 200
    body = {"id": uid(), "action": "depart", "at": AT}
    refused = organiser.post("/api/v1/excursions/bike-tour/events", json=body)
    assert refused.status_code == 400
    token = csrf_token(organiser, "/reports/summary")
    ok = organiser.post("/api/v1/excursions/bike-tour/events", json=body,
                        headers={"X-CSRFToken": token})
    assert ok.status_code == 200
    assert db.execute("SELECT device_id FROM excursion_events").fetchone()[0] == "organiser:orga"


@pytest.mark.parametrize("body", [
    {"action": "depart", "at": AT},                               # no id
    {"id": "short", "action": "depart", "at": AT},                # id too short
    {"id": "x" * 65, "action": "depart", "at": AT},               # id too long
    {"id": "abcdefgh-1", "action": "leave", "at": AT},            # unknown action
    {"id": "abcdefgh-2", "action": "depart"},                     # no time
    {"id": "abcdefgh-3", "action": "depart", "at": "2019-11-12T12:00:00"},  # no zone
    {"id": "abcdefgh-4", "action": "walk_on", "at": AT},          # walk_on without person
    {"id": "abcdefgh-5", "action": "walk_on", "participant": True, "at": AT},
])
def test_bad_events_change_nothing(client, db, body):
    token = guide_token(db, "forum")
    response = client.post("/api/v1/excursions/forum/events", json=body, headers=auth(token))
    assert response.status_code == 400
    assert set(response.get_json()["error"]) == {"code", "message"}
    assert db.execute("SELECT count(*) FROM excursion_events").fetchone()[0] == 0


def test_bad_json_and_unknown_person(client, db):
    token = guide_token(db, "forum")
    response = client.post("/api/v1/excursions/forum/events", data="{nope",
                           headers={**auth(token), "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_json"
    missing = event(client, token, "forum", action="walk_on", participant=99999)
    assert missing.status_code == 403  # guides add by badge code only (issue 8)
    with pytest.raises(EventError) as unknown:
        record_event(db, "forum", {"id": "abcdefgh-99", "action": "walk_on",
                                   "participant": 99999, "at": AT})
    assert unknown.value.status == 404
    with pytest.raises(EventError):
        record_event(db, "forum", ["not", "an", "object"])


def test_organiser_scan_and_state_agree_with_the_headcount(db):
    people = assigned(db, "bike-tour")
    record_scans(db, organiser_actor("orga"), [
        {"id": uid(), "participant": p["id"], "checkpoint": "excursion:bike-tour",
         "direction": "in", "at": AT} for p in people[:3]])
    from checkin.scans import headcounts

    count = next(c for c in headcounts(db)["checkpoints"] if c["id"] == "excursion:bike-tour")
    state = excursion_state(db, "bike-tour")
    assert count["inside"] == state["counts"]["confirmed"] == 3
    assert count["expected"] == state["counts"]["expected"]


def test_a_scan_moved_by_an_organiser_changes_both_rosters(db):
    from checkin.scans import correct_scan

    person = assigned(db, "forum")[0]
    scan_id = uid()
    record_scans(db, organiser_actor("orga"), [
        {"id": scan_id, "participant": person["id"], "checkpoint": "excursion:forum",
         "direction": "in", "at": AT}])
    assert excursion_state(db, "forum")["counts"]["confirmed"] == 1
    correct_scan(db, scan_id, "move", checkpoint="excursion:avebe", organiser="orga")
    assert excursion_state(db, "forum")["counts"]["confirmed"] == 0
    avebe = excursion_state(db, "avebe")
    assert [r["id"] for r in avebe["roster"] if r["status"] == "not_on_list"] == [person["id"]]
    assert avebe["counts"]["confirmed"] == 0 and avebe["counts"]["not_on_list"] == 1


def test_refusals_a_guide_reads_are_in_the_phones_language(client, db):
    token = guide_token(db, "forum")
    assert event(client, token, "forum", action="depart").status_code == 200
    again = client.post("/api/v1/excursions/forum/events", headers={
        **auth(token), "Accept-Language": "de-DE,de;q=0.9"},
        json={"id": uid(), "action": "depart", "at": AT})
    assert again.status_code == 409
    assert again.get_json()["error"] == {"code": "already_departed",
                                         "message": "Diese Exkursion ist schon abgefahren."}
    dutch = client.post("/api/v1/excursions/forum/events", headers={
        **auth(token), "Accept-Language": "nl"}, json={"id": uid(), "action": "depart", "at": AT})
    assert dutch.get_json()["error"]["message"] == "Deze excursie is al vertrokken."
