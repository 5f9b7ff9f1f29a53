"""The drill: the primary, replicating to a folder, dies by SIGKILL while devices scan; the event
is restored on a standby, which serves at the same address with the same CA; the devices notice
the new instance, re-send what they sent lately, and every scan is stored exactly once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from checkin.continuity.replication import status_path
from checkin.core.db import connect
from checkin.devices import add_device
from tests import processes
from tests.conftest import free_port

DEVICES = 3


class Server:
    """`checkin serve` (HTTPS) in its own process group, so the whole laptop can be killed."""

    def __init__(self, db_path: Path, port: int, *args: str):
        self.db_path, self.port = db_path, port
        self.url = f"{'http' if '--http' in args else 'https'}://127.0.0.1:{port}"
        self.log_path = db_path.parent / f"serve-{port}-{time.monotonic_ns()}.log"
        self.log = self.log_path.open("wb")
        self.proc = processes.spawn(
            [sys.executable, "-m", "checkin.cli", "--db", str(db_path), "serve",
             "--host", "127.0.0.1", "--port", str(port), *args],
            stdout=self.log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 40
            while "Stop with Ctrl+C." not in self.output():
                assert self.proc.poll() is None, self.output()[-3000:]
                assert time.monotonic() < deadline, self.output()[-3000:]
                time.sleep(0.1)
        except BaseException:
            self.stop()  # a server that failed to start leaves no process behind
            raise

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def kill(self) -> None:
        """Kill every process of the server at once, as a dying laptop does (Litestream too,
        which runs in a session of its own: no last sync)."""
        processes.kill(self.proc)
        self.log.close()

    def stop(self) -> None:
        processes.stop(self.proc, timeout=15)
        self.log.close()


class Device:
    """A scanner as the protocol asks: a durable queue, and what it sent in the last hours,
    re-sent when the server's instance id changes."""

    def __init__(self, url: str, token: str, ca: Path, codes: list[str]):
        self.url, self.codes = url, codes
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        # The primary's CA, and only it (else REQUESTS_CA_BUNDLE would silently override it).
        self.session.trust_env = False
        self.session.verify = str(ca)
        self.queue: list[dict] = []
        self.sent: list[dict] = []
        self.acked_at: dict[str, float] = {}
        self.instance: str | None = None
        self.instances: list[str] = []
        self.made = 0
        self.last_error = ""
        self.errors: set[str] = set()

    def scan(self) -> None:
        self.made += 1
        self.queue.append({"id": str(uuid.uuid4()), "code": self.codes[self.made % 60],
                           "checkpoint": "entrance", "direction": "in" if self.made % 3 else "out",
                           "at": datetime.now(UTC).isoformat()})

    def flush(self) -> bool:
        """Send the queue oldest first; False when the server cannot be reached."""
        while self.queue:
            batch = self.queue[:20]
            try:
                response = self.session.post(self.url + "/api/v1/scans",
                                             json={"scans": batch}, timeout=5)
            except requests.RequestException as exc:
                self.last_error = repr(exc)
                self.errors.add(repr(exc)[:300])
                return False
            instance = response.headers.get("X-Checkin-Instance")
            if instance and instance != self.instance:
                if self.instance is not None:
                    # A new instance (a restore): what it may have lost goes out again first.
                    self.queue = self.sent + self.queue
                    self.sent = []
                self.instance = instance
                self.instances.append(instance)
                continue
            if response.status_code != 200:
                self.last_error = response.text
                return False
            now = time.monotonic()
            for item in batch:
                self.acked_at.setdefault(item["id"], now)
            self.sent += batch
            del self.queue[:len(batch)]
        return True


def run_devices(devices: list[Device], stop: threading.Event) -> list[threading.Thread]:
    def loop(device: Device) -> None:
        while not stop.is_set():
            device.scan()
            if not device.flush():
                time.sleep(0.05)

    threads = [threading.Thread(target=loop, args=(d,), daemon=True) for d in devices]
    for t in threads:
        t.start()
    return threads


def stored_ids(db_path: Path) -> list[str]:
    conn = sqlite3.connect(db_path)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM scans")]
    finally:
        conn.close()


