"""The reminder to purge personal data: never for the demo's fictional people (the demo is
dated 2019), always for a real event, and again once real people join the demo."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.db import connect
from checkin.core.event import apply_event, parse_event
from checkin.demo import EVENT_TOML, participants_csv
from checkin.participants.csvfile import import_file
from checkin.security.erase import purge_reminder
from tests.conftest import LiveServer, free_port

LATER = date(2019, 12, 13)  # 31 days after the demo's day
REAL_PERSON = ("first_name;last_name;organisation;city;email\r\n"
               "Wiebke;Oltmanns;Stadt Oldenburg;Oldenburg;wiebke.oltmanns@oldenburg.example\r\n")


def test_the_demo_asks_for_no_purge(tmp_path):
    path = tmp_path / "demo" / "event.db"
    result = CliRunner().invoke(cli, ["--db", str(path), "demo"])
    assert result.exit_code == 0, result.output
    db = connect(path)
    assert purge_reminder(db, today=LATER) is None
    # Run again (as serve-demo's users may): still the demo.
    assert CliRunner().invoke(cli, ["--db", str(path), "demo"]).exit_code == 0
    assert purge_reminder(db, today=LATER) is None


def test_a_real_event_is_reminded_even_with_the_demos_data(tmp_path):
    # The same event and people, loaded as an organiser loads a real event.
    db = connect(tmp_path / "event.db")
    apply_event(db, parse_event(EVENT_TOML))
    assert not import_file(db, participants_csv().encode("utf-8"))["problems"]
    assert purge_reminder(db, today=date(2019, 12, 12)) is None  # 30 days: not yet
    reminder = purge_reminder(db, today=LATER)
    assert reminder and "checkin purge --yes" in reminder


def test_real_people_added_to_the_demo_bring_the_reminder_back(db):
    assert purge_reminder(db, today=LATER) is None
    result = import_file(db, REAL_PERSON.encode("utf-8"))
    assert result["created"] == 1, result["problems"]
    reminder = purge_reminder(db, today=LATER)
    assert reminder and "checkin purge --yes" in reminder


@pytest.mark.server
def test_serving_the_demo_shows_no_purge_reminder(db_path, tmp_path):
    server = LiveServer(db_path, free_port(), tmp_path / "s.log")
    server.start()
    server.stop()
    log = (tmp_path / "s.log").read_text()
    assert "Stop with Ctrl+C." in log and "checkin purge" not in log
