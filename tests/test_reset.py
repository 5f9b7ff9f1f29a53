"""`checkin reset --scans` clears the day and keeps the plan; `checkin init` keeps the day."""

from __future__ import annotations

import sqlite3

from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.db import connect
from checkin.demo import EVENT_TOML
from checkin.excursions import record_event
from checkin.scans import organiser_actor, record_scans


def _a_day(db) -> None:
    person = db.execute("SELECT id, code FROM participants WHERE excursion = 'forum'").fetchone()
    record_scans(db, organiser_actor("orga"), [
        {"id": "s1", "code": person[1], "checkpoint": "entrance", "direction": "in",
         "at": "2019-11-12T08:00:00Z"}])
    record_event(db, "avebe", {"id": "walk-on-1", "action": "walk_on", "participant": person[0],
                               "at": "2019-11-12T12:00:00Z"})


def _counts(path) -> tuple[int, ...]:
    with sqlite3.connect(path) as conn:
        return tuple(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                     for t in ("scans", "excursion_events", "location", "participants",
                               "codes"))


def test_reset_asks_first_and_changes_nothing_when_declined(db, db_path):
    _a_day(db)
    before = _counts(db_path)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "reset", "--scans"], input="n\n")
    assert result.exit_code == 1
    assert "1 scan(s)" in result.output and "Nothing was changed" in result.output
    assert _counts(db_path) == before
    assert not list(db_path.parent.glob("*.before-reset-*"))


def test_reset_writes_a_backup_then_clears_the_day_only(db, db_path, tmp_path):
    _a_day(db)
    before = _counts(db_path)
    backup = tmp_path / "backup.db"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "reset", "--scans", "--backup",
                                      str(backup)], input="y\n")
    assert result.exit_code == 0, result.output
    assert _counts(backup) == before
    scans, events, location, people, codes = _counts(db_path)
    assert (scans, events, location) == (0, 0, 0)
    assert (people, codes) == before[3:]
    # A backup path that exists already is never overwritten, and nothing is cleared.
    _a_day(db)
    again = CliRunner().invoke(cli, ["--db", str(db_path), "reset", "--scans", "--yes",
                                     "--backup", str(backup)])
    assert again.exit_code == 1 and "nothing was changed" in again.output
    assert _counts(db_path)[0] == 1


def test_init_never_drops_an_excursion_the_day_used(db, db_path, tmp_path):
    _a_day(db)
    without = EVENT_TOML.split("[[excursions]]")
    # The event file without the avebe excursion (which holds a walk-on of the day).
    kept = [part for part in without[1:] if 'id = "avebe"' not in part]
    assert len(kept) == len(without) - 2
    event = tmp_path / "event.toml"
    event.write_text("[[excursions]]".join([without[0], *kept]), encoding="utf-8")
    db.execute("UPDATE participants SET excursion = NULL WHERE excursion = 'avebe'")
    db.conn.commit()
    result = CliRunner().invoke(cli, ["--db", str(db_path), "init", str(event)])
    assert result.exit_code == 1
    assert "avebe" in result.output and "event(s) of the day" in result.output
    check = connect(db_path)
    assert check.execute("SELECT count(*) FROM excursions WHERE id = 'avebe'").fetchone()[0] == 1
    check.conn.close()
