"""Issue 22: a model-based test of roll calls. Random door scans and moves between rooms, roll
calls started at random moments (online, or offline on a marshal's phone from its snapshot),
marshals' badge scans and taps, sent at once, queued offline and sent late, and sent twice.
After every step a small reference model in this file says who is missing, and the API, the
command line's `status --json` and the missing list's PDF must all say the same:
missing = expected − accounted.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from pypdf import PdfReader

from checkin import create_app
from checkin.cli import cli
from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.devices import add_device
from checkin.rollcall.pdf import missing_pdf

PEOPLE = 8
ROOMS = ("room:raadzaal", "room:kamer-a", "room:kamer-b")
POINTS = ("assembly:grote-markt", "assembly:vismarkt")


def at(minute: int) -> str:
    """The demo day's time `minute` minutes after 08:00 (UTC)."""
    return f"2019-11-12T{8 + minute // 60:02d}:{minute % 60:02d}:00.000Z"


class RollCalls(RuleBasedStateMachine):
    """The event through the real app; the model beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="rollcall-model-"))
        self.db_path = self.folder / "event.db"
        db = connect(self.db_path)
        create_demo(db, self.folder / "templates")
        self.people = [r[0] for r in db.execute(
            "SELECT id FROM participants ORDER BY id LIMIT ?", [PEOPLE])]
        self.codes = dict(db.execute("SELECT id, code FROM participants").fetchall())
        self.names = dict(db.execute("SELECT id, last_name FROM participants").fetchall())
        self.door = add_device(db, "Door", "scanner")["token"]
        self.marshals = [add_device(db, f"Marshal {n}", "marshal")["token"] for n in (1, 2)]
        db.conn.close()
        self.client = create_app({"TESTING": True, "DATABASE": str(self.db_path)}).test_client()
        self.minute = 0
        # The model: where each person is, and every roll call in the order they started.
        self.where: dict[int, str | None] = dict.fromkeys(self.people)
        self.rollcalls: list[dict] = []
        self.snapshot: list[dict] | None = None
        self.queue: list[tuple[str, dict]] = []  # offline: (kind, what) sent later
        self.sent: list[tuple[str, dict]] = []   # for sending again

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    # --------------------------------------------------------------------- helpers
    def tick(self) -> int:
        self.minute += 1
        return self.minute

    def post(self, token: str, path: str, body: dict):
        return self.client.post(path, json=body,
                                headers={"Authorization": f"Bearer {token}"})

    def present(self) -> set[int]:
        return {p for p, cp in self.where.items() if cp is not None}

    def running(self) -> dict | None:
        return next((r for r in self.rollcalls if r["ended"] is None), None)

    def window(self, minute: int) -> dict | None:
        """The roll call whose time contains `minute` (the latest that started by then)."""
        for r in reversed(self.rollcalls):
            if r["started"] <= minute and (r["ended"] is None or minute <= r["ended"]):
                return r
        return None

    def account(self, rollcall: dict | None, pid: int) -> None:
        if rollcall is not None and pid in rollcall["expected"]:
            rollcall["accounted"].add(pid)

    def door_scan(self, pid: int, checkpoint: str, direction: str) -> None:
        scan = {"id": str(uuid.uuid4()), "participant": pid, "checkpoint": checkpoint,
                "direction": direction, "at": at(self.tick())}
        response = self.post(self.door, "/api/v1/scans", {"scans": [scan]})
        assert response.status_code == 200, response.get_json()

    # --------------------------------------------------------------------- the door
    @rule(n=st.integers(0, PEOPLE - 1))
    def walk_in(self, n: int) -> None:
        pid = self.people[n]
        self.door_scan(pid, "entrance", "in")
        self.where[pid] = "entrance"

    @rule(n=st.integers(0, PEOPLE - 1), room=st.sampled_from(ROOMS))
    def into_room(self, n: int, room: str) -> None:
        pid = self.people[n]
        self.door_scan(pid, room, "in")
        self.where[pid] = room

    @rule(n=st.integers(0, PEOPLE - 1))
    def leave(self, n: int) -> None:
        pid = self.people[n]
        self.door_scan(pid, "entrance", "out")
        self.where[pid] = None

    # --------------------------------------------------------------------- starting
    @rule(m=st.integers(0, 1))
    def start_online(self, m: int) -> None:
        minute = self.tick()
        response = self.post(self.marshals[m], "/api/v1/rollcall", {"started_at": at(minute)})
        body = response.get_json()
        if self.running() is not None:
            assert response.status_code == 200 and body["running_already"] is True
            assert body["rollcall"]["id"] == self.running()["id"]
            return
        assert response.status_code == 201, body
        self.rollcalls.append({"id": body["rollcall"]["id"], "started": minute, "ended": None,
                               "expected": self.present(), "accounted": set()})

    @rule(m=st.integers(0, 1))
    def take_snapshot(self, m: int) -> None:
        response = self.client.get("/api/v1/rollcall/snapshot", headers={
            "Authorization": f"Bearer {self.marshals[m]}"})
        self.snapshot = response.get_json()["people"]
        assert {p["id"] for p in self.snapshot} == self.present()

    @precondition(lambda self: self.snapshot is not None)
    @rule(m=st.integers(0, 1))
    def start_offline(self, m: int) -> None:
        """A phone without the server starts from its snapshot; it reaches the server now."""
        minute = self.tick()
        phone_id = str(uuid.uuid4())
        expected = [{"participant_id": p["id"], "last_checkpoint": p["last_seen"]["checkpoint"],
                     "last_seen_at": p["last_seen"]["at"]} for p in self.snapshot]
        response = self.post(self.marshals[m], "/api/v1/rollcall", {
            "id": phone_id, "started_at": at(minute), "expected": expected})
        body = response.get_json()
        if self.running() is not None:
            assert body["running_already"] and body["rollcall"]["id"] == self.running()["id"]
            return
        assert response.status_code == 201 and body["rollcall"]["id"] == phone_id
        self.rollcalls.append({"id": phone_id, "started": minute, "ended": None,
                               "expected": {p["id"] for p in self.snapshot},
                               "accounted": set()})

    @precondition(lambda self: self.running() is not None)
    @rule(m=st.integers(0, 1))
    def end(self, m: int) -> None:
        minute = self.tick()
        running = self.running()
        response = self.post(self.marshals[m], f"/api/v1/rollcall/{running['id']}/end",
                             {"at": at(minute)})
        assert response.status_code == 200
        running["ended"] = minute

    # --------------------------------------------------------------------- accounting
    @rule(n=st.integers(0, PEOPLE - 1), point=st.sampled_from(POINTS), m=st.integers(0, 1),
          offline=st.booleans())
    def badge_at_assembly(self, n: int, point: str, m: int, offline: bool) -> None:
        pid = self.people[n]
        scan = {"id": str(uuid.uuid4()), "code": self.codes[pid], "checkpoint": point,
                "direction": "in", "at": at(self.tick()), "queued": offline}
        what = ("scan", {"token": self.marshals[m], "scan": scan, "pid": pid,
                         "minute": self.minute})
        if offline:
            self.queue.append(what)
        else:
            self.send(*what)

    @precondition(lambda self: self.rollcalls)
    @rule(n=st.integers(0, PEOPLE - 1), m=st.integers(0, 1), offline=st.booleans(),
          how=st.sampled_from(("tap", "elsewhere", "left")))
    def tap(self, n: int, m: int, offline: bool, how: str) -> None:
        rollcall = self.rollcalls[-1]
        pid = self.people[n]
        item = {"id": str(uuid.uuid4()), "participant_id": pid, "how": how,
                "reason": "" if how == "tap" else "seen by the fire brigade",
                "at": at(self.tick())}
        what = ("tap", {"token": self.marshals[m], "rollcall": rollcall, "item": item,
                        "minute": self.minute})
        if offline:
            self.queue.append(what)
        else:
            self.send(*what)

    @precondition(lambda self: self.queue)
    @rule()
    def back_online(self) -> None:
        """A marshal's phone reaches the server again and sends its queue, in order."""
        queued, self.queue = self.queue, []
        for kind, what in queued:
            self.send(kind, what)

    @precondition(lambda self: self.sent)
    @rule(k=st.integers(0, 1000))
    def send_again(self, k: int) -> None:
        """A phone that missed the answer sends the same scan or account again."""
        kind, what = self.sent[k % len(self.sent)]
        self.send(kind, what, again=True)

    def send(self, kind: str, what: dict, again: bool = False) -> None:
        if kind == "scan":
            response = self.post(what["token"], "/api/v1/scans", {"scans": [what["scan"]]})
            assert response.status_code == 200, response.get_json()
            result = response.get_json()["results"][0]
            assert result["duplicate"] is again
            rollcall = self.window(what["minute"])
            if rollcall is None:
                assert result["reason"] == "no_rollcall"
            elif what["pid"] not in rollcall["expected"]:
                assert result["reason"] == "not_expected"
            else:
                assert result["reason"] is None and result["detail"]["rollcall"] == \
                    rollcall["id"]
            if not again:
                self.account(rollcall, what["pid"])
        else:
            rollcall = what["rollcall"]
            response = self.post(what["token"], f"/api/v1/rollcall/{rollcall['id']}/accounts",
                                 {"accounts": [what["item"]]})
            if rollcall["ended"] is not None and what["minute"] > rollcall["ended"]:
                assert response.status_code == 409  # made after the end: refused
                return
            assert response.status_code == 200, response.get_json()
            status = response.get_json()["results"][0]["status"]
            pid = what["item"]["participant_id"]
            assert status == ("duplicate" if again else
                              "stored" if pid in rollcall["expected"] else "not_expected")
            self.account(rollcall, pid)
        if not again:
            self.sent.append((kind, what))

    # --------------------------------------------------------------------- the invariant
    @invariant()
    def missing_is_expected_minus_accounted(self) -> None:
        if not self.rollcalls:
            return
        model = self.running() or self.rollcalls[-1]
        missing = model["expected"] - model["accounted"]
        counts = {"expected": len(model["expected"]), "accounted": len(model["accounted"]),
                  "missing": len(missing)}
        # The API, as a marshal reads it.
        api = self.client.get("/api/v1/rollcall", headers={
            "Authorization": f"Bearer {self.marshals[0]}"}).get_json()["rollcall"]
        assert api["id"] == model["id"]
        assert api["counts"] == counts
        assert {p["id"] for p in api["people"] if p["account"] is None} == missing
        assert sum(r["missing"] for r in api["by_room"]) == len(missing)
        # The command line.
        status = CliRunner().invoke(cli, ["--db", str(self.db_path), "rollcall", "status",
                                          "--json"])
        assert status.exit_code == 0, status.output
        cli_view = json.loads(status.output)
        assert cli_view["counts"] == counts
        assert {p["id"] for p in cli_view["people"] if p["account"] is None} == missing
        # The PDF: the count line, and every missing person's name.
        pdf = PdfReader(io.BytesIO(missing_pdf(str(self.db_path), model["id"])))
        text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
        assert f"{len(missing)} missing of {len(model['expected'])} expected" in text
        assert all(self.names[pid] in text for pid in missing)


RollCalls.TestCase.settings = settings(
    max_examples=int(os.environ.get("CHECKIN_ROLLCALL_EXAMPLES", "12")),
    stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_roll_calls = pytest.mark.slow(RollCalls.TestCase)
