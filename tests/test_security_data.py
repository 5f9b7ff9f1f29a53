"""Issue 8, data protection: erase one person, purge after the event, private event files."""

from __future__ import annotations

import os
import stat
import uuid
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from checkin.cli import cli
from checkin.core.db import connect
from checkin.core.files import make_private
from checkin.participants.csvfile import import_file
from checkin.reports import GROUP_COLUMNS, attendance, csv_pieces, summary
from checkin.scans import headcounts, organiser_actor, record_scans
from checkin.security.erase import purge_reminder
from tests.conftest import csrf_token

AT = "2019-11-12T09:00:00.000Z"
MARKERS = ("Zyxwvutsrq", "Qqqplorfian", "qqq.unique@example.org", "Quuxorganisatie BV")


def _marked_person(db) -> int:
    data = ("first_name,last_name,email,organisation,city,working_group,excursion\r\n"
            f"{MARKERS[0]},{MARKERS[1]},{MARKERS[2]},{MARKERS[3]},Bremen,,bike-tour\r\n")
    assert not import_file(db, data.encode())["problems"]
    return db.execute("SELECT id FROM participants WHERE email = ?", [MARKERS[2]]).fetchone()[0]


def _scan_everyone(db) -> None:
    people = [r[0] for r in db.execute("SELECT id FROM participants ORDER BY id")]
    items = [{"id": str(uuid.uuid4()), "participant": pid, "checkpoint": "entrance",
              "direction": "in", "at": AT} for pid in people[::2]]
    items += [{"id": str(uuid.uuid4()), "participant": pid, "checkpoint": "excursion:bike-tour",
               "direction": "in", "at": "2019-11-12T13:00:00.000Z"} for pid in people[::3]]
    record_scans(db, organiser_actor("orga"), items)


def _figures(db) -> tuple:
    report = attendance(db)
    numbers = summary(db)
    numbers.pop("event")
    return (headcounts(db), numbers, "".join(csv_pieces(report["totals"], GROUP_COLUMNS)))


def _raw(db_path: Path) -> bytes:
    return b"".join(Path(f"{db_path}{s}").read_bytes() for s in ("", "-wal", "-shm")
                    if Path(f"{db_path}{s}").exists())


def test_participant_delete_keeps_scans_and_counts(db, db_path):
    pid = _marked_person(db)
    _scan_everyone(db)
    before = _figures(db)
    scans = db.execute("SELECT count(*) FROM scans WHERE participant_id = ?", [pid]).fetchone()
    result = CliRunner().invoke(cli, ["--db", str(db_path), "participant", "delete", str(pid),
                                      "--yes"])
    assert result.exit_code == 0, result.output
    row = db.execute("SELECT first_name, last_name, email, organisation, erased_at "
                     "FROM participants WHERE id = ?", [pid]).fetchone()
    assert row[:4] == ("", "", None, "") and row[4]
    assert db.execute("SELECT count(*) FROM scans WHERE participant_id = ?",
                      [pid]).fetchone() == scans
    assert _figures(db) == before
    # The badge stops working.
    assert db.execute("SELECT count(*) FROM codes WHERE participant_id = ? AND revoked_at IS NULL",
                      [pid]).fetchone()[0] == 0
    missing = CliRunner().invoke(cli, ["--db", str(db_path), "participant", "delete", "99999",
                                       "--yes"])
    assert missing.exit_code == 1


def test_erase_button_asks_first(db, organiser):
    pid = _marked_person(db)
    page = organiser.get(f"/participants/{pid}")
    assert f"/participants/{pid}/erase" in page.get_data(as_text=True)
    confirm = organiser.get(f"/participants/{pid}/erase")
    assert confirm.status_code == 200 and MARKERS[1] in confirm.get_data(as_text=True)
    token = csrf_token(organiser, f"/participants/{pid}/erase")
    # Without the confirmation field nothing happens.
    organiser.post(f"/participants/{pid}/erase", data={"csrf_token": token})
    assert db.execute("SELECT erased_at FROM participants WHERE id = ?", [pid]).fetchone()[0] \
        is None
    done = organiser.post(f"/participants/{pid}/erase", data={"csrf_token": token,
                                                              "confirm": "yes"})
    assert done.status_code == 303
    assert MARKERS[1] not in organiser.get("/participants").get_data(as_text=True)
    assert db.execute("SELECT erased_at FROM participants WHERE id = ?",
                      [pid]).fetchone()[0] is not None
    erased = organiser.get(f"/participants/{pid}").get_data(as_text=True)
    assert "was erased" in erased and MARKERS[1] not in erased and MARKERS[2] not in erased
    assert organiser.get("/participants/99999999/erase").status_code == 404


def test_purge_keeps_statistics_and_leaves_no_bytes(db, db_path):
    _marked_person(db)
    _scan_everyone(db)
    db.execute("UPDATE corrections SET note = 'Qqqplorfian came late'")
    emails = [r[0] for r in db.execute("SELECT email FROM participants WHERE email IS NOT NULL")]
    raw = _raw(db_path)
    assert all(m.encode() in raw for m in MARKERS)  # the test can fail: the bytes are there
    before = _figures(db)
    db.conn.close()
    refused = CliRunner().invoke(cli, ["--db", str(db_path), "purge"])
    assert refused.exit_code == 1
    result = CliRunner().invoke(cli, ["--db", str(db_path), "purge", "--yes"])
    assert result.exit_code == 0, result.output
    raw = _raw(db_path)
    for text in (*MARKERS, *emails):
        assert text.encode() not in raw, text
    after = connect(db_path)
    try:
        assert _figures(after) == before
        assert after.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert purge_reminder(after, today=date(2020, 6, 1)) is None
    finally:
        after.conn.close()


def test_serve_reminds_to_purge_30_days_after(db):
    # A real person beside the demo's fictional ones (the demo alone asks for no purge).
    assert import_file(db, b"first_name;last_name;city;email\r\n"
                           b"Wiebke;Oltmanns;Oldenburg;w.oltmanns@example.org\r\n")["created"] == 1
    assert purge_reminder(db, today=date(2019, 12, 12)) is None
    reminder = purge_reminder(db, today=date(2019, 12, 13))
    assert reminder and "checkin purge --yes" in reminder


def test_new_event_files_are_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "event.db"
        db = connect(path)
        db.execute("INSERT INTO meta(key, value) VALUES ('x', 'y')")
        db.conn.commit()
        for suffix in ("", "-wal", "-shm"):
            mode = stat.S_IMODE(Path(f"{path}{suffix}").stat().st_mode)
            assert mode == 0o600, (suffix, oct(mode))
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        db.conn.close()
    finally:
        os.umask(old)


def test_files_readable_by_others_are_reported_and_closed(tmp_path, capsys):
    path = tmp_path / "event.db"
    connect(path).conn.close()
    path.chmod(0o644)
    (tmp_path / "uploads").mkdir()
    (tmp_path / "uploads").chmod(0o755)
    exposed = make_private(path)
    assert path in exposed and tmp_path / "uploads" in exposed
    assert "readable by other accounts" in capsys.readouterr().err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert make_private(path) == []
