"""`checkin simulate`: a whole demo day played through the HTTP API against the real server."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter

import pytest
import requests

from checkin.core.db import connect
from checkin.demo.simulate import plan_day
from checkin.excursions import all_excursion_states
from tests.conftest import ORGANISER


def test_the_plan_is_the_same_for_the_same_seed(db):
    first, again, other = plan_day(db, 7), plan_day(db, 7), plan_day(db, 8)
    assert [s.body for s in first] == [s.body for s in again]
    assert [s.body for s in first] != [s.body for s in other]
    assert [s.at for s in first] == sorted(s.at for s in first)
    kinds = Counter(s.body.get("action") for s in first if s.kind == "event")
    assert kinds == {"depart": 6, "return": 6, "walk_on": 1}


def simulate(db_path, url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "checkin.cli", "--db", str(db_path), "simulate", "--server", url,
         "--fast", *(extra or ("--seed", "2019"))],
        capture_output=True, text=True, timeout=300)


def organiser_session(url: str) -> requests.Session:
    session = requests.Session()
    page = session.get(url + "/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = session.post(url + "/login", data={"username": ORGANISER[0],
                                                   "password": ORGANISER[1],
                                                   "csrf_token": token},
                            headers={"Referer": url + "/login"}, allow_redirects=False)
    assert response.status_code == 302
    return session


@pytest.mark.server
def test_simulate_plays_the_demo_day(live_server, db_path):
    done = simulate(db_path, live_server.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 refused" in done.stdout
    assert "excursion forum: depart (ok)" in done.stdout

    db = connect(db_path)
    # Valid scans (the simulator makes no corrections, so none is voided).
    db.execute("CREATE TEMP VIEW valid AS SELECT * FROM scans "
               "WHERE status != 'rejected' AND participant_id IS NOT NULL")
    arrived = db.execute("SELECT count(DISTINCT participant_id) FROM valid").fetchone()[0]
    registered = db.execute("SELECT count(*) FROM participants").fetchone()[0]
    assert 50 <= arrived < registered  # most come, a few do not
    # Arrivals through the entrance over the morning (local time 08:30-11:30).
    entrance = db.execute("SELECT count(DISTINCT participant_id), min(sort_at), max(sort_at) "
                          "FROM scans WHERE checkpoint = 'entrance' AND direction = 'in'"
                          ).fetchone()
    assert entrance[0] == arrived
    assert entrance[1] >= "2019-11-12T07:30" and entrance[2] < "2019-11-12T10:30"
    # Everyone who came went into their working group's room, and out again.
    for group, room in db.execute("SELECT id, room FROM working_groups"):
        came = db.execute(
            "SELECT count(DISTINCT participant_id) FROM valid WHERE "
            "participant_id IN (SELECT id FROM participants WHERE working_group = ?)",
            [group]).fetchone()[0]
        into = db.execute(
            "SELECT count(DISTINCT participant_id) FROM valid WHERE "
            "checkpoint = ? AND direction = ? AND participant_id IN "
            "(SELECT id FROM participants WHERE working_group = ?)",
            [f"room:{room}", "in", group]).fetchone()[0]
        out = db.execute("SELECT count(*) FROM valid WHERE checkpoint = ? AND "
                         "direction = 'out'", [f"room:{room}"]).fetchone()[0]
        assert into == came and out == came, group

    # The server's headcounts agree: nobody left in any room at the end of the day.
    session = organiser_session(live_server.url)
    counts = session.get(live_server.url + "/api/v1/headcounts").json()
    assert counts["arrived"] == arrived and counts["registered"] == registered
    rooms = [c for c in counts["checkpoints"] if c["kind"] == "room"]
    assert rooms and all(c["inside"] == 0 for c in rooms)

    # Six excursions boarded, departed and returned, with some no-shows and one walk-on.
    states = all_excursion_states(db)
    assert len(states) == 6
    assert all(s["excursion"]["status"] == "returned" for s in states)
    assert sum(s["counts"]["missing"] for s in states) >= 3
    assert sum(s["counts"]["walk_ons"] for s in states) == 1
    for s in states:
        confirmed = db.execute(
            "SELECT count(DISTINCT participant_id) FROM valid WHERE checkpoint = ?",
            ["excursion:" + s["excursion"]["id"]]).fetchone()[0]
        assert s["counts"]["confirmed"] == confirmed
        headcount = next(c for c in counts["checkpoints"]
                         if c["id"] == "excursion:" + s["excursion"]["id"])
        # Returned: nobody is on the excursion any more.
        assert headcount["inside"] == 0

    # The summary's numbers match the scans table.
    html = session.get(live_server.url + "/reports/summary").text
    assert re.search(r'id="n-arrived">(\d+)<', html).group(1) == str(arrived)
    for s in states:
        row = re.search(rf'<tr data-id="{s["excursion"]["id"]}">(.*?)</tr>', html, re.S).group(1)
        cells = re.findall(r'<td class="num">(\d+)</td>', row)
        assert cells[1] == str(s["counts"]["confirmed"])

    assert db.execute("SELECT count(*) FROM excursion_events").fetchone()[0] == 13
    # The simulator's own devices are revoked when it ends.
    assert db.execute("SELECT count(*) FROM devices WHERE revoked_at IS NULL").fetchone()[0] == 0
    db.conn.close()


def test_simulate_refuses_a_bad_server_address(db_path):
    done = simulate(db_path, "ftp://example.org")
    assert done.returncode == 1
    assert "http://" in done.stderr


@pytest.mark.server
def test_a_second_rehearsal_on_the_same_database_goes_through(live_server, db_path):
    assert simulate(db_path, live_server.url).returncode == 0
    again = simulate(db_path, live_server.url, "--seed", "7")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "0 refused" in again.stdout
    assert re.search(r"\((\d+) already done before\)", again.stdout).group(1) != "0"
