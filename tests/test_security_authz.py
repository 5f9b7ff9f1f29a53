"""Issue 8, authorisation: guides see only their roster, displays only counts, sane times."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from checkin.devices import add_device
from checkin.scans.readmodel import assigned_excursion
from tests.conftest import csrf_token

AT = "2019-11-12T12:50:00.000+00:00"


def uid() -> str:
    return str(uuid.uuid4())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token(db, role: str, checkpoint: str | None = None) -> str:
    return add_device(db, f"{role} {uid()[:6]}", role, checkpoint)["token"]


def people(db, excursion: str, same: bool = True) -> list[dict]:
    op = "=" if same else "IS NOT"
    return list(db.query(f"SELECT id, code, first_name, last_name FROM participants "  # noqa: S608
                         f"WHERE excursion {op} ? ORDER BY id", [excursion]))


def scan_body(**what) -> dict:
    return {"scans": [{"id": uid(), "checkpoint": "excursion:bike-tour", "direction": "in",
                       "at": AT, **what}]}


def scan_count(db) -> int:
    return db.execute("SELECT count(*) FROM scans").fetchone()[0]


def test_guide_scan_by_id_only_for_its_roster(client, db):
    guide = token(db, "guide", "excursion:bike-tour")
    mine, other = people(db, "bike-tour")[0], people(db, "bike-tour", same=False)[0]
    before = scan_count(db)
    refused = client.post("/api/v1/scans", json=scan_body(participant=other["id"]),
                          headers=auth(guide))
    unknown = client.post("/api/v1/scans", json=scan_body(participant=99_999),
                          headers=auth(guide))
    assert refused.status_code == unknown.status_code == 403
    # The same answer for someone elsewhere and someone who does not exist: nothing revealed.
    assert refused.get_json() == unknown.get_json()
    assert other["last_name"] not in refused.get_data(as_text=True)
    assert scan_count(db) == before
    ok = client.post("/api/v1/scans", json=scan_body(participant=mine["id"]), headers=auth(guide))
    assert ok.status_code == 200
    assert ok.get_json()["results"][0]["participant"]["id"] == mine["id"]


def test_guide_scanning_a_badge_from_elsewhere_still_shows_who(client, db):
    guide = token(db, "guide", "excursion:bike-tour")
    other = people(db, "bike-tour", same=False)[0]
    ok = client.post("/api/v1/scans", json=scan_body(code=other["code"]), headers=auth(guide))
    assert ok.status_code == 200
    assert ok.get_json()["results"][0]["participant"]["last_name"] == other["last_name"]
    # Once its badge was scanned here the person is on this guide's list, also by id.
    again = client.post("/api/v1/scans", json=scan_body(participant=other["id"]),
                        headers=auth(guide))
    assert again.status_code == 200


def test_display_reads_excursion_counts_only(client, db):
    display = token(db, "display")
    response = client.get("/api/v1/excursions/bike-tour", headers=auth(display))
    assert response.status_code == 200
    body = response.get_json()
    assert "roster" not in body and body["counts"]["expected"] > 0
    text = response.get_data(as_text=True)
    for person in people(db, "bike-tour"):
        assert person["last_name"] not in text


def test_guide_walk_on_needs_the_badge_code(client, db, organiser):
    guide = token(db, "guide", "excursion:bike-tour")
    other = people(db, "bike-tour", same=False)
    by_id = client.post("/api/v1/excursions/bike-tour/events", headers=auth(guide), json={
        "id": uid(), "action": "walk_on", "participant": other[0]["id"], "at": AT})
    assert by_id.status_code == 403
    # A bare id beside a code must not win either: the code's owner is added.
    by_code = client.post("/api/v1/excursions/bike-tour/events", headers=auth(guide), json={
        "id": uid(), "action": "walk_on", "code": other[1]["code"],
        "participant": other[0]["id"], "at": AT})
    assert by_code.status_code == 200, by_code.get_json()
    # Who is on which excursion comes from the read model: a walk-on is a day event.
    assert assigned_excursion(db, other[1]["id"]) == "bike-tour"
    assert assigned_excursion(db, other[0]["id"]) != "bike-tour"
    # Organisers may move anyone by id.
    headers = {"X-CSRFToken": csrf_token(organiser, "/participants")}
    by_organiser = organiser.post("/api/v1/excursions/bike-tour/events", headers=headers, json={
        "id": uid(), "action": "walk_on", "participant": other[0]["id"], "at": AT})
    assert by_organiser.status_code == 200, by_organiser.get_json()


# Far from the event's day and three days from now, whatever day the suite runs. Named ids:
# pytest-xdist needs every worker to collect the same ids, and `now` differs between them.
@pytest.mark.parametrize("at", ["0002-01-01T00:00:00Z", "2019-11-20T10:00:00Z",
                                (datetime.now(UTC) + timedelta(days=3)).isoformat()],
                         ids=["year_2", "a_week_after_the_event", "three_days_from_now"])
def test_device_times_outside_the_event_day_are_refused(client, db, at):
    guide = token(db, "guide", "excursion:bike-tour")
    before = db.execute("SELECT count(*) FROM excursion_events").fetchone()[0], scan_count(db)
    depart = client.post("/api/v1/excursions/bike-tour/events", headers=auth(guide),
                         json={"id": uid(), "action": "depart", "at": at})
    assert depart.status_code == 400, depart.get_json()
    mine = people(db, "bike-tour")[0]
    scanned = client.post("/api/v1/scans", json={"scans": [{
        "id": uid(), "checkpoint": "excursion:bike-tour", "direction": "in", "at": at,
        "code": mine["code"]}]}, headers=auth(guide))
    assert scanned.status_code == 400, scanned.get_json()
    assert (db.execute("SELECT count(*) FROM excursion_events").fetchone()[0],
            scan_count(db)) == before


def test_times_on_the_event_day_and_now_are_accepted(client, db):
    guide = token(db, "guide", "excursion:bike-tour")
    mine = people(db, "bike-tour")
    for n, at in enumerate(("2019-11-11T09:00:00Z", datetime.now(UTC).isoformat())):
        scanned = client.post("/api/v1/scans", json={"scans": [{
            "id": uid(), "checkpoint": "excursion:bike-tour", "direction": "in", "at": at,
            "code": mine[n]["code"]}]}, headers=auth(guide))
        assert scanned.status_code == 200, scanned.get_json()


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_unrepresentable_times_answer_400_not_500(client, db, at):
    scanner = token(db, "scanner")
    person = people(db, "bike-tour")[0]
    scanned = client.post("/api/v1/scans", headers=auth(scanner), json={"scans": [{
        "id": uid(), "checkpoint": "entrance", "direction": "in", "at": at,
        "code": person["code"]}]})
    assert scanned.status_code == 400
    guide = token(db, "guide", "excursion:bike-tour")
    event = client.post("/api/v1/excursions/bike-tour/events", headers=auth(guide),
                        json={"id": uid(), "action": "depart", "at": at})
    assert event.status_code == 400


def test_huge_participant_id_is_404_not_500(organiser):
    for path in ("/overview/participants/99999999999999999999",
                 "/participants/99999999999999999999"):
        assert organiser.get(path).status_code == 404


def test_lone_surrogate_event_id_is_400_not_500(client, db):
    guide = token(db, "guide", "excursion:bike-tour")
    raw = '{"id": "\\ud800", "action": "depart", "at": "' + AT + '"}'
    assert json.loads(raw)["id"] == "\ud800"
    response = client.post("/api/v1/excursions/bike-tour/events", data=raw,
                           content_type="application/json", headers=auth(guide))
    assert response.status_code == 400
