"""Roll calls through the real app, scenario by scenario: who is expected, accounts exactly
once, offline starts that merge, who may start, read and account, bad input, the command
line and the missing list's PDF."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from checkin.cli import cli
from checkin.devices import add_device
from checkin.rollcall.pdf import missing_pdf
from checkin.scans.signals import rollcall_changed
from tests.conftest import csrf_token

DAY = "2019-11-12T"


def at(clock: str) -> str:
    """A time on the demo event's day (UTC)."""
    return f"{DAY}{clock}:00.000Z"


@pytest.fixture
def device(db, client):
    """Make paired devices and return their tokens."""

    def make(role="marshal", checkpoint=None, name="Marshal 1"):
        added = add_device(db, name, role, checkpoint)
        response = client.post("/api/v1/pair", json={"code": added["pairing_code"]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    return make


def auth(token):
    return {"Authorization": f"Bearer {token}"}


def people(db, n):
    return [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id LIMIT ?", [n])]


def code_of(db, pid):
    return db.execute("SELECT code FROM participants WHERE id = ?", [pid]).fetchone()[0]


def scan(client, token, pid, checkpoint="entrance", direction="in", when="09:00", **extra):
    item = {"id": str(uuid.uuid4()), "participant": pid, "checkpoint": checkpoint,
            "direction": direction, "at": at(when), **extra}
    response = client.post("/api/v1/scans", json={"scans": [item]}, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"][0]


def badge(client, token, code, point="assembly:grote-markt", when="10:05", scan_id=None,
          queued=False):
    item = {"id": scan_id or str(uuid.uuid4()), "code": code, "checkpoint": point,
            "direction": "in", "at": at(when), "queued": queued}
    response = client.post("/api/v1/scans", json={"scans": [item]}, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"][0]


@pytest.fixture
def door(device):
    return device("scanner", None, "Door")


@pytest.fixture
def marshal(device):
    return device("marshal", None, "Marshal Anna")


def start(client, token, **body):
    # Device times are on the demo's day; the roll call starts at 10:00 of it.
    body.setdefault("started_at", at("10:00"))
    return client.post("/api/v1/rollcall", json=body, headers=auth(token))


def current(client, token, **query):
    response = client.get("/api/v1/rollcall", query_string=query, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["rollcall"]


def accounts(client, token, rollcall_id, *items):
    return client.post(f"/api/v1/rollcall/{rollcall_id}/accounts",
                       json={"accounts": list(items)}, headers=auth(token))


def account(pid, how="tap", when="10:06", **extra):
    return {"id": str(uuid.uuid4()), "participant_id": pid, "how": how, "at": at(when),
            **extra}


def missing_ids(rollcall):
    return {p["id"] for p in rollcall["people"] if p["account"] is None}


def test_start_freezes_who_is_in_the_venue_with_last_seen_room(client, db, door, marshal):
    a, b, c, d = people(db, 4)
    scan(client, door, a)
    scan(client, door, b)
    scan(client, door, b, "room:raadzaal", when="09:10")
    scan(client, door, c)
    scan(client, door, c, direction="out", when="09:30")  # left: not expected
    # d never came.
    assert current(client, marshal) is None
    response = start(client, marshal, point="grote-markt")
    assert response.status_code == 201, response.get_json()
    rollcall = response.get_json()["rollcall"]
    assert rollcall["counts"] == {"expected": 2, "accounted": 0, "missing": 2}
    assert missing_ids(rollcall) == {a, b}
    assert d not in missing_ids(rollcall)
    seen = {p["id"]: p["last_seen"] for p in rollcall["people"]}
    assert seen[b]["checkpoint"] == "room:raadzaal" and seen[b]["at"].startswith(DAY + "09:10")
    assert seen[a]["checkpoint"] == "entrance"
    assert rollcall["point"] == "grote-markt"
    assert {r["checkpoint"]: r["missing"] for r in rollcall["by_room"]} == {
        "room:raadzaal": 1, "entrance": 1}
    # Phone numbers are the organisers' only.
    assert all("phone" not in p for p in rollcall["people"])
    # Someone who scans in after the start is not expected.
    scan(client, door, d, when="10:01")
    again = current(client, marshal)
    assert again["id"] == rollcall["id"] and again["counts"]["expected"] == 2


def test_assembly_scans_account_once_and_never_move_presence(client, db, door, marshal):
    a, b, c = people(db, 3)
    scan(client, door, a, "room:raadzaal")
    scan(client, door, b)
    before_counts = client.get("/api/v1/headcounts", headers=auth(door)).get_json()
    location = db.execute("SELECT * FROM location ORDER BY participant_id").fetchall()
    assert badge(client, marshal, code_of(db, a))["reason"] == "no_rollcall"
    rollcall = start(client, marshal).get_json()["rollcall"]
    sent = []
    rollcall_changed.connect(lambda sender, **kw: sent.append(kw["rollcall_id"]), weak=False)
    try:
        first = badge(client, marshal, code_of(db, a), scan_id="s-1")
        assert first["status"] == "accepted" and first["reason"] is None
        assert first["detail"]["rollcall"] == rollcall["id"]
        # The same scan again (a re-send) and a second scan of the same badge: one account.
        assert badge(client, marshal, code_of(db, a), scan_id="s-1")["duplicate"] is True
        assert badge(client, marshal, code_of(db, a))["status"] == "accepted"
        not_inside = badge(client, marshal, code_of(db, c))
        assert (not_inside["status"], not_inside["reason"]) == ("warning", "not_expected")
        unknown = badge(client, marshal, "ZZZZ-ZZZZ-ZZZZ")
        assert unknown["status"] == "rejected"
    finally:
        rollcall_changed.receivers.clear()
    assert sent and set(sent) == {rollcall["id"]}
    now = current(client, marshal)
    assert now["counts"] == {"expected": 2, "accounted": 1, "missing": 1}
    assert missing_ids(now) == {b}
    by_point = {p["point"]: p["accounted"] for p in now["by_point"]}
    assert by_point == {"grote-markt": 1, "vismarkt": 0}
    # Presence and headcounts are as they were: assembly scans count nowhere.
    assert db.execute("SELECT * FROM location ORDER BY participant_id").fetchall() == location
    after_counts = client.get("/api/v1/headcounts", headers=auth(door)).get_json()
    assert after_counts == before_counts
    assert not any(cp["id"].startswith("assembly:") for cp in after_counts["checkpoints"])


def test_late_queued_scan_accounts_in_the_roll_call_whose_time_it_falls_in(client, db, door,
                                                                           marshal):
    a, b = people(db, 2)
    scan(client, door, a)
    scan(client, door, b)
    rollcall = start(client, marshal, started_at=at("10:00")).get_json()["rollcall"]
    assert client.post(f"/api/v1/rollcall/{rollcall['id']}/end", json={"at": at("10:30")},
                       headers=auth(marshal)).status_code == 200
    # Offline at 10:03, sent after the end: it falls within the roll call and counts.
    late = badge(client, marshal, code_of(db, a), when="10:03", queued=True)
    assert late["reason"] is None and late["detail"]["rollcall"] == rollcall["id"]
    # A tap sent late whose time is after the end is refused; nothing is stored.
    response = accounts(client, marshal, rollcall["id"],
                        account(b, when="10:40"))
    assert response.status_code == 409
    assert current(client, marshal, id=rollcall["id"])["counts"]["accounted"] == 1


def test_accounts_exactly_once_and_first_one_counts(client, db, door, marshal, device):
    a, b, c = people(db, 3)
    for pid in (a, b, c):
        scan(client, door, pid)
    rollcall = start(client, marshal).get_json()["rollcall"]
    other = device("marshal", "assembly:vismarkt", "Marshal Bert")
    tap = account(a, when="10:07", point="grote-markt")
    first = accounts(client, marshal, rollcall["id"], tap,
                     account(b, "elsewhere", reason="with the first aiders"))
    assert first.status_code == 200, first.get_json()
    assert [r["status"] for r in first.get_json()["results"]] == ["stored", "stored"]
    again = accounts(client, marshal, rollcall["id"], tap)
    assert again.get_json()["results"] == [{"id": tap["id"], "status": "duplicate"}]
    # A second marshal saw a earlier: the earliest account is the one that counts.
    accounts(client, other, rollcall["id"], account(a, "scan", when="10:02", point="vismarkt"))
    now = current(client, marshal)
    assert now["counts"] == {"expected": 3, "accounted": 2, "missing": 1}
    by_id = {p["id"]: p["account"] for p in now["people"]}
    assert by_id[a]["by"] == "Marshal Bert" and by_id[a]["point"] == "vismarkt"
    assert by_id[b]["how"] == "elsewhere" and by_id[b]["reason"] == "with the first aiders"
    assert now["people"][0]["id"] == c  # missing first
    assert db.execute("SELECT count(*) FROM rollcall_accounts").fetchone()[0] == 3


def test_offline_start_merges_and_running_already(client, db, door, marshal, device):
    a, b, c = people(db, 3)
    scan(client, door, a)
    scan(client, door, b)
    snapshot = client.get("/api/v1/rollcall/snapshot", headers=auth(marshal)).get_json()
    assert {p["id"] for p in snapshot["people"]} == {a, b}
    one = next(p for p in snapshot["people"] if p["id"] == a)
    import hashlib

    assert hashlib.sha256(code_of(db, a).encode()).hexdigest() in one["codes"]
    assert one["last_seen"]["checkpoint"] == "entrance" and one["last_seen"]["name"]
    # The phone started offline at 10:00 from its snapshot (and c walked in since: the
    # phone's list is what counts).
    scan(client, door, c)
    phone_id = str(uuid.uuid4())
    expected = [{"participant_id": p["id"], "last_checkpoint": p["last_seen"]["checkpoint"],
                 "last_seen_at": p["last_seen"]["at"]} for p in snapshot["people"]]
    body = {"id": phone_id, "started_at": at("10:00"), "expected": expected}
    response = start(client, marshal, **body)
    assert response.status_code == 201
    assert response.get_json()["rollcall"]["id"] == phone_id
    assert response.get_json()["rollcall"]["started_at"].startswith(DAY + "10:00")
    assert response.get_json()["rollcall"]["counts"]["expected"] == 2
    # The same start again: the same roll call.
    again = start(client, marshal, **body)
    assert again.status_code == 200 and again.get_json()["rollcall"]["id"] == phone_id
    assert db.execute("SELECT count(*) FROM rollcalls").fetchone()[0] == 1
    # A second phone started offline too: it gets the running one and sends its accounts.
    other = device("marshal", None, "Marshal Bert")
    second = start(client, other, id=str(uuid.uuid4()), started_at=at("10:01"),
                   expected=expected)
    assert second.status_code == 200
    assert second.get_json()["running_already"] is True
    assert second.get_json()["rollcall"]["id"] == phone_id
    assert db.execute("SELECT count(*) FROM rollcalls").fetchone()[0] == 1
    # Accounts for someone outside the list are kept but count for nobody.
    result = accounts(client, other, phone_id, account(c), account(a)).get_json()
    assert [r["status"] for r in result["results"]] == ["not_expected", "stored"]
    assert result["rollcall"]["counts"] == {"expected": 2, "accounted": 1, "missing": 1}


def test_marshals_start_only_where_the_event_file_allows(client, db, marshal):
    from checkin.core.assembly import store_rollcall_settings

    with db.conn:
        store_rollcall_settings(db, {"marshals_may_start": False})
    response = start(client, marshal)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    assert db.execute("SELECT count(*) FROM rollcalls").fetchone()[0] == 0
    with db.conn:
        store_rollcall_settings(db, {"marshals_may_start": True})
    assert start(client, marshal).status_code == 201


def test_display_reads_counts_only_and_others_are_refused(client, db, door, marshal, device):
    a = people(db, 1)[0]
    scan(client, door, a)
    rollcall = start(client, marshal).get_json()["rollcall"]
    display = device("display", None, "Big screen")
    seen = current(client, display)
    assert "people" not in seen and seen["counts"]["expected"] == 1
    assert json.dumps(seen).find(db.execute("SELECT last_name FROM participants WHERE id = ?",
                                            [a]).fetchone()[0]) == -1
    for path, method in (("/api/v1/rollcall", "post"),
                         (f"/api/v1/rollcall/{rollcall['id']}/accounts", "post"),
                         (f"/api/v1/rollcall/{rollcall['id']}/end", "post"),
                         ("/api/v1/rollcall/snapshot", "get")):
        response = getattr(client, method)(path, json={"accounts": [account(a)]},
                                           headers=auth(display))
        assert response.status_code == 403, path
    kiosk = device("kiosk", None, "Kiosk")
    assert client.get("/api/v1/rollcall", headers=auth(kiosk)).status_code == 403
    assert client.get("/api/v1/rollcall/snapshot", headers=auth(door)).status_code == 403
    # A marshal's scans land only at assembly points.
    response = client.post("/api/v1/scans", headers=auth(marshal), json={"scans": [
        {"id": "m-1", "participant": a, "checkpoint": "entrance", "direction": "in",
         "at": at("10:00")}]})
    assert response.status_code == 403
    # ... and by badge only: a participant id would answer with anyone's name.
    response = client.post("/api/v1/scans", headers=auth(marshal), json={"scans": [
        {"id": "m-2", "participant": a, "checkpoint": "assembly:vismarkt", "direction": "in",
         "at": at("10:00")}]})
    assert response.status_code == 403


def test_organiser_sees_phones(organiser, db, door, client):
    a = people(db, 1)[0]
    with db.conn:
        db.execute("UPDATE participants SET phone = '+31 50 123 4567' WHERE id = ?", [a])
    scan(client, door, a)
    token = csrf_token(organiser, "/devices")
    response = organiser.post("/api/v1/rollcall", json={"started_at": at("10:00")},
                              headers={"X-CSRFToken": token})
    assert response.status_code == 201
    rollcall = response.get_json()["rollcall"]
    assert rollcall["people"][0]["phone"] == "+31 50 123 4567"
    assert rollcall["started_by"] == "organiser:orga"


def depart(client, guide, excursion, pids):
    for pid in pids:
        scan(client, guide, pid, f"excursion:{excursion}", when="13:40")
    response = client.post(f"/api/v1/excursions/{excursion}/events", headers=auth(guide),
                           json={"id": str(uuid.uuid4()), "action": "depart",
                                 "at": at("13:45")})
    assert response.status_code == 200, response.get_json()


def test_guide_runs_its_own_excursions_roll_call(client, db, device, marshal):
    members = [r[0] for r in db.execute(
        "SELECT id FROM participants WHERE excursion = 'forum' ORDER BY id LIMIT 3")]
    guide = device("guide", "excursion:forum", "Bus Forum")
    other_guide = device("guide", "excursion:avebe", "Bus Avebe")
    url = "/api/v1/excursions/forum/rollcall"
    assert client.get(url, headers=auth(guide)).get_json() == {"rollcall": None}
    # Before the bus left there is nothing to call.
    assert client.post(url, json={}, headers=auth(guide)).status_code == 409
    depart(client, guide, "forum", members[:2])
    response = client.post(url, json={}, headers=auth(guide))
    assert response.status_code == 201, response.get_json()
    rollcall = response.get_json()["rollcall"]
    assert rollcall["scope"] == "excursion:forum"
    assert missing_ids(rollcall) == set(members[:2])
    assert client.get(url, headers=auth(other_guide)).status_code == 403
    assert accounts(client, other_guide, rollcall["id"],
                    account(members[0])).status_code == 403
    assert client.post("/api/v1/rollcall", json={}, headers=auth(guide)).status_code == 403
    assert client.get("/api/v1/rollcall", query_string={"id": rollcall["id"]},
                      headers=auth(other_guide)).status_code == 403
    done = accounts(client, guide, rollcall["id"], account(members[0], when="15:00"))
    assert done.get_json()["rollcall"]["counts"]["missing"] == 1
    # The venue's roll call runs alongside.
    assert start(client, marshal).status_code == 201
    ended = client.post(f"/api/v1/rollcall/{rollcall['id']}/end", headers=auth(guide))
    assert ended.status_code == 200 and ended.get_json()["rollcall"]["ended_at"]


@pytest.mark.parametrize("body", [
    {"id": "not an id!"}, {"point": "nowhere"}, {"started_at": "yesterday"},
    {"expected": "all"}, {"expected": [{"participant_id": "1"}]},
    {"expected": [{"participant_id": 1, "last_seen_at": "noon"}]},
])
def test_bad_start_is_4xx_and_stores_nothing(client, db, marshal, body):
    response = start(client, marshal, **body)
    assert 400 <= response.status_code < 500, response.get_json()
    assert db.execute("SELECT count(*) FROM rollcalls").fetchone()[0] == 0


@pytest.mark.parametrize("items", [
    None, [], "x", [{"id": "a", "participant_id": 1, "how": "waved", "at": at("10:00")}],
    [{"id": "a", "participant_id": 999999, "how": "tap", "at": at("10:00")}],
    [{"id": "a", "participant_id": 1, "how": "tap", "at": "soon"}],
    [{"id": "a", "participant_id": 1, "how": "tap", "at": at("10:00"), "point": "moon"}],
    [{"id": "a", "participant_id": 1, "how": "left", "at": at("10:00"), "reason": "x" * 201}],
    [{"id": "ok", "participant_id": 1, "how": "tap", "at": at("10:00")}, {"id": "b"}],
])
def test_bad_accounts_are_4xx_and_store_nothing(client, db, door, marshal, items):
    scan(client, door, 1)
    rollcall = start(client, marshal).get_json()["rollcall"]
    response = client.post(f"/api/v1/rollcall/{rollcall['id']}/accounts",
                           json={"accounts": items}, headers=auth(marshal))
    assert 400 <= response.status_code < 500, response.get_json()
    assert db.execute("SELECT count(*) FROM rollcall_accounts").fetchone()[0] == 0
    for path in ("/api/v1/rollcall/nope/accounts", "/api/v1/rollcall/nope/end"):
        assert client.post(path, json={"accounts": []}, headers=auth(marshal)).status_code == 404
    assert client.get("/api/v1/rollcall", query_string={"id": "nope"},
                      headers=auth(marshal)).status_code == 404


def run(db_path, *args):
    result = CliRunner().invoke(cli, ["--db", str(db_path), *args], catch_exceptions=False)
    return result


def test_command_line_start_status_list_end(db_path, tmp_path, client, db, door):
    a, b = people(db, 2)
    scan(client, door, a)
    scan(client, door, b, "room:raadzaal")
    assert run(db_path, "rollcall", "status").exit_code != 0  # none yet
    started = run(db_path, "rollcall", "start", "--at", "grote-markt", "--json")
    assert started.exit_code == 0, started.output
    rollcall_id = json.loads(started.output)["id"]
    assert run(db_path, "rollcall", "start").output.strip().endswith(rollcall_id)
    status = json.loads(run(db_path, "rollcall", "status", "--json").output)
    assert status["id"] == rollcall_id and status["counts"]["missing"] == 2
    assert {p["id"] for p in status["people"]} == {a, b}
    text = run(db_path, "rollcall", "status").output
    last_name = db.execute("SELECT last_name FROM participants WHERE id = ?", [b]).fetchone()[0]
    assert last_name in text and "2 missing" in text
    out = tmp_path / "missing.pdf"
    assert run(db_path, "rollcall", "list", "-o", str(out)).exit_code == 0
    assert last_name in pdf_text(out.read_bytes())
    ended = run(db_path, "rollcall", "end")
    assert ended.exit_code == 0, ended.output
    assert json.loads(run(db_path, "rollcall", "status", "--json").output)["ended_at"]
    assert run(db_path, "rollcall", "end").exit_code != 0  # nothing running
    assert run(db_path, "rollcall", "start", "--at", "moon").exit_code != 0


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_missing_pdf_has_every_missing_name(db_path, app, client, db, door, marshal,
                                            organiser):
    pids = people(db, 30)
    with db.conn:
        db.execute("UPDATE participants SET phone = '050-' || id")
    for pid in pids:
        scan(client, door, pid, "room:raadzaal" if pid % 2 else "entrance")
    rollcall = start(client, marshal).get_json()["rollcall"]
    accounts(client, marshal, rollcall["id"], *[account(pid) for pid in pids[:5]])
    text = pdf_text(missing_pdf(str(db_path), rollcall["id"]))
    names = {pid: db.execute("SELECT first_name, last_name FROM participants WHERE id = ?",
                             [pid]).fetchone() for pid in pids}
    flat = " ".join(text.split())
    for pid in pids[5:]:
        assert names[pid][1] in flat, names[pid]
        assert f"050-{pid}" in flat
    assert "25 missing of 30 expected" in flat
    response = organiser.get(f"/rollcall/{rollcall['id']}/missing.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    # Organisers only: a marshal's token opens no organiser page.
    stranger = app.test_client()
    assert stranger.get(f"/rollcall/{rollcall['id']}/missing.pdf",
                        headers=auth(marshal)).status_code == 302
    assert organiser.get("/rollcall/nope/missing.pdf").status_code == 404




def test_summary_lists_each_roll_call(organiser, db, door, marshal):
    from checkin.rollcall import record

    a, b = people(db, 2)
    scan(organiser, door, a)
    scan(organiser, door, b)
    first = start(organiser, marshal).get_json()["rollcall"]
    accounts(organiser, marshal, first["id"], account(a, when="10:02"),
             account(b, "left", when="10:04", reason="went home at noon"))
    organiser.post(f"/api/v1/rollcall/{first['id']}/end", json={"at": at("10:10")},
                   headers=auth(marshal))
    second = start(organiser, marshal, started_at=at("11:00")).get_json()["rollcall"]
    accounts(organiser, marshal, second["id"], account(a, when="11:01"))
    organiser.post(f"/api/v1/rollcall/{second['id']}/end", json={"at": at("11:05")},
                   headers=auth(marshal))
    found = {r["id"]: r for r in record(db)}
    assert found[first["id"]]["seconds_to_all"] == 240 and found[first["id"]]["missing"] == 0
    assert found[first["id"]]["by"] == [{"by": "Marshal Anna", "accounted": 2}]
    assert found[second["id"]]["seconds_to_all"] is None
    assert found[second["id"]]["missing"] == 1
    page = organiser.get("/reports/summary").get_data(as_text=True)
    assert 'id="rollcalls"' in page and "after 4 min 00 s" in page
    assert "1 still missing" in page and "Marshal Anna: 2" in page


@pytest.mark.parametrize("header", ["Telefon", "Telefoon", "Phone", "Tel."])
def test_phone_column_is_imported_and_shown_only_to_organisers(db, client, header, device):
    from checkin.participants.csvfile import export_participants, import_file

    data = (f"Vorname;Nachname;E-Mail;{header}\r\n"
            "Gesa;Qqphone;gesa@example.de;+49 421 361-0\r\n").encode()
    result = import_file(db, data)
    assert not result["problems"], result["problems"]
    pid, phone = db.execute("SELECT id, phone FROM participants WHERE last_name = "
                            "'Qqphone'").fetchone()
    assert phone == "+49 421 361-0"
    # A scanner's name search and roster never carry it.
    door = device("scanner", None, "Door")
    found = client.get("/api/v1/participants?q=Qqphone", headers=auth(door)).get_json()
    assert found["participants"] and "361-0" not in json.dumps(found)
    # The export writes it as text and reads back as the same number.
    out = io.StringIO()
    export_participants(db, out)
    assert "'+49 421 361-0" in out.getvalue()
    again = import_file(db, out.getvalue().encode())
    assert not again["problems"]
    assert db.execute("SELECT phone FROM participants WHERE id = ?", [pid]).fetchone()[0] == \
        "+49 421 361-0"
    bad = import_file(db, f"Vorname;Nachname;{header}\r\nA;B;call me\r\n".encode())
    assert bad["problems"] and "not a phone number" in str(bad["problems"][0])


def test_migration_widens_checkpoints_and_devices_keeping_bound_devices(tmp_path):
    import sqlite3

    from sqlite_utils import Database

    from checkin.core.schema import migrations

    conn = sqlite3.connect(tmp_path / "old.db")
    conn.execute("PRAGMA foreign_keys=ON")
    db = Database(conn)
    migrations.apply(db, stop_before="m022r_rollcall")
    db.execute("INSERT INTO checkpoints (id, kind, name, ref, position) VALUES "
               "('room:a', 'room', 'Room A', 'a', 1)")
    db.execute("INSERT INTO devices (id, name, role, checkpoint, token_hash, created_at) "
               "VALUES ('d1', 'Door A', 'scanner', 'room:a', 'h1', 'x')")
    conn.commit()
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO checkpoints (id, kind, name) VALUES ('assembly:p', "
                   "'assembly', 'P')")
    conn.rollback()
    migrations.apply(db)
    assert list(db.query("SELECT id, checkpoint, token_hash FROM devices")) == [
        {"id": "d1", "checkpoint": "room:a", "token_hash": "h1"}]
    db.execute("INSERT INTO checkpoints (id, kind, name) VALUES ('assembly:p', 'assembly', 'P')")
    db.execute("INSERT INTO devices (id, name, role, checkpoint, created_at) VALUES "
               "('d2', 'Marshal', 'marshal', 'assembly:p', 'x')")
    with pytest.raises(sqlite3.IntegrityError):  # the foreign key to checkpoints survived
        db.execute("INSERT INTO devices (id, name, role, checkpoint, created_at) VALUES "
                   "('d3', 'Lost', 'scanner', 'room:nowhere', 'x')")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("INSERT INTO checkpoints (id, kind, name) VALUES ('x', 'moon', 'X')")
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert "phone" in {c.name for c in db["participants"].columns}


def test_device_add_marshal_from_the_command_line(db_path, db):
    added = run(db_path, "device", "add", "--name", "Marshal P1", "--role", "marshal",
                "--checkpoint", "assembly:grote-markt", "--base-url", "https://x:8443",
                "--json")
    assert added.exit_code == 0, added.output
    assert db.execute("SELECT role, checkpoint FROM devices WHERE id = ?",
                      [json.loads(added.output)["id"]]).fetchone() == \
        ("marshal", "assembly:grote-markt")
    # Assembly points are the marshals' alone, and a marshal works nowhere else.
    for role, checkpoint in (("scanner", "assembly:grote-markt"), ("marshal", "entrance"),
                             ("display", "assembly:vismarkt")):
        refused = run(db_path, "device", "add", "--name", "X", "--role", role,
                      "--checkpoint", checkpoint, "--base-url", "https://x:8443")
        assert refused.exit_code == 1 and "assembly point" in refused.output, refused.output