@pytest.mark.server
def test_drill_kill_restore_resend(db_path: Path, tmp_path: Path):
    db = connect(db_path)
    tokens = [add_device(db, f"Door {i}", "scanner")["token"] for i in range(DEVICES)]
    codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
    db.conn.close()
    replica = tmp_path / "usb" / "replica"
    port = free_port()
    primary = Server(db_path, port, "--replicate-to", str(replica))
    try:
        ca = tmp_path / "device-trusts-this-ca.crt"
        ca.write_bytes((db_path.parent / "tls" / "ca.crt").read_bytes())
        deadline = time.monotonic() + 20
        while '"last_synced": "' not in (status_path(db_path).read_text()
                                         if status_path(db_path).exists() else ""):
            assert time.monotonic() < deadline, primary.output()[-2000:]
            time.sleep(0.1)
        devices = [Device(primary.url, t, ca, codes) for t in tokens]
        stop = threading.Event()
        threads = run_devices(devices, stop)
        time.sleep(3)
        primary.kill()
        killed_at = time.monotonic()
    except BaseException:
        primary.stop()
        raise
    try:
        time.sleep(1)  # the devices go on scanning into their queues
        before_restore = sum(len(d.sent) for d in devices)
        assert before_restore > 50, ([d.errors for d in devices], primary.output()[-3000:])
        # The standby: restore from the replica into another folder.
        standby = tmp_path / "standby" / "event.db"
        restore = subprocess.run(
            [sys.executable, "-m", "checkin.cli", "restore", "--from", str(replica),
             "--db", str(standby)], capture_output=True, text=True, timeout=120)
        assert restore.returncode == 0, restore.stderr
        assert "certificate authority" in restore.stdout
        # Litestream's promise: everything acknowledged more than 1 s before the death.
        restored = set(stored_ids(standby))
        old_enough = {i for d in devices for i, at in d.acked_at.items()
                      if at < killed_at - 1.0}
        assert old_enough and old_enough <= restored, len(old_enough - restored)
        acked = {i for d in devices for i in d.acked_at}
        print(f"drill: {len(acked)} scans acknowledged before the kill, "
              f"{len(acked - restored)} of them missing from the replica (all within the last "
              f"second), {len(restored)} restored")
        # The standby takes over the address; the devices trust it with the primary's CA.
        second = Server(standby, port)
        try:
            time.sleep(2)
            stop.set()
            for t in threads:
                t.join(30)
            for d in devices:
                for _ in range(50):
                    if d.flush():
                        break
                    time.sleep(0.2)
                assert not d.queue
                assert len(d.instances) == 2, d.instances
        finally:
            second.stop()
    finally:
        stop.set()
    made = [i for d in devices for i in d.acked_at]
    assert len(made) == len(set(made)) == sum(d.made for d in devices)
    final = stored_ids(standby)
    assert len(final) == len(set(final))
    assert set(final) == set(made)  # every scan, exactly once


@pytest.mark.browser
@pytest.mark.server
def test_drill_with_the_scanner_page(db_path: Path, tmp_path: Path, browser):
    """The scanner page in Chromium: the replica lags behind the last scans, the primary dies,
    the page queues offline; on the restored standby it re-sends what the replica lacked."""
    from tests.test_scanner_browser import (
        TABLET,
        new_device,
        pair,
        people,
        start_scanning,
        type_code,
        wait_js,
        watch,
    )

    folks = people(db_path, 9, offset=30)
    replica = tmp_path / "replica"
    port = free_port()
    primary = Server(db_path, port, "--http", "--replicate-to", str(replica))
    context = browser.new_context(viewport=TABLET)
    try:
        page = context.new_page()
        problems = watch(page)
        pair(page, primary.url, new_device(db_path, "Door"))
        start_scanning(page, direction="in")
        wait_js(page, "CheckinStore.metaGet('roster_at').then(v => !!v)")
        for person in folks[:3]:
            type_code(page, person["code"])
            assert "Saved offline" not in shown(page, person["name"])
        # The replica as it stood then: the standby will restore from this older point.
        deadline = time.monotonic() + 15
        while len(stored_ids_in_replica(replica, tmp_path)) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.2)
        lagging = tmp_path / "lagging-replica"
        import shutil

        shutil.copytree(replica, lagging)
        for person in folks[3:6]:
            type_code(page, person["code"])
            assert "Saved offline" not in shown(page, person["name"])
        primary.kill()
    except BaseException:
        primary.stop()
        context.close()
        raise
    try:
        for person in folks[6:]:
            type_code(page, person["code"])
            assert "Saved offline" in shown(page, person["name"])
        standby = tmp_path / "standby" / "event.db"
        restore = subprocess.run(
            [sys.executable, "-m", "checkin.cli", "restore", "--from", str(lagging),
             "--db", str(standby)], capture_output=True, text=True, timeout=120)
        assert restore.returncode == 0, restore.stderr
        assert len(stored_ids(standby)) == 3  # the replica's point: 3 scans behind the page
        second = Server(standby, port, "--http")
        try:
            deadline = time.monotonic() + 60
            while len(stored_ids(standby)) < 9:
                assert time.monotonic() < deadline, len(stored_ids(standby))
                time.sleep(0.3)
            page.wait_for_selector("#waiting[data-count='0']", state="attached", timeout=30000)
            time.sleep(2)  # nothing more arrives: each scan exactly once
        finally:
            second.stop()
        conn = sqlite3.connect(standby)
        per_person = dict(conn.execute(
            "SELECT participant_id, count(*) FROM scans GROUP BY participant_id").fetchall())
        conn.close()
        assert per_person == {p["id"]: 1 for p in folks}
        assert problems == []
    finally:
        context.close()


