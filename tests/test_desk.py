"""The registration desk and kiosk roles, walk-ins through POST /api/v1/participants, and the
migration that made room for the new roles."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from checkin.cli import cli
from checkin.core.schema import migrations
from checkin.desk import walk_in_count
from checkin.devices import DeviceError, add_device
from tests.conftest import csrf_token

WALK_IN = {"first_name": "Jantje", "last_name": "Walker", "organisation": "Gemeente Assen",
           "city": "Assen", "language": "nl"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def desk(db):
    """A desk device's token."""
    return add_device(db, "Desk 1", "desk")["token"]


def test_migration_rebuilds_devices_keeping_rows_and_widening_the_role_check(tmp_path: Path):
    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("PRAGMA foreign_keys=ON")
    db = Database(conn)
    migrations.apply(db, stop_before="m012a_desk_kiosk_walk_ins_printing")
    db.execute("INSERT INTO devices (id, name, role, token_hash, created_at) VALUES "
               "('d1', 'Door', 'scanner', 'h1', '2019-11-12T08:00:00.000+00:00')")
    db.execute("CREATE INDEX devices_last_seen ON devices(last_seen_at)")  # another branch's
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO devices (id, name, role, created_at) VALUES "
                   "('d2', 'Desk', 'desk', 'x')")
    conn.rollback()
    migrations.apply(db)
    assert list(db.query("SELECT id, name, role, token_hash FROM devices")) == [
        {"id": "d1", "name": "Door", "role": "scanner", "token_hash": "h1"}]
    db.execute("INSERT INTO devices (id, name, role, created_at) VALUES "
               "('d2', 'Desk', 'desk', 'x'), ('d3', 'Kiosk', 'kiosk', 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO devices (id, name, role, created_at) VALUES "
                   "('d4', 'Bad', 'wizard', 'x')")
    with pytest.raises(sqlite3.IntegrityError):  # the token's uniqueness survived
        db.execute("INSERT INTO devices (id, name, role, token_hash, created_at) VALUES "
                   "('d5', 'Twin', 'scanner', 'h1', 'x')")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'devices'")}
    assert "devices_last_seen" in names
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_device_add_desk_and_kiosk_from_the_command_line(db_path: Path):
    runner = CliRunner()
    for role in ("desk", "kiosk"):
        result = runner.invoke(cli, ["--db", str(db_path), "device", "add", "--name",
                                     f"A {role}", "--role", role, "--base-url",
                                     "https://x:8443"])
        assert result.exit_code == 0, result.output
    listed = runner.invoke(cli, ["--db", str(db_path), "device", "list"])
    assert "desk" in listed.output and "kiosk" in listed.output


def test_a_kiosk_stands_at_the_entrance_and_a_desk_not_at_an_excursion(db):
    with pytest.raises(DeviceError) as exc:
        room = db.execute("SELECT id FROM checkpoints WHERE kind = 'room'").fetchone()[0]
        add_device(db, "Kiosk", "kiosk", room)
    assert exc.value.code == "kiosk_at_entrance"
    excursion = db.execute("SELECT id FROM checkpoints WHERE kind = 'excursion'").fetchone()[0]
    with pytest.raises(DeviceError):
        add_device(db, "Desk", "desk", excursion)


def test_devices_page_adds_a_desk(organiser, db):
    page = organiser.get("/devices").get_data(as_text=True)
    assert 'value="desk"' in page and 'value="kiosk"' in page
    response = organiser.post("/devices", data={"name": "Desk A", "role": "desk",
                                                "checkpoint": "",
                                                "csrf_token": csrf_token(organiser, "/devices")})
    assert response.status_code == 303
    assert db.execute("SELECT role FROM devices WHERE name = 'Desk A'").fetchone() == ("desk",)


def test_desk_registers_a_walk_in_who_gets_a_code_and_scans(client, db, desk):
    before = walk_in_count(db)
    response = client.post("/api/v1/participants", json=WALK_IN, headers=bearer(desk))
    assert response.status_code == 201, response.get_json()
    person = response.get_json()["participant"]
    assert person["first_name"] == "Jantje" and len(person["code"]) == 22
    assert person["walk_in_at"]
    assert walk_in_count(db) == before + 1
    row = db.execute("SELECT walk_in_by, code FROM participants WHERE id = ?",
                     [person["id"]]).fetchone()
    assert row[1] == person["code"] and row[0].startswith("d")
    # Registering checked them in: their badge at a door says they are in already.
    assert response.get_json()["scan"]["status"] == "accepted"
    scan = client.post("/api/v1/scans", headers=bearer(desk), json={"scans": [{
        "id": "walkin-1", "code": person["code"], "checkpoint": "entrance", "direction": "in",
        "at": "2019-11-12T08:30:00Z"}]})
    assert scan.status_code == 200, scan.get_json()
    assert scan.get_json()["results"][0]["reason"] == "already_in"


