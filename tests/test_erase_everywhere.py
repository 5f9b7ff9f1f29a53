"""Issue 20: erase means gone, everywhere the product wrote.

Every table of the event is filled through the product's own code (a real server replicating
with Litestream, badge mails through a real SMTP server, a badge printed through a real CUPS
where one can run), then `checkin purge --yes` runs, and every byte of every file under the
event's folder is searched for every name, e-mail address, badge code and mail id that was
put in. One person's erasure is checked table by table the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from checkin.auth.accounts import add_organiser
from checkin.cli import cli
from checkin.continuity.backup import rolling_backup
from checkin.continuity.status import continuity_status
from checkin.core.backup import backup
from checkin.core.codes import reissue
from checkin.core.db import connect
from checkin.demo import EVENT_TOML, create_demo
from checkin.desk.printing import Printer
from checkin.devices import add_device
from checkin.excursions import record_event
from checkin.participants.csvfile import import_file
from checkin.participants.upload import keep_upload
from checkin.rollcall import account as add_accounts
from checkin.rollcall import start as start_rollcall
from checkin.scans import correct_scan, organiser_actor, record_scans
from checkin.security.erase import erase_participant
from tests.conftest import ORGANISER, LiveServer, free_port
from tests.cups import why_no_cups
from tests.test_continuity import sshd  # noqa: F401 - the real sshd fixture
from tests.test_mail import SENDER, smtp  # noqa: F401 - the real SMTP server fixture
from tests.test_security_data import _figures

NOW = datetime(2019, 11, 12, 18, 0, tzinfo=UTC)  # the demo event's day: the server accepts it
# Invented people, so that a byte search for their names cannot hit anything else.
MARKED = [("Xavierqq", "Zwolleqqer", "xavier.zwolleqqer@example.org", "Qqorg Beratung GmbH",
           "+49 421 9871 2345"),
          ("Yolandaqq", "Ypmaqqer", "y.ypmaqqer@example.nl", "Gemeente Qqdam",
           "+31 50 9872 3456"),
          ("Wendelqq", "Wurstqqer", "wendel@wurstqqer.example.de", "Qqwurst Institut",
           "0441 9873 4567")]
# Tables the product never writes: Litestream's own bookkeeping (empty or a counter).
NOT_OURS = "_litestream_"


def _marked_csv() -> bytes:
    lines = ["first_name,last_name,email,organisation,city,working_group,excursion,Telefon"]
    lines += [f"{f},{last},{e},{o},Bremen,,bike-tour,{t}" for f, last, e, o, t in MARKED]
    return ("\r\n".join(lines) + "\r\n").encode()


def _files(folder: Path) -> dict[Path, bytes]:
    """Every file below `folder`, hidden ones included, with its bytes."""
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _found(files: dict[Path, bytes], secrets: set[str]) -> list[tuple[str, str]]:
    return [(text, path.name) for path, data in files.items() for text in sorted(secrets)
            if text.encode() in data]


def _secrets(db) -> set[str]:
    """Every name, e-mail, code and mail id of every participant, as the database holds them."""
    found: set[str] = set()
    for first, last, email, code, phone in db.execute(
            "SELECT first_name, last_name, email, code, phone FROM participants"):
        found |= {email, code, phone} - {None, ""}
        # Short names could turn up by chance in other bytes; the long ones are searched.
        found |= {n for n in (first, last) if len(n) >= 6 and n not in EVENT_TOML}
    found |= {r[0] for r in db.execute("SELECT code FROM codes")}
    found |= {r[0] for r in db.execute("SELECT message_id FROM mailings "
                                       "WHERE message_id IS NOT NULL")}
    # What marshals wrote about people in a roll call ("left earlier: ...").
    found |= {r[0] for r in db.execute("SELECT reason FROM rollcall_accounts "
                                       "WHERE reason != ''")}
    return found


def _scan(code: str, checkpoint: str = "entrance", at: str = "2019-11-12T09:00:00Z") -> dict:
    return {"id": str(uuid.uuid4()), "code": code, "checkpoint": checkpoint,
            "direction": "in", "at": at}


def _login(base: str) -> requests.Session:
    """Sign in to the real server as the organiser (a server-side session row)."""
    import re

    session = requests.Session()
    page = session.get(base + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(base + "/login", timeout=10, allow_redirects=False,
                          data={"username": ORGANISER[0], "password": ORGANISER[1],
                                "csrf_token": token})
    assert answer.status_code == 302
    return session


def _wait_printed(base: str, headers: dict, url: str) -> dict:
    deadline = time.monotonic() + 60
    while True:
        job = requests.get(base + url, headers=headers, timeout=10).json()["job"]
        if job["state"] != "queued" or time.monotonic() > deadline:
            return job
        time.sleep(0.3)


@pytest.fixture
def event(tmp_path: Path) -> Path:
    """An event folder holding only what checkin wrote: the demo's event and people (its
    template files go elsewhere), three invented people, and one organiser."""
    db_path = tmp_path / "event" / "event.db"
    db = connect(db_path)
    try:
        create_demo(db, tmp_path / "templates")
        assert not import_file(db, _marked_csv())["problems"]
        add_organiser(db, *ORGANISER)
    finally:
        db.conn.close()
    return db_path


def _fill_the_day(db, marked: list[int]) -> None:
    """Scans, a reissued badge scanned at the door, a correction with a note, excursion
    events, a roll call with an assembly scan and a marshal's reason, and a waiting upload,
    through the product's own functions."""
    people = [r[0] for r in db.execute("SELECT id, code FROM participants ORDER BY id")]
    codes = dict(db.execute("SELECT id, code FROM participants").fetchall())
    old = codes[marked[0]]
    reissue(db, marked[0])  # a lost badge: its code stays in `codes`, revoked
    actor = organiser_actor("orga")
    items = [_scan(codes[pid]) for pid in people[::2]]
    items += [_scan(codes[pid], "excursion:bike-tour", "2019-11-12T13:00:00Z")
              for pid in people[::3]]
    items += [_scan(old), _scan(old.lower())]  # the lost badge, once typed by hand
    items += [{"id": str(uuid.uuid4()), "participant": marked[1], "checkpoint": "entrance",
               "direction": "in", "at": "2019-11-12T09:05:00Z"}]
    stored = record_scans(db, actor, items, now=NOW).stored
    correct_scan(db, stored[0]["id"], "void", organiser="orga",
                 note=f"{MARKED[2][0]} {MARKED[2][1]} scanned a colleague's badge", now=NOW)
    for n, (excursion, action, person) in enumerate((
            ("forum", "walk_on", marked[2]), ("bike-tour", "depart", None),
            ("bike-tour", "return", None))):
        item = {"id": f"excursion-event-{n}", "action": action,
                "at": f"2019-11-12T1{3 + n}:00:00Z"}
        if person is not None:
            item["participant"] = person
        record_event(db, excursion, item, now=NOW)
    # The alarm at 10:00: everyone in the venue is expected; one is accounted for at an
    # assembly point, one "left earlier" with a marshal's words about them.
    rollcall, _what = start_rollcall(db, None, {"started_at": "2019-11-12T10:00:00Z"}, now=NOW)
    record_scans(db, actor, [_scan(codes[people[0]], "assembly:grote-markt",
                                   "2019-11-12T10:03:00Z")], now=NOW)
    add_accounts(db, None, rollcall["id"], {"accounts": [
        {"id": "account-1", "participant_id": marked[1], "how": "left",
         "reason": f"{MARKED[1][0]} {MARKED[1][1]} went home",
         "at": "2019-11-12T10:04:00Z"}]}, now=NOW)
    keep_upload(Path(db.conn.execute("PRAGMA database_list").fetchone()[2]).parent / "uploads",
                _marked_csv())


