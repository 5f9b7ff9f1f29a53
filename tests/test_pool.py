"""Issue 19: organiser work runs in the pool's worker processes, never in the door's process.

One real server (`checkin serve`, gevent) on the large event of `checkin.demo.scale` (5,000
people, 150,000 scans), real HTTP: a tablet's scans are answered in time while a lists PDF
and the attendance exports are made; a cancelled job's worker is gone and replaced; the
streamed CSV is the attendance report; the door's process does not grow while it streams.
"""

from __future__ import annotations

import io
import os
import re
import threading
import time
import uuid
import zipfile
from pathlib import Path

import pytest
import requests

from checkin.auth.accounts import add_organiser
from checkin.core.db import connect
from checkin.core.event import event_zone
from checkin.core.jobs import job_state, jobs_folder
from checkin.core.pool import POOL_SIZE
from checkin.demo.scale import build_scale_event
from checkin.devices import add_device
from checkin.reports import GROUP_COLUMNS, PARTICIPANT_COLUMNS, attendance, csv_pieces
from checkin.reports.times import csv_rows
from tests.conftest import ORGANISER, LiveServer, free_port

pytestmark = [pytest.mark.server, pytest.mark.slow]

PEOPLE, SCANS = 5000, 150_000


class Big:
    """The large event's server, its door tablet and an organiser's session."""

    def __init__(self, path: Path, server: LiveServer, token: str, codes: list[str]):
        self.path, self.server, self.token, self.codes = path, server, token, codes
        self.url = server.url
        self.organiser = requests.Session()
        html = self.organiser.get(self.url + "/login", timeout=30).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        answer = self.organiser.post(self.url + "/login", timeout=30, allow_redirects=False,
                                     data={"username": ORGANISER[0], "password": ORGANISER[1],
                                           "csrf_token": csrf})
        assert answer.status_code == 302
        html = self.organiser.get(self.url + "/participants", timeout=30).text
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def worker(self) -> int:
        """The gunicorn worker process: the door's process."""
        found = [pid for pid in _children(self.server.proc.pid)
                 if "checkin.continuity.keeper" not in _cmdline(pid)]
        assert len(found) == 1, found
        return found[0]

    def pool(self) -> list[int]:
        """The pool's worker processes (children of the door's process)."""
        return [pid for pid in _children(self.worker()) if "worker_main" in _cmdline(pid)]

    def scan(self, session: requests.Session, n: int) -> float:
        """Send one scan at the entrance; return how long its answer took, in ms."""
        body = {"scans": [{"id": str(uuid.uuid4()), "code": self.codes[n % len(self.codes)],
                           "checkpoint": "entrance", "direction": "in" if n % 2 else "out",
                           "at": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())}]}
        began = time.perf_counter()
        answer = session.post(self.url + "/api/v1/scans", json=body, timeout=30,
                              headers={"Authorization": f"Bearer {self.token}"})
        took = (time.perf_counter() - began) * 1000
        assert answer.status_code == 200, answer.text
        return took

    def door_in_time_while(self, work: list[threading.Thread]) -> None:
        """Scan at the door every 30 ms while `work` runs; each answer within 100 ms (a
        twentieth allowed a moment of the shared machine, as in the first test)."""
        door = requests.Session()
        self.scan(door, 0)  # the connection is open before the work starts
        for thread in work:
            thread.start()
        times, n = [], 1
        while any(thread.is_alive() for thread in work):
            times.append(self.scan(door, n))
            n += 1
            time.sleep(0.03)
        for thread in work:
            thread.join()
        late = [round(t) for t in times if t > 100]
        assert len(late) <= len(times) // 20, (late, len(times))
        assert len(times) >= 10, times

    def start_job(self, path: str) -> dict:
        """Start an output as a job, as the page does."""
        answer = self.organiser.post(self.url + path, timeout=30,
                                     headers={"X-CSRFToken": self.csrf})
        assert answer.status_code == 202, answer.text
        return answer.json()


def _children(pid: int) -> list[int]:
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                found.append(int(name))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, ended but not reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for {pid}")


@pytest.fixture(scope="module")
def big(tmp_path_factory):
    """The 5,000-person, 150,000-scan event served by the real server, shared by the module
    (module-scoped, so started before each test's check for processes left running)."""
    folder = tmp_path_factory.mktemp("pool")
    path = folder / "event.db"
    build_scale_event(path, people=PEOPLE, scans=SCANS)
    db = connect(path)
    add_organiser(db, *ORGANISER)
    token = add_device(db, "Door", "scanner", "entrance")["token"]
    codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id LIMIT 500")]
    db.conn.close()
    server = LiveServer(path, free_port(), folder / "server.log", start_timeout=120)
    server.start()
    try:
        big = Big(path, server, token, codes)
        yield big
        # Stopped as a user stops it (SIGTERM to the server alone): its pool goes with it.
        deadline = time.monotonic() + 30  # a cancelled job's worker is being replaced
        while len(big.pool()) != POOL_SIZE and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = big.pool()
        assert len(workers) == POOL_SIZE
        server.proc.terminate()
        server.proc.wait(60)
        deadline = time.monotonic() + 10
        while any(_alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(p) for p in workers), workers
    finally:
        server.stop()