def _summary_numbers(organiser) -> dict[str, int]:
    """The summary's registered, arrived, walk-ins and 'did not come', read from its page."""
    import re

    page = organiser.get("/reports/summary").get_data(as_text=True)
    return {key: int(re.search(rf'id="n-{key}">(\d+)<', page).group(1))
            for key in ("registered", "arrived", "walk-ins", "absent")}


def test_a_walk_in_is_arrived_everywhere_by_one_scan_of_the_desk(client, organiser, db, desk):
    """Registering at the desk is an entrance scan by the desk device: the headcount, the
    summary (arrived, not "did not come") and the exports count the walk-in as arrived."""
    device_id = db.execute("SELECT id FROM devices WHERE name = 'Desk 1'").fetchone()[0]
    counts = client.get("/api/v1/headcounts", headers=bearer(desk)).get_json()
    before = _summary_numbers(organiser)
    response = client.post("/api/v1/participants", json=WALK_IN, headers=bearer(desk))
    assert response.status_code == 201, response.get_json()
    person = response.get_json()["participant"]
    scans = list(db.query("SELECT checkpoint, direction, device_id, source, status, code "
                          "FROM scans WHERE participant_id = ?", [person["id"]]))
    assert scans == [{"checkpoint": "entrance", "direction": "in", "device_id": device_id,
                      "source": "scan", "status": "accepted", "code": person["code"]}]
    after = client.get("/api/v1/headcounts", headers=bearer(desk)).get_json()
    assert after["arrived"] == counts["arrived"] + 1
    entrance = {c["id"]: c["inside"] for c in after["checkpoints"]}["entrance"]
    assert entrance == {c["id"]: c["inside"] for c in counts["checkpoints"]}["entrance"] + 1
    numbers = _summary_numbers(organiser)
    assert numbers == {"registered": before["registered"] + 1,
                       "arrived": before["arrived"] + 1,
                       "walk-ins": before["walk-ins"] + 1, "absent": before["absent"]}
    csv_text = organiser.get("/reports/attendance.csv").get_data(as_text=True)
    header, *rows = [line.split(",") for line in csv_text.lstrip("\ufeff").splitlines()]
    mine = next(r for r in rows if r[header.index("id")] == str(person["id"]))
    assert mine[header.index("walk_in")] == "yes" and mine[header.index("arrived_at")]
    assert sum(bool(r[header.index("arrived_at")]) for r in rows) == numbers["arrived"]


def test_bad_fields_are_each_named_and_nothing_is_stored(client, db, desk):
    count = db.execute("SELECT count(*) FROM participants").fetchone()[0]
    response = client.post("/api/v1/participants", headers=bearer(desk), json={
        "first_name": "", "last_name": "<b>x</b>", "language": "fr", "email": "nope",
        "working_group": "nowhere", "shoe_size": "44", "city": 5})
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"first_name", "last_name", "language", "email", "working_group",
                           "shoe_size", "city"}
    assert "fr" in fields["language"]
    assert db.execute("SELECT count(*) FROM participants").fetchone()[0] == count


def test_an_existing_email_answers_409_with_who_it_is(client, db, desk):
    known = next(db.query("SELECT id, email, first_name FROM participants "
                          "WHERE email IS NOT NULL LIMIT 1"))
    count = db.execute("SELECT count(*) FROM participants").fetchone()[0]
    response = client.post("/api/v1/participants", headers=bearer(desk),
                           json={**WALK_IN, "email": known["email"].upper()})
    assert response.status_code == 409
    body = response.get_json()["error"]
    assert body["code"] == "already_registered"
    assert body["participant"]["id"] == known["id"]
    assert body["participant"]["first_name"] == known["first_name"]
    assert db.execute("SELECT count(*) FROM participants").fetchone()[0] == count


@pytest.mark.parametrize("role", ["scanner", "kiosk", "display"])
def test_only_desks_and_organisers_register_walk_ins(client, db, role):
    token = add_device(db, f"A {role}", role)["token"]
    response = client.post("/api/v1/participants", json=WALK_IN, headers=bearer(token))
    assert response.status_code == 403