def _wait_replicated(event: Path, log: Path) -> None:
    """Wait until the serving server's replica is in sync, and a moment past its interval."""
    deadline = time.monotonic() + 30
    while continuity_status(event)["state"] != "ok":
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.2)
    time.sleep(1)  # past Litestream's 100 ms sync interval

@pytest.mark.server
def test_purge_leaves_no_personal_byte_under_the_event_folder(event: Path, tmp_path: Path,
                                                              smtp, monkeypatch):  # noqa: F811
    folder = event.parent
    replica = folder / "replica"
    db = connect(event)
    try:
        marked = [r[0] for r in db.execute(
            "SELECT id FROM participants WHERE email IN (?, ?, ?) ORDER BY id",
            [m[2] for m in MARKED])]
        _fill_the_day(db, marked)
        devices = {role: add_device(db, role.title(), role, checkpoint)["token"]
                   for role, checkpoint in (("scanner", "entrance"), ("desk", None),
                                            ("guide", "excursion:bike-tour"))}
    finally:
        db.conn.close()
    # The badge mails, through a real SMTP server.
    mailed = CliRunner().invoke(cli, ["--db", str(event), "mail", "badges", "--smtp", smtp[0],
                                      "--sender", SENDER])
    assert mailed.exit_code == 0, mailed.output
    assert len(smtp[1].messages) == 63

    with contextlib.ExitStack() as stack:
        # A real CUPS-PDF queue where cupsd can run; elsewhere the same code path records a
        # job that the missing printer fails.
        cups = None
        if why_no_cups() is None:
            from tests.cups import private_cups

            cups = stack.enter_context(private_cups())
            monkeypatch.setenv("CUPS_SERVER", cups.server)
        queue = cups.queue if cups else "no-such-printer"
        server = LiveServer(event, free_port(), tmp_path / "server.log",
                            ("--http", "--host", "127.0.0.1", "--replicate-to", str(replica),
                             "--printer", queue))
        server.start()
        try:
            organiser = _login(server.url)
            # Badges made as an organiser's job, kept for download in jobs/ (issue 19).
            import re

            page = organiser.get(f"{server.url}/participants", timeout=10).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            made = organiser.post(f"{server.url}/participants/badges.pdf", timeout=10,
                                  headers={"X-CSRFToken": csrf}).json()
            deadline = time.monotonic() + 120
            while made["status"] == "running" and time.monotonic() < deadline:
                time.sleep(0.2)
                made = organiser.get(server.url + made["url"], timeout=10).json()
            assert made["status"] == "done", made
            assert list((folder / "jobs").glob("*/output"))
            # The door tablet's roster: its name index stores each last name's slow hash.
            roster = requests.get(f"{server.url}/api/v1/roster", timeout=60,
                                  headers={"Authorization": f"Bearer {devices['scanner']}"})
            assert roster.status_code == 200 and roster.json()["names"]["entries"]
            desk = {"Authorization": f"Bearer {devices['desk']}"}
            job = requests.post(f"{server.url}/api/v1/participants/{marked[1]}/print", json={},
                                headers=desk, timeout=10)
            assert job.status_code == 202, job.text
            printed = _wait_printed(server.url, desk, job.json()["job"]["url"])
            if cups:
                assert printed["state"] == "printed", printed
                cups.output(f"checkin-badge-{printed['id']}").unlink()  # the paper, taken away
            # A purge while the server serves is refused and changes nothing.
            refused = CliRunner().invoke(cli, ["--db", str(event), "purge", "--yes"])
            assert refused.exit_code == 1 and "stop it first" in refused.output
            check = connect(event)
            try:
                assert check.execute("SELECT count(*) FROM participants WHERE erased_at "
                                     "IS NULL").fetchone()[0] == 63
            finally:
                check.conn.close()
            _wait_replicated(event, tmp_path / "server.log")
        finally:
            server.stop()

        # Every other copy checkin writes beside the database: a rolling backup (what a server
        # without a replica keeps every 5 minutes), `reset --scans`' copy, and the file
        # `restore --force` keeps aside.
        made = rolling_backup(event)
        db = connect(event)
        try:
            backup(db, folder / "event.before-reset-20191112T200000Z.db")
        finally:
            db.conn.close()
        restored = CliRunner().invoke(cli, ["restore", "--from", str(made), "--db", str(event),
                                            "--force"])
        assert restored.exit_code == 0, restored.output
        db = connect(event)
        try:
            empty = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                              "'table' ORDER BY name")
                     if not t.startswith(NOT_OURS)
                     and not db.execute(f'SELECT 1 FROM "{t}" LIMIT 1')  # noqa: S608
                                    .fetchone()]
            assert empty == [], f"fill these tables too: {empty}"
            secrets = _secrets(db)
            before = _figures(db)
            cups_jobs = [r[0] for r in db.execute("SELECT cups_job FROM print_jobs "
                                                  "WHERE cups_job IS NOT NULL")]
        finally:
            db.conn.close()
        files = _files(folder)
        # The test can fail: everything searched for is there before the purge.
        assert {m[2] for m in MARKED} | {m[1] for m in MARKED} <= secrets
        assert {m[4] for m in MARKED} <= secrets
        missing = [s for s in secrets if not any(s.encode() in d for d in files.values())]
        assert missing == []
        ltx = {hashlib.sha256(d).hexdigest() for p, d in files.items() if p.suffix == ".ltx"}
        assert ltx and any(p.name.startswith(".event.db-litestream") for p in folder.iterdir())
        copies = [*folder.glob("event.db.replaced-*"), *folder.glob("event.before-reset-*"),
                  *(folder / "backups").glob("*.db")]
        assert len(copies) == 3

        purged = CliRunner().invoke(cli, ["--db", str(event), "purge", "--yes"])
        assert purged.exit_code == 0, purged.output
        for named in ("standby laptop", "copies you made", "mails already delivered",
                      "printed badges", f"Replica {replica}"):
            assert named in purged.output, purged.output

        after = _files(folder)
        assert _found(after, secrets) == []
        assert not (folder / "jobs").exists() and "organiser output(s)" in purged.output
        # The one backup left is the purged event's (in the same second it may reuse a name).
        assert [p.name for p in copies if p.exists() and p.parent.name != "backups"] == []
        assert len(list((folder / "backups").glob("*.db"))) == 1  # the purged event's
        # Litestream's files are compressed: a byte search proves nothing there. The old ones
        # are gone, and the new replica restores to a database without any of it.
        assert not ltx & {hashlib.sha256(d).hexdigest() for p, d in after.items()
                          if p.suffix == ".ltx"}
        restored = tmp_path / "standby" / "event.db"
        result = CliRunner().invoke(cli, ["restore", "--from", str(replica), "--db",
                                          str(restored)])
        assert result.exit_code == 0, result.output
        assert _found(_files(restored.parent), secrets) == []
        for path in (event, restored):
            check = connect(path)
            try:
                assert _figures(check) == before
                assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert check.execute("SELECT count(*) FROM devices WHERE revoked_at IS NULL"
                                     ).fetchone()[0] == 0
            finally:
                check.conn.close()
        if cups:
            # CUPS forgot the badge's job and deleted its document.
            history = cups.run("lpstat", "-W", "completed", "-o", cups.queue).stdout
            assert cups_jobs and not set(cups_jobs) & set(history.split())
            assert not list((cups.folder / "spool").glob("d*"))
        # Serving again, the new replica carries on; devices are told to wipe what they
        # stored at their next contact.
        server = LiveServer(event, free_port(), tmp_path / "again.log",
                            ("--http", "--host", "127.0.0.1", "--replicate-to", str(replica)))
        server.start()
        try:
            answer = requests.get(server.url + "/api/v1/me", timeout=10, headers={
                "Authorization": f"Bearer {devices['scanner']}"})
            assert answer.status_code == 401
            assert answer.headers.get("X-Checkin-Wipe") == "storage"
            deadline = time.monotonic() + 30
            while continuity_status(event)["state"] != "ok":
                assert time.monotonic() < deadline, (tmp_path / "again.log").read_text()[-2000:]
                time.sleep(0.2)
            assert "litestream:" not in (tmp_path / "again.log").read_text()  # no error, no warning
        finally:
            server.stop()