def test_the_door_answers_in_time_while_lists_and_exports_are_made(big):
    """The issue's "done when": scans answered within 100 ms while the lists PDF and the
    attendance exports of the large event are being produced."""
    results: dict[str, requests.Response] = {}

    def fetch(path: str) -> None:
        results[path] = big.organiser.get(big.url + path, timeout=600)

    work = [threading.Thread(target=fetch, args=(p,)) for p in
            ("/lists.pdf?arrived=1", "/reports/attendance.xlsx", "/reports/attendance.csv")]
    door = requests.Session()
    big.scan(door, 0)  # the connection is open before the work starts
    for thread in work:
        thread.start()
    times, n = [], 1
    # Scanning while the lists PDF (the longest) is still being made.
    while work[0].is_alive():
        times.append(big.scan(door, n))
        n += 1
        time.sleep(0.1)
    for thread in work:
        thread.join()
    assert results["/lists.pdf?arrived=1"].status_code == 200
    assert results["/lists.pdf?arrived=1"].content.startswith(b"%PDF")
    assert zipfile.is_zipfile(io.BytesIO(results["/reports/attendance.xlsx"].content))
    assert results["/reports/attendance.csv"].text.count("\r\n") == PEOPLE + 1
    assert len(times) >= 10, times
    # Each scan within 100 ms. The machine these tests run on is shared with other test
    # runs; a scan that met such a moment is allowed 1 s (the door waited 9-12 s before).
    late = [round(t) for t in times if t > 100]
    assert len(late) <= len(times) // 20, (late, len(times))
    assert max(times) < 1000, max(times)


def test_the_door_answers_in_time_while_organisers_sign_in(big):
    """Signing in costs about 0.1 s of scrypt, and lands on the participants page of 5,000
    people: neither may hold the door (both ran on the door's loop at first)."""
    signed_in: list[int] = []

    def sign_in() -> None:
        for _ in range(5):
            tab = requests.Session()
            html = tab.get(big.url + "/login", timeout=60).text
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
            landed = tab.post(big.url + "/login", timeout=60, data={
                "username": ORGANISER[0], "password": ORGANISER[1], "csrf_token": csrf})
            assert landed.url.endswith("/participants"), landed.url
            signed_in.append(landed.status_code)

    big.door_in_time_while([threading.Thread(target=sign_in) for _ in range(4)])
    assert signed_in == [200] * 20


def test_the_door_answers_in_time_while_tablets_fetch_the_roster(big):
    """Three tablets fetch the offline roster of 5,000 people (sealed entry by entry: about
    0.15 s of CPU each) over and over while the door scans: it is made in the pool."""
    db = connect(big.path)
    tokens = [add_device(db, f"Tablet {n}", "scanner")["token"] for n in range(3)]
    db.conn.close()
    sizes: list[int] = []

    def fetch(token: str) -> None:
        tablet = requests.Session()
        for _ in range(4):
            answer = tablet.get(big.url + "/api/v1/roster", timeout=60,
                                headers={"Authorization": f"Bearer {token}"})
            assert answer.status_code == 200, answer.text[:200]
            sizes.append(len(answer.json()["entries"]))

    big.door_in_time_while([threading.Thread(target=fetch, args=(t,)) for t in tokens])
    # Every issued code has its sealed entry (the demo's reissued ones too).
    assert len(sizes) == 12 and min(sizes) >= PEOPLE, sizes


def test_a_cancelled_job_stops_its_worker_and_leaves_no_stray_process(big):
    """Badges for everyone as a job: progress counts the badges; cancel kills the worker's
    job, the pool replaces the worker, and nothing else of the job is left."""
    before = set(big.pool())
    assert len(before) == POOL_SIZE
    job = big.start_job("/participants/badges.pdf")
    seen = {}
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        seen = big.organiser.get(big.url + job["url"], timeout=30).json()
        if seen["done"]:
            break
        time.sleep(0.2)
    assert seen["status"] == "running" and seen["total"] == PEOPLE and seen["done"] > 0, seen
    assert "5,000" in seen["text"]
    pid = job_state(big.path, job["id"])["pid"]
    assert pid in before
    answer = big.organiser.delete(big.url + job["url"], timeout=30,
                                  headers={"X-CSRFToken": big.csrf})
    assert answer.status_code == 200 and answer.json()["status"] == "cancelled"
    deadline = time.monotonic() + 30
    while (_alive(pid) or len(big.pool()) != POOL_SIZE) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pid)
    after = set(big.pool())
    assert len(after) == POOL_SIZE and pid not in after, (before, after)
    assert big.organiser.get(big.url + job["url"], timeout=30).json()["status"] == "cancelled"
    assert not (jobs_folder(big.path) / job["id"] / "output").exists()
    assert big.organiser.get(big.url + f"/jobs/{job['id']}/file", timeout=30).status_code == 404
    # The replacement works.
    answer = big.organiser.get(big.url + "/reports/attendance-groups.csv", timeout=300)
    assert answer.status_code == 200 and answer.text.startswith("\ufeffkind,")


