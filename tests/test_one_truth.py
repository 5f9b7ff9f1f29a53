"""Regression tests for issue 7: the five cases a new user ran into on the demo event.

Each reads the surfaces a user reads (the guide API, the attendance CSVs, the summary, a
person's page, the command line), so each failed on the code before the read model.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import uuid

import pytest
from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.clock import now_iso
from checkin.core.db import connect
from checkin.devices import add_device
from checkin.live.stats import arrivals_timeline
from checkin.scans import organiser_actor, record_scans

AT = "2019-11-12T12:40:00.000Z"


def uid() -> str:
    return str(uuid.uuid4())


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def guide(db, excursion: str) -> str:
    return add_device(db, f"Guide {excursion}", "guide", f"excursion:{excursion}")["token"]


def planned(db, excursion: str) -> list[dict]:
    return list(db.query("SELECT id, code, first_name, last_name FROM participants "
                         "WHERE excursion = ? ORDER BY id", [excursion]))


def scan_at_bus(client, token: str, excursion: str, at: str = AT, **who) -> None:
    body = {"scans": [{"id": uid(), "checkpoint": f"excursion:{excursion}", "direction": "in",
                       "at": at, **who}]}
    response = client.post("/api/v1/scans", json=body, headers=auth(token))
    assert response.status_code == 200, response.get_json()


def excursion_event(client, token: str, excursion: str, at: str = AT, **body) -> dict:
    response = client.post(f"/api/v1/excursions/{excursion}/events",
                           json={"id": uid(), "at": at, **body}, headers=auth(token))
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def csv_rows(client, path: str) -> list[dict[str, str]]:
    response = client.get(path)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_guide_scan_of_someone_elses_excursion_is_not_confirmed(organiser, db):
    """Case 1: a scan at the wrong bus, without "Add", confirms nobody anywhere."""
    avebe = guide(db, "avebe")
    own = planned(db, "avebe")
    scan_at_bus(organiser, avebe, "avebe", code=own[0]["code"])
    stranger = planned(db, "forum")[0]
    scan_at_bus(organiser, avebe, "avebe", code=stranger["code"])

    state = organiser.get("/api/v1/excursions/avebe", headers=auth(avebe)).get_json()
    counts = state["counts"]
    assert counts["expected"] == len(own)
    assert counts["confirmed"] == 1
    assert counts["confirmed"] + counts["missing"] == counts["expected"]
    assert counts["not_on_list"] == 1
    row = next(r for r in state["roster"] if r["id"] == stranger["id"])
    assert row["status"] == "not_on_list" and row["assigned"] is False

    # The exports say the same, per person and per group; the stranger is nobody's no-show.
    people = csv_rows(organiser, "/reports/attendance.csv")
    groups = {r["id"]: r for r in csv_rows(organiser, "/reports/attendance-groups.csv")}
    on_avebe = [r for r in people if r["excursion"] == "avebe"]
    assert len(on_avebe) == int(groups["avebe"]["expected"]) == counts["expected"]
    assert sum(r["excursion_status"] == "confirmed" for r in on_avebe) \
        == int(groups["avebe"]["attended"]) == 1
    mine = next(r for r in people if int(r["id"]) == stranger["id"])
    assert mine["excursion"] == "forum" and mine["excursion_status"] == "not departed yet"

    html = organiser.get("/reports/summary").get_data(as_text=True)
    cells = re.findall(r"<td class=\"num\">([^<]*)</td>",
                       re.search(r'<tr data-id="avebe">(.*?)</tr>', html, re.S).group(1))
    assert cells[:2] == [str(len(own)), "1"]


def test_reimporting_the_plan_never_undoes_a_walk_on(organiser, db, db_path):
    """Case 2: `checkin demo` (and any re-import) keeps the day's walk-ons and says so."""
    avebe = guide(db, "avebe")
    walker = planned(db, "forum")[0]
    excursion_event(organiser, avebe, "avebe", action="walk_on", code=walker["code"])
    result = CliRunner().invoke(cli, ["--db", str(db_path), "demo"])
    assert result.exit_code == 0, result.output
    assert "0 updated" in result.output
    assert re.search(r"line \d+: " + re.escape(walker["first_name"]), result.output), \
        result.output

    state = organiser.get("/api/v1/excursions/avebe", headers=auth(avebe)).get_json()
    row = next(r for r in state["roster"] if r["id"] == walker["id"])
    assert row["walk_on"] is True and row["assigned"] is True
    forum = organiser.get("/api/v1/excursions/forum", headers=auth(guide(db, "forum")))
    assert walker["id"] not in {r["id"] for r in forum.get_json()["roster"]}
    # ...and the plan itself was never overwritten by the day.
    assert db.execute("SELECT excursion FROM participants WHERE id = ?",
                      [walker["id"]]).fetchone()[0] == "forum"