def _rows_text(db_path: Path) -> str:
    """Every row of every table as text (the whole database, searched by value)."""
    conn = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master "
                                             "WHERE type = 'table'")]
        return json.dumps({t: conn.execute(f'SELECT * FROM "{t}"').fetchall()  # noqa: S608
                           for t in tables}, default=str)
    finally:
        conn.close()


@pytest.mark.slow
def test_participant_delete_erases_mails_codes_print_jobs_and_notes(event: Path, smtp):  # noqa: F811
    db = connect(event)
    try:
        marked = [r[0] for r in db.execute(
            "SELECT id FROM participants WHERE email IN (?, ?, ?) ORDER BY id",
            [m[2] for m in MARKED])]
        _fill_the_day(db, marked)
        correct_scan(db, next(db.query("SELECT id FROM scans WHERE participant_id = ?",
                                       [marked[0]]))["id"], "void", organiser="orga",
                     note=f"{MARKED[0][1]} left early", now=NOW)
        # A marshal's words about them in the roll call.
        add_accounts(db, None, db.execute("SELECT id FROM rollcalls").fetchone()[0],
                     {"accounts": [{"id": "account-2", "participant_id": marked[0],
                                    "how": "elsewhere", "at": "2019-11-12T10:05:00Z",
                                    "reason": f"{MARKED[0][1]} is with the first aiders"}]},
                     now=NOW)
        # A print job as the desk writes it (no printer needed to record it).
        Printer(str(event), "no-such-printer").submit(db, marked[0], "Desk")
    finally:
        db.conn.close()
    assert CliRunner().invoke(cli, ["--db", str(event), "mail", "badges", "--smtp", smtp[0],
                                    "--sender", SENDER]).exit_code == 0
    db = connect(event)
    try:
        person = {r[0] for r in db.execute("SELECT code FROM codes WHERE participant_id = ?",
                                           [marked[0]])}
        person |= {r[0] for r in db.execute("SELECT message_id FROM mailings "
                                            "WHERE participant_id = ?", [marked[0]])}
        person |= set(MARKED[0])
        others = {r[0] for r in db.execute("SELECT email FROM participants WHERE id != ? AND "
                                           "email IS NOT NULL", [marked[0]])}
        for table in ("mailings", "print_jobs", "codes"):
            assert db.execute(f"SELECT count(*) FROM {table} WHERE participant_id = ?",  # noqa: S608
                              [marked[0]]).fetchone()[0]
        before = _figures(db)
    finally:
        db.conn.close()
    text = _rows_text(event)
    assert all(s in text for s in person)  # the test can fail
    result = CliRunner().invoke(cli, ["--db", str(event), "participant", "delete",
                                      str(marked[0]), "--yes"])
    assert result.exit_code == 0, result.output
    text = _rows_text(event)
    assert [s for s in person if s in text] == []
    assert all(s in text for s in others)  # only this person is erased
    # An erased person gets no new badge either.
    again = CliRunner().invoke(cli, ["--db", str(event), "reissue", str(marked[0])])
    assert again.exit_code == 1 and "is erased" in again.output
    db = connect(event)
    try:
        assert _figures(db) == before
        for table in ("mailings", "print_jobs", "codes"):
            assert not db.execute(f"SELECT 1 FROM {table} WHERE participant_id = ?",  # noqa: S608
                                  [marked[0]]).fetchone()
        # Their scans stay, anonymous.
        old = db.execute("SELECT count(*) FROM scans WHERE participant_id = ?",
                         [marked[0]]).fetchone()[0]
        assert old and not erase_participant(db, 999_999)
    finally:
        db.conn.close()


