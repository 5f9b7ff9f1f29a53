"""Several server processes on one event, joined by a real redis-server as message queue."""

from __future__ import annotations

import random
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from checkin.core.db import connect
from checkin.devices import add_device
from tests import processes
from tests.conftest import LiveServer, free_port
from tests.test_live import Listener, _organiser_session, _person, _scan
from tests.test_scans import recount

pytestmark = pytest.mark.server

REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A throwaway redis-server on a free loopback port, stopped after the test."""
    import redis

    port = free_port()
    proc = processes.spawn([REDIS, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(tmp_path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url, socket_connect_timeout=1).ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        processes.stop(proc, timeout=10)


def _serve(db_path: Path, tmp_path: Path, *args: str) -> LiveServer:
    port = free_port()
    server = LiveServer(db_path, port, tmp_path / f"server-{port}.log",
                        ("--http", "--host", "127.0.0.1", *args))
    server.start()
    return server


def test_workers_without_a_message_queue_are_refused(db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checkin.cli", "--db", str(db_path), "serve", "--http",
         "--port", str(free_port()), "--workers", "2"],
        capture_output=True, text=True, timeout=60, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 2
    assert "--workers 2 needs a message queue" in result.stderr
    assert "--message-queue" in result.stderr


def test_an_unreachable_message_queue_is_refused(db_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "checkin.cli", "--db", str(db_path), "serve", "--http",
         "--port", str(free_port()), "--message-queue", f"redis://127.0.0.1:{free_port()}/0"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not answer" in result.stderr


def test_a_scan_on_one_server_reaches_a_display_on_the_other(db_path, tmp_path, redis_url):
    """Two `checkin serve` on one event with one queue: push and revocation cross over."""
    first = _serve(db_path, tmp_path, "--message-queue", redis_url)
    second = _serve(db_path, tmp_path, "--message-queue", redis_url)
    try:
        db = connect(db_path)
        tablet = add_device(db, "Entrance tablet", "scanner", "entrance")["token"]
        tv = add_device(db, "Hall TV", "display")
        db.conn.close()
        hall = Listener(second.url, auth={"token": tv["token"]}).connect()
        try:
            _, before = hall.wait_for("headcounts")
            person = _person(db_path)
            sent = time.monotonic()
            assert _scan(first.url, tablet, "entrance", code=person["code"]).status_code == 200
            at, counts = hall.wait_for("headcounts", lambda c: c["arrived"] == before["arrived"]
                                       + 1, after=sent, timeout=5)
            assert at - sent < 1.0, f"{at - sent:.2f} s from the scan to the other server"
            # Revoked on the first server's Devices page: the second server closes it.
            organiser = _organiser_session(first.url)
            page = organiser.get(first.url + "/devices", timeout=10).text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
            response = organiser.post(first.url + f"/devices/{tv['id']}/revoke",
                                      data={"csrf_token": token}, allow_redirects=False,
                                      timeout=10)
            assert response.status_code == 303
            deadline = time.monotonic() + 1.5
            while hall.client.connected and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not hall.client.connected
        finally:
            hall.close()
    finally:
        first.stop()
        second.stop()


DEVICES = 10


def test_four_workers_store_every_resent_scan_exactly_once(db_path, tmp_path, redis_url):
    """`--workers 4`: 10 devices send and re-send scans over new connections (so the
    kernel spreads them over the workers); each is stored once and a display connected to
    any worker ends on the exact counts."""
    server = _serve(db_path, tmp_path, "--workers", "4", "--message-queue", redis_url)
    try:
        db = connect(db_path)
        tokens = [add_device(db, f"Tablet {n}", "scanner")["token"] for n in range(DEVICES)]
        tv = add_device(db, "Hall TV", "display")["token"]
        codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
        db.conn.close()
        hall = Listener(server.url, auth={"token": tv}).connect()
        rng = random.Random(9)
        plan = []
        for n, code in enumerate(codes):
            for step, (cp, direction) in enumerate([("entrance", "in"),
                                                    ("room:raadzaal", "in"),
                                                    ("room:raadzaal", "out")][:1 + n % 3]):
                plan.append({"id": str(uuid.uuid4()), "code": code, "checkpoint": cp,
                             "direction": direction,
                             "at": f"2019-11-12T08:{step:02d}:{n % 60:02d}.000Z"})
        owner = {s["id"]: rng.randrange(DEVICES) for s in plan}
        work: list[list[dict]] = [[] for _ in range(DEVICES)]
        for s in plan:
            work[owner[s["id"]]].append(s)
            # A flaky network: each scan re-sent twice more by its owner.
            work[owner[s["id"]]] += [s, s]
        for queue in work:
            rng.shuffle(queue)
        answers: dict[str, list[dict]] = defaultdict(list)
        failures: list[str] = []
        lock = threading.Lock()

        def device(n: int) -> None:
            for scan in work[n]:
                response = requests.post(server.url + "/api/v1/scans", json={"scans": [scan]},
                                         headers={"Authorization": f"Bearer {tokens[n]}",
                                                  "Connection": "close"}, timeout=30)
                with lock:
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        continue
                    answers[scan["id"]].append(response.json()["results"][0])

        threads = [threading.Thread(target=device, args=(n,)) for n in range(DEVICES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        assert failures == []
        assert set(answers) == {s["id"] for s in plan}
        for scan_id, results in answers.items():
            assert len(results) == 3
            assert [r["duplicate"] for r in results].count(False) == 1, scan_id
        db = connect(db_path)
        stored = db.execute("SELECT count(*), count(DISTINCT id) FROM scans").fetchone()
        assert tuple(stored) == (len(plan), len(plan))
        expected = recount(db)
        db.conn.close()
        log = server.log_path.read_text()
        assert len(set(re.findall(r"Booting worker with pid: (\d+)", log))) == 4
        # The display, on whichever worker it landed, ends on the exact counts: the last
        # word after the settle check is the current state.
        hall.wait_for("headcounts", lambda c: c["arrived"] == expected["arrived"], timeout=5)
        time.sleep(1.0)
        last = hall.received("headcounts")[-1]
        assert last["arrived"] == expected["arrived"] == len(codes)
        for cp in last["checkpoints"]:
            assert cp["inside"] == expected["inside"].get(cp["id"], 0), cp["id"]
        hall.close()
    finally:
        server.stop()
