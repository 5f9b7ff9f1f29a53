"""Several devices scanning the same people at once through the real server: nothing lost,
nothing doubled, counts exact."""

from __future__ import annotations

import random
import threading
import uuid
from collections import defaultdict

import pytest
import requests

from checkin.core.db import connect
from checkin.devices import add_device
from checkin.scans import rebuild_locations
from checkin.scans.projections import PROJECTIONS
from tests.test_scans import recount

DEVICES = 6
PEOPLE = 30


def _plan(codes: list[str], rng: random.Random) -> list[dict]:
    """Each person's morning as scans, in the order they happen (device times one apart)."""
    rooms = ["room:raadzaal", "room:kamer-a", "room:kamer-b", "room:kamer-c"]
    scans = []
    for n, code in enumerate(codes):
        steps = [("entrance", "in")]
        steps += [(rng.choice(rooms), rng.choice(["in", "in", "out"])) for _ in range(3)]
        if n % 3 == 0:
            steps += [("entrance", "out"), ("entrance", "in")]
        if n % 4 == 0:
            steps.append(("entrance", "out"))
        for step, (cp, direction) in enumerate(steps):
            scans.append({"id": str(uuid.uuid4()), "code": code, "checkpoint": cp,
                          "direction": direction,
                          "at": f"2019-11-12T08:{step:02d}:{n:02d}.000Z"})
    return scans


@pytest.mark.server
def test_concurrent_devices_store_each_scan_once_and_count_exactly(live_server):
    db = connect(live_server.db_path)
    tokens = [add_device(db, f"Tablet {n}", "scanner")["token"] for n in range(DEVICES)]
    codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id LIMIT ?",
                                      [PEOPLE])]
    rng = random.Random(2019)
    plan = _plan(codes, rng)
    # Every scan belongs to one device; each device also re-sends a third of all scans
    # (same id, same content, its own owner's token) as a flaky network would.
    owner = {s["id"]: rng.randrange(DEVICES) for s in plan}
    work: list[list[tuple[str, dict]]] = [[] for _ in range(DEVICES)]
    for s in plan:
        work[owner[s["id"]]].append((tokens[owner[s["id"]]], s))
        for other in rng.sample(range(DEVICES), 2):
            if rng.random() < 0.33:
                work[other].append((tokens[owner[s["id"]]], s))
    for queue in work:
        rng.shuffle(queue)

    answers: dict[str, list[dict]] = defaultdict(list)
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(DEVICES)

    def batches(queue: list[tuple[str, dict]]) -> list[tuple[str, list[dict]]]:
        """Cut a queue into requests of 1 to 20 scans; one request carries one token."""
        out, i = [], 0
        while i < len(queue):
            size, token, chunk = rng.choice([1, 1, 1, 5, 20]), queue[i][0], []
            while i < len(queue) and len(chunk) < size and queue[i][0] == token:
                chunk.append(queue[i][1])
                i += 1
            out.append((token, chunk))
        return out

    def device(requests_to_send: list[tuple[str, list[dict]]]) -> None:
        session = requests.Session()
        start.wait()
        for token, chunk in requests_to_send:
            response = session.post(live_server.url + "/api/v1/scans", json={"scans": chunk},
                                    headers={"Authorization": f"Bearer {token}"}, timeout=30)
            with lock:
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text[:200]}")
                    continue
                for result in response.json()["results"]:
                    answers[result["id"]].append(result)

    threads = [threading.Thread(target=device, args=(batches(q),)) for q in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    # Every scan was answered; exactly one answer per id stored it; all answers agree.
    assert set(answers) == {s["id"] for s in plan}
    resent = 0
    for scan_id, results in answers.items():
        assert [r["duplicate"] for r in results].count(False) == 1, scan_id
        first = {k: v for k, v in results[0].items() if k != "duplicate"}
        assert all({k: v for k, v in r.items() if k != "duplicate"} == first for r in results)
        resent += len(results) > 1
    assert resent > len(plan) // 5
    stored = db.execute("SELECT count(*), count(DISTINCT id) FROM scans").fetchone()
    assert tuple(stored) == (len(plan), len(plan))
    # Headcounts over HTTP equal an independent recount from the log, and the projection
    # equals one rebuilt from scratch.
    counts = requests.get(live_server.url + "/api/v1/headcounts", timeout=10,
                          headers={"Authorization": f"Bearer {tokens[0]}"}).json()
    expected = recount(db)
    assert counts["arrived"] == expected["arrived"] == PEOPLE
    for cp in counts["checkpoints"]:
        assert cp["inside"] == expected["inside"].get(cp["id"], 0), cp["id"]
    before = {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()  # noqa: S608
              for t in PROJECTIONS}
    rebuild_locations(db)
    # Tallies at 0 are no count (a rebuild writes none): compare the rest.
    before["tallies"] = [r for r in before["tallies"] if r[2]]
    assert {t: db.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()  # noqa: S608
            for t in PROJECTIONS} == before
    db.conn.close()