@pytest.mark.server
def test_purge_renews_a_replica_over_sftp(event: Path, tmp_path: Path, sshd,  # noqa: F811
                                          monkeypatch):
    """The standby's replica over SFTP (a real sshd): the old files go, a new one restores."""
    monkeypatch.setenv("CHECKIN_SFTP_KEY", sshd["key"])
    monkeypatch.setenv("CHECKIN_SFTP_HOST_KEY", sshd["host_key"])
    remote = tmp_path / "remote"
    remote.mkdir()
    db = connect(event)
    try:
        token = add_device(db, "Door", "scanner", "entrance")["token"]
        codes = [r[0] for r in db.execute("SELECT code FROM participants")]
    finally:
        db.conn.close()
    server = LiveServer(event, free_port(), tmp_path / "s.log",
                        ("--http", "--host", "127.0.0.1", "--replicate-to", sshd["url"]))
    server.start()
    try:
        sent = requests.post(server.url + "/api/v1/scans", timeout=10,
                             headers={"Authorization": f"Bearer {token}"},
                             json={"scans": [_scan(c, at=NOW.isoformat()) for c in codes[:30]]})
        assert sent.status_code == 200, sent.text
        _wait_replicated(event, tmp_path / "s.log")
    finally:
        server.stop()
    db = connect(event)
    try:
        secrets = _secrets(db)
    finally:
        db.conn.close()
    old = {hashlib.sha256(d).hexdigest() for d in _files(remote).values()}
    assert old

    purged = CliRunner().invoke(cli, ["--db", str(event), "purge", "--yes"])
    assert purged.exit_code == 0, purged.output
    assert f"Replica {sshd['url']}" in purged.output
    now = _files(remote)
    assert now and not old & {hashlib.sha256(d).hexdigest() for d in now.values()}
    restored = tmp_path / "standby" / "event.db"
    result = CliRunner().invoke(cli, ["restore", "--from", sshd["url"], "--db", str(restored)])
    assert result.exit_code == 0, result.output
    assert _found(_files(restored.parent), secrets) == []
    assert _found(_files(event.parent), secrets) == []