def test_the_streamed_csv_is_the_attendance_report(big):
    db = connect(big.path)
    try:
        report, zone = attendance(db), event_zone(db)
    finally:
        db.conn.close()
    for path, part, columns in (("/reports/attendance.csv", "participants", PARTICIPANT_COLUMNS),
                                ("/reports/attendance-groups.csv", "totals", GROUP_COLUMNS)):
        answer = big.organiser.get(big.url + path, timeout=300)
        assert answer.status_code == 200
        # Streamed: sent in chunks as the worker writes them, its length unknown beforehand.
        assert "Content-Length" not in answer.headers
        assert answer.headers["Transfer-Encoding"] == "chunked"
        expected = "\ufeff" + "".join(csv_pieces(csv_rows(report[part], zone), columns))
        assert answer.content.decode("utf-8") == expected


def test_the_door_process_stays_flat_while_an_export_streams(big):
    """The door's process passes the CSV on piece by piece: read slowly, it never holds the
    file (about 0.6 MB here) nor the log, and its resident memory does not grow."""
    worker = big.worker()
    before = _rss_mb(worker)
    peak = before
    with big.organiser.get(big.url + "/reports/attendance.csv", stream=True,
                           timeout=300) as answer:
        size = 0
        for piece in answer.iter_content(16 * 1024):
            size += len(piece)
            peak = max(peak, _rss_mb(worker))
            time.sleep(0.005)
    assert size > 500_000
    assert peak - before < 10, (before, peak)


def test_a_cancelled_import_rolls_back_and_keeps_the_upload(big):
    """An import of 5,000 people as a job: cancelled while it writes, its worker dies inside
    the transaction, nothing is imported, and the upload is still there to import."""
    import random

    from checkin.demo.scale import scale_participants_csv

    def stored() -> tuple:
        db = connect(big.path)
        try:
            return tuple(db.execute("SELECT count(*), max(id), max(updated_at) "
                                    "FROM participants").fetchone())
        finally:
            db.conn.close()

    before = stored()
    data = scale_participants_csv(PEOPLE, random.Random(99)).encode()
    page = big.organiser.post(big.url + "/participants/upload", timeout=300,
                              headers={"X-CSRFToken": big.csrf},
                              files={"file": ("Teilnehmer.csv", data)}).text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    answer = big.organiser.post(big.url + "/participants/upload/confirm", timeout=60,
                                data={"token": token, "csrf_token": big.csrf},
                                headers={"Accept": "application/json"})
    assert answer.status_code == 202, answer.text
    job = answer.json()
    seen, deadline = job, time.monotonic() + 300
    while not seen["done"] and seen["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        seen = big.organiser.get(big.url + job["url"], timeout=30).json()
    assert seen["status"] == "running" and 0 < seen["done"] < seen["total"] == PEOPLE, seen
    pid = job_state(big.path, job["id"])["pid"]
    big.organiser.delete(big.url + job["url"], headers={"X-CSRFToken": big.csrf}, timeout=30)
    deadline = time.monotonic() + 30
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    ended = big.organiser.get(big.url + job["url"], timeout=30).json()
    assert ended["status"] == "cancelled" and ended["after"], ended
    assert stored() == before
    page = big.organiser.get(big.url + ended["after"], timeout=300).text
    assert "The import was cancelled; nothing was imported." in page
    assert f'name="token" value="{token}"' in page


def test_the_summary_never_waits_behind_long_jobs(big):
    """Two long jobs hold every worker long work may have: the summary still gets one."""
    # Two badge PDFs of 5,000 people: the lists PDF now ends within a second, before the
    # summary's answer would show that both slots were still held.
    jobs = [big.start_job("/participants/badges.pdf"), big.start_job("/participants/badges.pdf")]
    try:
        deadline = time.monotonic() + 120
        while not all(job_state(big.path, j["id"])["pid"] for j in jobs) \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        answer = big.organiser.get(big.url + "/reports/summary", timeout=300)
        assert answer.status_code == 200 and 'id="n-registered">5000<' in answer.text
        states = [big.organiser.get(big.url + j["url"], timeout=30).json() for j in jobs]
        assert [s["status"] for s in states] == ["running", "running"], states
        # The long jobs' workers at idle priority, the quick one (the summary's) above them
        # and still far below the door: nice 19 in the normal policy.
        busy = {job_state(big.path, j["id"])["pid"] for j in jobs}
        policies = {pid: os.sched_getscheduler(pid) for pid in big.pool()}
        assert {policies[pid] for pid in busy} == {os.SCHED_IDLE}, policies
        quick = [pid for pid in big.pool() if pid not in busy]
        assert len(quick) == POOL_SIZE - 2, (quick, busy)
        assert [(policies[pid], os.getpriority(os.PRIO_PROCESS, pid)) for pid in quick] == \
            [(os.SCHED_OTHER, 19)], policies
    finally:
        for job in jobs:
            big.organiser.delete(big.url + job["url"], headers={"X-CSRFToken": big.csrf},
                                 timeout=30)