def test_an_organiser_registers_a_walk_in_with_the_csrf_header(organiser, db):
    token = csrf_token(organiser, "/participants")
    response = organiser.post("/api/v1/participants", json=WALK_IN,
                              headers={"X-CSRFToken": token})
    assert response.status_code == 201
    assert response.get_json()["participant"]["walk_in_at"]
    missing = organiser.post("/api/v1/participants", json={**WALK_IN, "email": "a@b.de"})
    assert missing.status_code == 400


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b"\xff\xfe", b'{"first_name": {"a": 1}}'])
def test_garbage_gets_a_4xx(client, desk, body):
    response = client.post("/api/v1/participants", data=body, headers={
        **bearer(desk), "Content-Type": "application/json"})
    assert response.status_code == 400


def test_printing_off_answers_409_not_5xx(client, db, desk):
    pid = db.execute("SELECT id FROM participants LIMIT 1").fetchone()[0]
    response = client.post(f"/api/v1/participants/{pid}/print", json={}, headers=bearer(desk))
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "printing_off"
    assert client.post("/api/v1/participants/999999/print", json={},
                       headers=bearer(desk)).status_code in (404, 409)
    assert client.get("/api/v1/print-jobs/nope", headers=bearer(desk)).status_code == 404


@pytest.fixture
def kiosk(db):
    """A kiosk device's token."""
    return add_device(db, "Kiosk 1", "kiosk")["token"]


def kiosk_post(client, token, body):
    return client.post("/api/v1/kiosk/check-in", json=body, headers=bearer(token))


def test_kiosk_checks_in_by_code_and_greets_in_the_persons_language(client, db, kiosk):
    person = next(db.query("SELECT id, code, first_name, language FROM participants "
                           "WHERE language = 'de' LIMIT 1"))
    answer = kiosk_post(client, kiosk, {"code": person["code"].lower()})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["status"] == "accepted"
    assert body["person"] == {"id": person["id"], "first_name": person["first_name"],
                              "last_name": body["person"]["last_name"], "language": "de"}
    assert body["text"]["welcome"] == "Willkommen, {name}!"
    assert body["job"] is None  # no printer set
    # Nothing but what the greeting needs: no organisation, e-mail or code.
    assert person["code"] not in answer.get_data(as_text=True)
    scan = next(db.query("SELECT checkpoint, direction, status, device_id FROM scans "
                         "ORDER BY seq DESC LIMIT 1"))
    assert (scan["checkpoint"], scan["direction"], scan["status"]) == ("entrance", "in",
                                                                       "accepted")
    again = kiosk_post(client, kiosk, {"code": person["code"]}).get_json()
    assert again["reason"] == "already_in"


def test_kiosk_forgot_badge_needs_the_exact_last_name_and_email(client, db, kiosk):
    person = next(db.query("SELECT id, last_name, email FROM participants "
                           "WHERE email IS NOT NULL LIMIT 1"))
    other = next(db.query("SELECT last_name FROM participants WHERE last_name != ? LIMIT 1",
                          [person["last_name"]]))
    for body in ({"last_name": other["last_name"], "email": person["email"]},
                 {"last_name": person["last_name"][:-1], "email": person["email"]},
                 {"last_name": person["last_name"], "email": "x" + person["email"]},
                 {"last_name": "", "email": ""}):
        answer = kiosk_post(client, kiosk, body)
        assert answer.status_code == 200
        assert answer.get_json() == {"status": "not_found", "person": None}
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == 0
    found = kiosk_post(client, kiosk, {"last_name": person["last_name"].upper(),
                                       "email": " " + person["email"].upper()}).get_json()
    assert found["status"] == "accepted" and found["person"]["id"] == person["id"]


def test_kiosk_learns_nothing_about_unknown_or_replaced_badges(client, db, kiosk):
    from checkin.core.codes import reissue

    person = next(db.query("SELECT id, code FROM participants LIMIT 1"))
    reissue(db, person["id"])
    replaced = kiosk_post(client, kiosk, {"code": person["code"]}).get_json()
    assert replaced["status"] == "rejected" and replaced["reason"] == "revoked_code"
    assert replaced["person"] is None
    unknown = kiosk_post(client, kiosk, {"code": "ABCDEFGHJKMNPQRSTVWX23"}).get_json()
    assert unknown["reason"] == "unknown_code" and unknown["person"] is None