def test_purge_finds_the_replica_of_an_event_replicated_by_0_3_0(event: Path, tmp_path: Path):
    """0.3.0 kept no list of replicas: the last configuration names the one to renew."""

    from checkin.continuity.replication import destinations_path, replicate_once

    usb = tmp_path / "usb"
    problem = replicate_once(event, str(usb))
    assert problem is None, problem
    destinations_path(event).unlink()  # as 0.3.0 left the folder
    old = {hashlib.sha256(d).hexdigest() for d in _files(usb).values()}
    purged = CliRunner().invoke(cli, ["--db", str(event), "purge", "--yes"])
    assert purged.exit_code == 0, purged.output
    assert f"Replica {usb}" in purged.output
    assert not old & {hashlib.sha256(d).hexdigest() for d in _files(usb).values()}


def test_purge_names_a_replica_it_cannot_reach_and_exits_2(event: Path, tmp_path: Path):
    from checkin.continuity.replication import remember_destination

    remember_destination(event, str(tmp_path / "unplugged-stick"))
    purged = CliRunner().invoke(cli, ["--db", str(event), "purge", "--yes"])
    assert purged.exit_code == 2
    assert "unplugged-stick is not reachable" in purged.output
    assert "Erased the personal data of 63 participant(s)" in purged.output


def test_badge_files_a_crashed_print_left_are_deleted_new_ones_kept(tmp_path: Path,
                                                                     monkeypatch):
    import os
    import tempfile

    from checkin.desk.printing import SPOOL_LEFTOVER_SECONDS, SPOOL_PREFIX, forget_print_files

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    left, busy = tmp_path / f"{SPOOL_PREFIX}crashed", tmp_path / f"{SPOOL_PREFIX}printing"
    for folder in (left, busy):
        folder.mkdir()
        (folder / "badge-j1.pdf").write_bytes(b"%PDF Xavierqq Zwolleqqer")
    old = time.time() - SPOOL_LEFTOVER_SECONDS - 60
    os.utime(left, (old, old))
    assert forget_print_files([]) == (1, [])
    assert not left.exists() and busy.exists()  # another server may be printing that one