@pytest.mark.slow
def test_simulate_never_mixes_a_rehearsal_into_the_day(organiser, db, db_path, tmp_path):
    """Case 3: simulate refuses real scans (or plays into a copy); charts keep to the day."""
    person = planned(db, "forum")[0]
    record_scans(db, organiser_actor("orga"), [
        {"id": "real-1", "code": person["code"], "checkpoint": "entrance", "direction": "in",
         "at": "2019-11-12T08:05:00+01:00"}])
    before = db.execute("SELECT count(*) FROM scans").fetchone()[0]
    refused = subprocess.run(
        [sys.executable, "-m", "checkin.cli", "--db", str(db_path), "simulate", "--server",
         "http://127.0.0.1:9", "--fast"], capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1
    assert "real scan" in refused.stderr and "--copy" in refused.stderr
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == before

    copy = tmp_path / "rehearsal.db"
    played = subprocess.run(
        [sys.executable, "-m", "checkin.cli", "--db", str(db_path), "simulate", "--copy",
         str(copy), "--fast"], capture_output=True, text=True, timeout=300)
    assert played.returncode == 0, played.stdout + played.stderr
    assert db.execute("SELECT count(*) FROM scans").fetchone()[0] == before
    rehearsal = connect(copy)
    assert rehearsal.execute("SELECT count(*) FROM scans").fetchone()[0] > 100
    assert rehearsal.execute("SELECT count(*) FROM scans WHERE id = 'real-1'"
                             ).fetchone()[0] == 0
    rehearsal.conn.close()

    # A scan far from the event's day (a rehearsal today) stretches no axis. (Times further
    # from both the event's day and the server's clock are refused: tests/test_security_authz.)
    other = planned(db, "avebe")[0]
    record_scans(db, organiser_actor("orga"), [
        {"id": "far-1", "code": other["code"], "checkpoint": "entrance", "direction": "in",
         "at": now_iso()}])
    timeline = arrivals_timeline(db)  # what the dashboard's chart receives
    labels = [b["label"] for b in timeline["buckets"]]
    assert timeline["bucket_minutes"] == 15 and "08:00" in labels
    assert timeline["outside_day"] == 1
    html = organiser.get("/reports/summary").get_data(as_text=True)
    assert 'id="outside-day"' in html


def test_person_page_after_the_excursion_returned(organiser, db):
    """Case 4a: after "Returned" nobody is "on the excursion" any more."""
    forum = guide(db, "forum")
    person = planned(db, "forum")[0]
    scan_at_bus(organiser, forum, "forum", participant=person["id"])
    page = organiser.get(f"/overview/participants/{person['id']}").get_data(as_text=True)
    assert "On the excursion" in page
    excursion_event(organiser, forum, "forum", action="depart", at="2019-11-12T13:00:00Z")
    excursion_event(organiser, forum, "forum", action="return", at="2019-11-12T16:00:00Z")
    page = organiser.get(f"/overview/participants/{person['id']}").get_data(as_text=True)
    assert "On the excursion" not in page
    assert "Back from the excursion" in page
    counts = organiser.get("/api/v1/headcounts").get_json()
    assert next(c for c in counts["checkpoints"] if c["id"] == "excursion:forum")["inside"] == 0


def test_boarding_excursion_is_exported_as_not_departed_yet(organiser, db):
    """Case 4b: people of an excursion still boarding are not no-shows."""
    bike = guide(db, "bike-tour")
    people = planned(db, "bike-tour")
    scan_at_bus(organiser, bike, "bike-tour", participant=people[0]["id"])
    rows = {int(r["id"]): r for r in csv_rows(organiser, "/reports/attendance.csv")}
    assert rows[people[0]["id"]]["excursion_status"] == "confirmed"
    assert {rows[p["id"]]["excursion_status"] for p in people[1:]} == {"not departed yet"}
    groups = {r["id"]: r for r in csv_rows(organiser, "/reports/attendance-groups.csv")}
    assert groups["bike-tour"]["no_shows"] == ""
    excursion_event(organiser, bike, "bike-tour", action="depart")
    rows = {int(r["id"]): r for r in csv_rows(organiser, "/reports/attendance.csv")}
    assert {rows[p["id"]]["excursion_status"] for p in people[1:]} == {"no-show"}
    groups = {r["id"]: r for r in csv_rows(organiser, "/reports/attendance-groups.csv")}
    assert int(groups["bike-tour"]["no_shows"]) == len(people) - 1
