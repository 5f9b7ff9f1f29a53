"""Continuity: backups, one server per event (refusal, stale lock, shared queue), a damaged file,
a full disk, restore and the instance id, the replica's status on the overview."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from checkin.cli import cli
from checkin.continuity.backup import backup, latest_backup, rolling_backup
from checkin.continuity.lock import ServerRunning, acquire, holder, lock_path
from checkin.continuity.replication import status_path
from checkin.continuity.status import STALE_SECONDS, continuity_status
from checkin.core.db import connect
from checkin.devices import add_device
from tests import processes
from tests.conftest import LiveServer, free_port


def serve_args(*extra: str) -> list[str]:
    return [sys.executable, "-m", "checkin.cli", *extra]


def scan_item(code: str) -> dict:
    return {"id": str(uuid.uuid4()), "code": code, "checkpoint": "entrance", "direction": "in",
            "at": datetime.now(UTC).isoformat()}


def codes(db_path: Path) -> list[str]:
    db = connect(db_path)
    try:
        return [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
    finally:
        db.conn.close()


def stored_scan_ids(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM scans")]
    finally:
        conn.close()


def count_scans(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT count(*) FROM scans").fetchone()[0]
    finally:
        conn.close()


# --------------------------------------------------------------------------- backups


def test_backup_command_copies_a_consistent_database_while_it_is_written(db_path: Path,
                                                                         tmp_path: Path):
    db = connect(db_path)
    with db.conn:
        db.execute("INSERT INTO meta(key, value) VALUES ('drill', 'before')")
    # An open write transaction in another connection: the copy holds only committed data.
    writer = sqlite3.connect(db_path)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO meta(key, value) VALUES ('uncommitted', 'x')")
    result = CliRunner().invoke(cli, ["--db", str(db_path), "backup", "-o",
                                      str(tmp_path / "copy.db")])
    writer.rollback()
    writer.close()
    assert result.exit_code == 0, result.output
    assert "Backed up" in result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    keys = {r[0] for r in copy.execute("SELECT key FROM meta")}
    assert "drill" in keys and "uncommitted" not in keys
    assert copy.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    assert copy.execute("SELECT count(*) FROM participants").fetchone()[0] == 60
    copy.close()
    assert oct((tmp_path / "copy.db").stat().st_mode & 0o777) == "0o600"


def test_rolling_backups_keep_the_newest(db_path: Path):
    start = datetime(2019, 11, 12, 8, 0, tzinfo=UTC)
    made = [rolling_backup(db_path, keep=3, moment=start + timedelta(minutes=5 * i))
            for i in range(5)]
    kept = sorted((db_path.parent / "backups").glob("*.db"))
    assert kept == made[-3:]
    assert latest_backup(db_path) == made[-1]


def test_serve_without_replica_shows_the_last_backup(organiser, db_path: Path):
    html = organiser.get("/overview").get_data(as_text=True)
    assert "No replica and no backup yet" in html
    rolling_backup(db_path)
    part = organiser.get("/continuity/status").get_data(as_text=True)
    assert "Last backup" in part and "role=\"alert\"" not in part


# --------------------------------------------------------------------------- one server per event


@pytest.mark.server
def test_a_second_server_is_refused_naming_the_first(live_server: LiveServer, tmp_path: Path):
    second = subprocess.run(
        serve_args("--db", str(live_server.db_path), "serve", "--http", "--port",
                   str(free_port())), capture_output=True, text=True, timeout=60)
    assert second.returncode == 1
    message = second.stderr
    assert "Another checkin server is already serving this event" in message
    assert f"pid {live_server.proc.pid}" in message
    assert f"127.0.0.1:{live_server.port}" in message
    assert "--message-queue" in message
    # The first server is unharmed and still holds the lock.
    assert requests.get(live_server.url + "/login", timeout=5).status_code == 200
    assert holder(live_server.db_path)["pid"] == live_server.proc.pid


@pytest.mark.server
def test_a_clean_stop_releases_the_lock(db_path: Path, tmp_path: Path):
    server = LiveServer(db_path, free_port(), tmp_path / "s.log")
    server.start()
    assert lock_path(db_path).exists()
    server.stop()
    assert not lock_path(db_path).exists()
    assert holder(db_path) is None


@pytest.mark.server
def test_a_stale_lock_from_a_killed_server_is_taken_over(db_path: Path, tmp_path: Path):
    # A real process takes the lock and dies by SIGKILL, as a crashed server would.
    child = processes.spawn(
        [sys.executable, "-c",
         "import sys, time; from checkin.continuity.lock import acquire; "
         "lock = acquire(sys.argv[1], '127.0.0.1', 1234); print('locked', flush=True); "
         "time.sleep(60)",
         str(db_path)], stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "locked"
    with pytest.raises(ServerRunning) as refused:
        acquire(db_path, "127.0.0.1", 5678)
    assert refused.value.holder["pid"] == child.pid
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert lock_path(db_path).exists()  # the file stays; its lock does not
    assert holder(db_path) is None
    server = LiveServer(db_path, free_port(), tmp_path / "s.log")
    server.start()
    try:
        assert "did not stop cleanly; taking over" in (tmp_path / "s.log").read_text()
        assert f"pid {child.pid}" in (tmp_path / "s.log").read_text()
        assert holder(db_path)["pid"] == server.proc.pid
    finally:
        server.stop()


def test_servers_sharing_a_message_queue_may_run_side_by_side(db_path: Path):
    first = acquire(db_path, "127.0.0.1", 1, message_queue="redis://127.0.0.1:6399/0")
    try:
        beside = acquire(db_path, "127.0.0.1", 2, message_queue="redis://127.0.0.1:6399/0")
        assert beside.handle is None and beside.shared_with["port"] == 1
        # The lock file never carries the queue's URL (it may hold a password).
        assert "redis" not in lock_path(db_path).read_text()
        with pytest.raises(ServerRunning):
            acquire(db_path, "127.0.0.1", 3, message_queue="redis://127.0.0.1:6399/1")
        with pytest.raises(ServerRunning):
            acquire(db_path, "127.0.0.1", 4)
    finally:
        first.release()


# --------------------------------------------------------------------------- a damaged file


def test_serve_refuses_a_damaged_database_and_names_the_restore_command(db_path: Path):
    rolling_backup(db_path)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'participants'"
                        ).fetchone()[0]
    conn.close()
    with db_path.open("r+b") as f:  # scribble over the participants table's first page
        f.seek((root - 1) * page_size)
        f.write(b"\xa5" * page_size)
    result = subprocess.run(
        serve_args("--db", str(db_path), "serve", "--http", "--port", str(free_port())),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "is damaged" in result.stderr
    assert f"checkin restore --from {latest_backup(db_path)}" in result.stderr
    assert not lock_path(db_path).exists() or holder(db_path) is None
    # Said in the chosen language; the commands to type stay as they are.
    german = subprocess.run(
        serve_args("--db", str(db_path), "--lang", "de", "serve", "--http", "--port",
                   str(free_port())), capture_output=True, text=True, timeout=60)
    assert german.returncode == 1
    assert f"Die Veranstaltungsdatenbank {db_path} ist beschädigt" in german.stderr
    assert f"  checkin restore --from {latest_backup(db_path)}" in german.stderr
    # The command it names works: the restored copy serves.
    restored = db_path.parent / "restored" / "event.db"
    done = CliRunner().invoke(cli, ["restore", "--from", str(latest_backup(db_path)),
                                    "--db", str(restored)])
    assert done.exit_code == 0, done.output
    assert count_scans(restored) == 0 and len(codes(restored)) == 60


@pytest.mark.slow
def test_a_file_that_is_no_database_is_refused(tmp_path: Path):
    bad = tmp_path / "event.db"
    bad.write_bytes(b"this is not a database" * 100)
    result = subprocess.run(
        serve_args("--db", str(bad), "serve", "--http", "--port", str(free_port())),
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "is damaged" in result.stderr and "checkin restore --from" in result.stderr
    replicating = subprocess.run(
        serve_args("--db", str(bad), "serve", "--http", "--port", str(free_port()),
                   "--replicate-to", str(tmp_path / "usb")),
        capture_output=True, text=True, timeout=60)
    assert replicating.returncode == 1
    assert f"checkin restore --from {tmp_path / 'usb'} --db RESTORED.db" in replicating.stderr


# --------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path: Path):
    """A real 3 MB tmpfs (needs root to mount), unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill a file system to the last byte; return the filler file."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 4096)
    return filler