def shown(page, name: str, timeout: float = 20) -> str:
    """Wait until the scanner's answer names `name` (as accepted) and return its text."""
    deadline = time.monotonic() + timeout
    while True:
        text = page.inner_text("#result")
        if name in text and page.get_attribute("#result", "data-status") == "accepted":
            return text
        assert time.monotonic() < deadline, text
        time.sleep(0.1)


def stored_ids_in_replica(replica: Path, tmp_path: Path) -> list[str]:
    """Restore the replica into a scratch file and return its scan ids."""
    out = tmp_path / f"peek-{time.monotonic_ns()}.db"
    subprocess.run([sys.executable, "-m", "checkin.cli", "restore", "--from", str(replica),
                    "--db", str(out)], capture_output=True, check=False, timeout=60)
    return stored_ids(out) if out.exists() else []


@pytest.mark.browser
@pytest.mark.server
def test_guide_page_resends_to_a_restored_server(live_server, browser, db_path: Path,
                                                 tmp_path: Path):
    """A guide confirms someone and departs; the server is restored from a backup made
    before that; the phone sees the new instance and sends both again, each stored once."""
    import re

    from checkin.core.backup import backup

    db = connect(db_path)
    device = add_device(db, "Guide Forum", "guide", "excursion:forum")
    first = db.execute("SELECT id, first_name || ' ' || last_name FROM participants "
                       "WHERE excursion = 'forum' ORDER BY last_name LIMIT 1").fetchone()
    db.conn.close()
    page = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True,
                               locale="en").new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/pair/" + device["pairing_code"])
    page.wait_for_url(re.compile(r".*/guide$"), timeout=15000)
    page.wait_for_selector("#roster .person")
    before = backup(db_path, tmp_path / "before.db")  # the replica's point: paired, nothing more

    page.locator(f".person[data-id='{first[0]}']").click()
    page.click("#depart")
    page.click("#depart-yes")

    def counts(path: Path) -> tuple[int, int]:
        conn = sqlite3.connect(path)
        try:
            return (conn.execute("SELECT count(*) FROM scans WHERE participant_id = ? AND "
                                 "checkpoint = 'excursion:forum'", [first[0]]).fetchone()[0],
                    conn.execute("SELECT count(*) FROM excursion_events WHERE action = "
                                 "'depart'").fetchone()[0])
        finally:
            conn.close()

    deadline = time.monotonic() + 20
    while counts(db_path) != (1, 1):
        assert time.monotonic() < deadline, counts(db_path)
        time.sleep(0.2)
    live_server.stop()
    restore = subprocess.run(
        [sys.executable, "-m", "checkin.cli", "restore", "--from", str(before), "--db",
         str(db_path), "--force"], capture_output=True, text=True, timeout=120)
    assert restore.returncode == 0, restore.stderr
    assert counts(db_path) == (0, 0)
    live_server.start()  # the same address
    deadline = time.monotonic() + 45
    while counts(db_path) != (1, 1):
        assert time.monotonic() < deadline, counts(db_path)
        time.sleep(0.3)
    page.wait_for_function("() => document.querySelector('#status').dataset.status === "
                           "'departed'", timeout=20000)
    time.sleep(2)
    assert counts(db_path) == (1, 1)  # exactly once
    assert errors == []