def test_kiosk_may_not_search_or_hold_the_roster(client, kiosk, desk):
    assert client.get("/api/v1/participants?q=an", headers=bearer(kiosk)).status_code == 403
    assert client.get("/api/v1/roster", headers=bearer(kiosk)).status_code == 403
    assert kiosk_post(client, desk, {"code": "X"}).status_code == 403
    assert kiosk_post(client, kiosk, {"last_name": 5}).status_code == 400
    scan = client.post("/api/v1/scans", headers=bearer(kiosk), json={"scans": [{
        "id": "k-room", "code": "ABCDEFGHJKMNPQRSTVWX23", "direction": "in",
        "checkpoint": "room:kamer-a", "at": "2019-11-12T08:30:00Z"}]})
    assert scan.status_code in (400, 403)


def test_kiosk_page(client):
    page = client.get("/kiosk?idle=5")
    assert page.status_code == 200
    assert '"idle_seconds": 5' in page.get_data(as_text=True)
    assert '"idle_seconds": 3' in client.get("/kiosk?idle=1").get_data(as_text=True)
    assert '"idle_seconds": 12' in client.get("/kiosk?idle=x").get_data(as_text=True)


def test_walk_ins_are_marked_in_overview_exports_summary_and_list(organiser, db):
    token = csrf_token(organiser, "/participants")
    created = organiser.post("/api/v1/participants", json=WALK_IN,
                             headers={"X-CSRFToken": token}).get_json()["participant"]
    numbers = organiser.get("/overview/part/numbers").get_data(as_text=True)
    assert 'data-num="walk-ins">1<' in numbers
    summary = organiser.get("/reports/summary").get_data(as_text=True)
    assert 'id="n-walk-ins">1<' in summary
    csv_text = organiser.get("/reports/attendance.csv").get_data(as_text=True)
    header, *rows = [line.split(",") for line in csv_text.lstrip("\ufeff").splitlines()]
    marked = [r for r in rows if r[header.index("walk_in")] == "yes"]
    assert [(r[header.index("id")], r[header.index("last_name")]) for r in marked] == [
        (str(created["id"]), "Walker")]
    listing = organiser.get("/participants?q=Walker").get_data(as_text=True)
    assert "walk-in" in listing
    detail = organiser.get(f"/participants/{created['id']}").get_data(as_text=True)
    assert "Walk-in" in detail


def test_kiosk_lookups_are_throttled_per_kiosk(client, db, kiosk):
    from checkin.desk.views import LOOKUP_FAILURES

    person = next(db.query("SELECT last_name, email FROM participants "
                           "WHERE email IS NOT NULL LIMIT 1"))
    for n in range(LOOKUP_FAILURES):
        miss = kiosk_post(client, kiosk, {"last_name": f"Guess{n}", "email": person["email"]})
        assert miss.get_json()["status"] == "not_found"
    blocked = kiosk_post(client, kiosk, {"last_name": person["last_name"],
                                         "email": person["email"]})
    assert blocked.status_code == 429
    assert blocked.get_json()["error"]["code"] == "too_many_tries"
    other = add_device(db, "Kiosk 2", "kiosk")["token"]
    assert kiosk_post(client, other, {"last_name": person["last_name"],
                                      "email": person["email"]}).get_json()["person"]


def test_one_walk_in_count_everywhere_after_a_mixed_morning(organiser, db, desk):
    """Valid walk-ins, duplicates by e-mail and by name, and bad rows from two desks: the
    overview, the summary and the export agree with the answers the desks got."""
    import random

    rng = random.Random(12)
    other = add_device(db, "Desk 2", "desk")["token"]
    known_email = db.execute("SELECT email FROM participants WHERE email IS NOT NULL"
                             ).fetchone()[0]
    created = 0
    for n in range(40):
        body = {"first_name": f"Gast{n % 25}", "last_name": "Deur", "city": "Bremen",
                "organisation": rng.choice(["", "Uni Bremen", "Gemeente Leer"]),
                "language": rng.choice(["de", "nl", "en", "fr"])}
        if rng.random() < 0.3:
            body["email"] = rng.choice([known_email, f"gast{n % 10}@example.org", "broken@"])
        answer = organiser.post("/api/v1/participants", json=body,
                                headers=bearer(rng.choice([desk, other])))
        assert answer.status_code in (201, 400, 409), answer.get_json()
        created += answer.status_code == 201
    assert created > 5
    numbers = organiser.get("/overview/part/numbers").get_data(as_text=True)
    assert f'data-num="walk-ins">{created}<' in numbers
    assert f'id="n-walk-ins">{created}<' in organiser.get("/reports/summary").get_data(
        as_text=True)
    csv_text = organiser.get("/reports/attendance.csv").get_data(as_text=True)
    header, *rows = [line.split(",") for line in csv_text.lstrip("\ufeff").splitlines()]
    assert sum(r[header.index("walk_in")] == "yes" for r in rows) == created
    assert walk_in_count(db) == created