@pytest.mark.server
def test_disk_full_gives_503_disk_full_and_the_server_recovers(db_path: Path, small_disk: Path,
                                                               tmp_path: Path):
    event = small_disk / "event.db"
    backup(db_path, event)
    token = add_device(connect(event), "Door", "scanner")["token"]
    all_codes = codes(event)
    server = LiveServer(event, free_port(), tmp_path / "s.log")
    server.start()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        filler = fill(small_disk)
        stored, refused = [], None
        for i in range(400):
            batch = [scan_item(all_codes[(i * 7 + j) % 60]) for j in range(50)]
            response = requests.post(server.url + "/api/v1/scans", json={"scans": batch},
                                     headers=headers, timeout=30)
            assert response.status_code in (200, 503), response.text
            if response.status_code == 503:
                refused = (batch, response)
                break
            stored += batch
        assert refused is not None, "the disk never filled"
        batch, response = refused
        assert response.json()["error"]["code"] == "disk_full"
        assert "disk is full" in response.json()["error"]["message"]
        assert response.headers["Retry-After"]
        # The device keeps the batch and sends it again once space returns: all of it stored.
        filler.unlink()
        again = requests.post(server.url + "/api/v1/scans", json={"scans": batch},
                              headers=headers, timeout=30)
        assert again.status_code == 200, again.text
        assert not any(r["duplicate"] for r in again.json()["results"])
        assert requests.get(server.url + "/api/v1/me", headers=headers,
                            timeout=10).status_code == 200
    finally:
        server.stop()
    assert count_scans(event) == len(stored) + len(batch)


def test_no_rolling_backup_when_the_disk_is_nearly_full(db_path: Path, small_disk: Path):
    event = small_disk / "event.db"  # 3 MB disk: a copy would leave less than 64 MB free
    backup(db_path, event)
    assert rolling_backup(event) is None
    assert not (small_disk / "backups").exists()


# --------------------------------------------------------------------------- restore, instance


def test_restore_from_a_backup_gives_a_new_instance_id(db_path: Path, tmp_path: Path):
    from checkin import create_app

    token = add_device(connect(db_path), "Door", "scanner")["token"]
    headers = {"Authorization": f"Bearer {token}"}
    client = create_app({"TESTING": True, "DATABASE": str(db_path)}).test_client()
    me = client.get("/api/v1/me", headers=headers)
    first = me.get_json()["instance"]
    assert me.headers["X-Checkin-Instance"] == first
    scan = scan_item(codes(db_path)[0])
    assert client.post("/api/v1/scans", json={"scans": [scan]}, headers=headers
                       ).headers["X-Checkin-Instance"] == first
    copy = backup(db_path, tmp_path / "copy.db")
    restored = tmp_path / "standby" / "event.db"
    result = CliRunner().invoke(cli, ["restore", "--from", str(copy), "--db", str(restored)])
    assert result.exit_code == 0, result.output
    assert "1 scan(s)" in result.output and f"checkin --db {restored} serve" in result.output
    other = create_app({"TESTING": True, "DATABASE": str(restored)}).test_client()
    second = other.get("/api/v1/me", headers=headers).get_json()["instance"]
    assert second != first
    # The device's re-sent scan is recognised: stored once.
    again = other.post("/api/v1/scans", json={"scans": [scan]}, headers=headers).get_json()
    assert again["results"][0]["duplicate"] is True
    # A restore never overwrites an event by accident.
    refused = CliRunner().invoke(cli, ["restore", "--from", str(copy), "--db", str(restored)])
    assert refused.exit_code == 1 and "exists already" in refused.output


def test_restore_refuses_what_is_no_replica(tmp_path: Path):
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(cli, ["restore", "--from", str(tmp_path / "empty"),
                                      "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "holds no replica" in result.output
    (tmp_path / "notes.txt").write_text("hello")
    result = CliRunner().invoke(cli, ["restore", "--from", str(tmp_path / "notes.txt"),
                                      "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1 and "neither a replica folder nor a database" in result.output
    assert not (tmp_path / "x.db").exists()
    # In the chosen language, on one line.
    result = CliRunner().invoke(cli, ["--lang", "de", "restore", "--from",
                                      str(tmp_path / "empty"), "--db", str(tmp_path / "x.db")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{tmp_path / 'empty'} enthält kein Replikat (kein Ordner ltx/ darin)."]


# --------------------------------------------------------------------------- replica status


def write_status(db_path: Path, **state) -> None:
    status_path(db_path).write_text(json.dumps(state), encoding="utf-8")


def test_replica_status_ok_stale_and_stopped(db_path: Path, organiser):
    now = datetime.now(UTC)
    recent = (now - timedelta(seconds=2)).isoformat()
    write_status(db_path, running=True, last_synced=recent, started=recent, destination="/usb")
    status = continuity_status(db_path, now)
    assert (status["state"], status["alert"]) == ("ok", False)
    assert 1.5 < status["age_seconds"] < 2.5
    part = organiser.get("/continuity/status").get_data(as_text=True)
    assert "Replica up to date" in part and "/usb" in part
    old = (now - timedelta(seconds=STALE_SECONDS + 5)).isoformat()
    write_status(db_path, running=True, last_synced=old, started=old, destination="/usb")
    assert continuity_status(db_path, now)["state"] == "stale"
    write_status(db_path, running=False, last_synced=recent, started=old, destination="/usb",
                 last_error="Litestream stopped (exit code 1); restarting")
    status = continuity_status(db_path, now)
    assert (status["state"], status["alert"]) == ("stopped", True)
    html = organiser.get("/overview").get_data(as_text=True)
    assert 'role="alert"' in html and "Replication has stopped" in html
    assert "exit code 1" in html


def test_replica_status_is_for_organisers_only(client):
    assert client.get("/continuity/status").status_code in (302, 401, 403)


@pytest.mark.browser
@pytest.mark.server
def test_overview_alert_when_replication_stops_in_chromium(live_server: LiveServer, browser):
    """The overview's replica line turns into an alert by itself when replication stops,
    in words (not colour alone), with no accessibility violations."""
    from tests.conftest import ARTIFACTS, axe_violations, browser_login

    db_path = live_server.db_path
    now = datetime.now(UTC).isoformat()
    write_status(db_path, running=True, last_synced=now, started=now, destination="/media/usb")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, live_server.url)
    page.goto(live_server.url + "/overview")
    assert "Replica up to date" in page.inner_text("#continuity-status")
    assert axe_violations(page) == []
    write_status(db_path, running=False, last_synced=now, started=now, destination="/media/usb",
                 last_error="Litestream stopped (exit code 1); restarting")
    page.wait_for_selector("#continuity-status [role=alert]", timeout=20000)
    assert "Replication has stopped" in page.inner_text("#continuity-status")
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "continuity-overview-alert-laptop.png"))
    page.close()


@pytest.mark.server
def test_serve_keeps_rolling_backups_without_a_replica(db_path: Path, tmp_path: Path,
                                                       monkeypatch):
    monkeypatch.setenv("CHECKIN_BACKUP_SECONDS", "1")
    server = LiveServer(db_path, free_port(), tmp_path / "s.log")
    server.start()
    try:
        deadline = time.monotonic() + 20
        while len(list((db_path.parent / "backups").glob("*.db"))) < 2:
            assert time.monotonic() < deadline, (tmp_path / "s.log").read_text()[-2000:]
            time.sleep(0.2)
        copy = sqlite3.connect(latest_backup(db_path))
        assert copy.execute("SELECT count(*) FROM participants").fetchone()[0] == 60
        copy.close()
    finally:
        server.stop()


@pytest.mark.server
def test_the_replicator_is_restarted_when_it_dies(db_path: Path, tmp_path: Path):
    """Litestream killed under the running server: the status says so, then it is back."""
    replica = tmp_path / "replica"
    server = LiveServer(db_path, free_port(), tmp_path / "s.log",
                        ("--http", "--host", "127.0.0.1", "--replicate-to", str(replica)))
    server.start()
    try:
        def status() -> dict:
            try:
                return json.loads(status_path(db_path).read_text())
            except (OSError, ValueError):
                return {}

        def wait(condition, what: str) -> None:
            deadline = time.monotonic() + 20
            while not condition(status()):
                assert time.monotonic() < deadline, (what, status())
                time.sleep(0.1)

        wait(lambda s: s.get("running") and s.get("last_synced"), "in sync")
        children = subprocess.run(["pgrep", "-f", f"litestream replicate -config {db_path}"],
                                  capture_output=True, text=True).stdout.split()
        assert len(children) == 1
        os.kill(int(children[0]), signal.SIGKILL)
        wait(lambda s: s.get("restarts") == 1, "restart noted")
        assert "exit code" in (status().get("last_error") or "") or status().get("running")
        wait(lambda s: s.get("running") and s.get("last_error") is None, "back in sync")
        assert continuity_status(db_path)["state"] == "ok"
        assert "replication stopped" in (tmp_path / "s.log").read_text()
    finally:
        server.stop()
    assert not status_path(db_path).exists()  # a clean stop: no stale status left behind


@pytest.fixture
def sshd(tmp_path: Path):
    """A real OpenSSH server on a free loopback port (key login, SFTP), stopped afterwards."""
    import getpass
    import shutil

    binary = shutil.which("sshd") or "/usr/sbin/sshd"
    if not Path(binary).exists():
        pytest.skip("OpenSSH's sshd is not installed (scripts/install --test installs it)")
    folder = tmp_path / "ssh"
    folder.mkdir()
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                        str(folder / name)], check=True)
    (folder / "authorized_keys").write_text((folder / "client.pub").read_text())
    port = free_port()
    (folder / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\n")
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(exist_ok=True)  # sshd's privilege separation directory
    proc = processes.spawn([binary, "-D", "-e", "-f", str(folder / "sshd_config")],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    import socket

    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
            time.sleep(0.1)
        host_key = " ".join((folder / "host.pub").read_text().split()[:2])
        yield {"url": f"sftp://{getpass.getuser()}@127.0.0.1:{port}{tmp_path / 'remote'}",
               "key": str(folder / "client"), "host_key": host_key}
    finally:
        processes.stop(proc, timeout=10)  # with its sessions' processes


@pytest.mark.server
def test_replicate_over_sftp_and_restore_from_it(db_path: Path, tmp_path: Path, sshd,
                                                 monkeypatch):
    """--replicate-to sftp://... to a real sshd (host key checked), then restore from there."""
    monkeypatch.setenv("CHECKIN_SFTP_KEY", sshd["key"])
    monkeypatch.setenv("CHECKIN_SFTP_HOST_KEY", sshd["host_key"])
    (tmp_path / "remote").mkdir()
    token = add_device(connect(db_path), "Door", "scanner")["token"]
    server = LiveServer(db_path, free_port(), tmp_path / "s.log",
                        ("--http", "--host", "127.0.0.1", "--replicate-to", sshd["url"]))
    server.start()
    try:
        sent = [scan_item(c) for c in codes(db_path)[:25]]
        response = requests.post(server.url + "/api/v1/scans", json={"scans": sent},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=10)
        assert response.status_code == 200
        deadline = time.monotonic() + 20
        while continuity_status(db_path)["state"] != "ok":
            assert time.monotonic() < deadline, (tmp_path / "s.log").read_text()[-2000:]
            time.sleep(0.2)
        time.sleep(1)  # past Litestream's 100 ms sync interval
        log = (tmp_path / "s.log").read_text()
        assert "host key not verified" not in log
        assert "copy the CA folder once to the standby" in log
    finally:
        server.stop()
    restored = tmp_path / "standby" / "event.db"
    result = CliRunner().invoke(cli, ["restore", "--from", sshd["url"], "--db", str(restored)])
    assert result.exit_code == 0, result.output
    assert "No CA came with the replica" in result.output
    assert {s["id"] for s in sent} <= set(stored_scan_ids(restored))


@pytest.mark.server
def test_two_servers_on_one_message_queue_both_serve(db_path: Path, tmp_path: Path,
                                                     monkeypatch):
    """CHECKIN_MESSAGE_QUEUE (serve --message-queue) on both: the second is not refused."""
    import shutil

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    # A real queue: once the servers use it (issue 9), they must be able to reach it.
    port = free_port()
    redis = processes.spawn(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL)
    monkeypatch.setenv("CHECKIN_MESSAGE_QUEUE", f"redis://127.0.0.1:{port}/0")
    first = LiveServer(db_path, free_port(), tmp_path / "a.log")
    second = LiveServer(db_path, free_port(), tmp_path / "b.log")
    try:
        first.start()  # a failed start stops all of that server itself
        second.start()
        try:
            assert "running beside it" in (tmp_path / "b.log").read_text()
            assert holder(db_path)["pid"] == first.proc.pid
        finally:
            second.stop()
        assert holder(db_path)["pid"] == first.proc.pid  # the second left the lock alone
    finally:
        first.stop()
        processes.stop(redis, timeout=10)


def test_restore_brings_the_ca_and_never_overwrites_another(db_path: Path, tmp_path: Path):
    from checkin.continuity.replication import copy_tls, replicate_once
    from checkin.tls.certs import ensure_certificates

    replica = tmp_path / "usb"
    problem = replicate_once(db_path, str(replica))
    assert problem is None, problem
    ensure_certificates(db_path.parent / "tls", ["127.0.0.1"])
    assert copy_tls(db_path.parent / "tls", str(replica)) == replica / "tls"
    ca = (db_path.parent / "tls" / "ca.crt").read_bytes()

    result = CliRunner().invoke(cli, ["restore", "--from", str(replica), "--db",
                                      str(tmp_path / "standby" / "event.db")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "standby" / "tls" / "ca.crt").read_bytes() == ca
    assert oct((tmp_path / "standby" / "tls" / "ca.key").stat().st_mode & 0o777) == "0o600"
    assert len(codes(tmp_path / "standby" / "event.db")) == 60

    other = tmp_path / "laptop2"
    ensure_certificates(other / "tls", ["127.0.0.1"])  # this machine's own, different CA
    theirs = (other / "tls" / "ca.crt").read_bytes()
    result = CliRunner().invoke(cli, ["restore", "--from", str(replica), "--db",
                                      str(other / "event.db")])
    assert result.exit_code == 0, result.output
    assert f"serve with --tls-dir {replica / 'tls'}" in result.output
    assert (other / "tls" / "ca.crt").read_bytes() == theirs
