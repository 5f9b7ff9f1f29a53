"""Model-based test of the read model: random days against a small reference model.

A hypothesis state machine plays a day on the demo event through the real app: scans in and
out at the entrance, rooms and two excursions (own people and others'), by badge and by
participant id, resends, live scans from devices whose clocks are off and queued scans that
arrive out of order, ids reused with other content or by another device, walk-ons,
departures, returns, corrections (void, move), removed (erased) participants and re-imports
of a changed plan. Every scan's answer must be the reference's; after every step every
surface must agree with a reference model written here, independently of checkin, and every
projection kept on write must equal one recomputed from the log (on a copy):
/api/v1/headcounts, the guide API's counts and roster, the overview's numbers and
excursions, the summary, and both attendance CSVs.

CHECKIN_MODEL_DAYS sets how many random days (default 100). A failure prints the blob that
replays it (@reproduce_failure), and hypothesis' database replays it on the next run.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sqlite3
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlite_utils import Database

from checkin import create_app
from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.devices import add_device
from checkin.participants.csvfile import export_participants, import_file
from checkin.scans.corrections import CorrectionError, correct
from checkin.scans.people import people as people_view
from checkin.scans.projections import PROJECTIONS
from checkin.scans.rebuild import rebuild_projections
from checkin.scans.scanlist import log_totals
from checkin.security.erase import erase_participant
from tests.conftest import ORGANISER, csrf_token

# 100 days of 10 steps: half the former 200 (99 s on a quiet 2-core machine, the slowest test
# of the suite); each run draws a new seed, so runs add up to other days. A long run sets
# CHECKIN_MODEL_DAYS=1000.
DAYS = int(os.environ.get("CHECKIN_MODEL_DAYS", "100"))
STEPS = int(os.environ.get("CHECKIN_MODEL_STEPS", "10"))
START = datetime(2019, 11, 12, 7, 0, tzinfo=UTC)
EXCURSIONS = ("forum", "avebe")
ROOMS = ("kamer-a", "kamer-b")
CHECKPOINTS = ("entrance", "room:kamer-a", "room:kamer-b", "excursion:forum",
               "excursion:avebe")


def stamp(moment: datetime) -> str:
    """The log's UTC form of a time (as the reports print it)."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


class Env:
    """One template event, one app and one signed-in organiser for every random day."""

    def __init__(self, folder):
        template = folder / "template.db"
        db = connect(template)
        create_demo(db, folder)
        from checkin.auth.accounts import add_organiser

        add_organiser(db, *ORGANISER)
        # Two devices for every checkpoint: an id one of them used is not the other's.
        self.tokens = {
            "scanner": add_device(db, "Model scanner", "scanner")["token"],
            "scanner2": add_device(db, "Model scanner 2", "scanner")["token"],
            "display": add_device(db, "Model display", "display")["token"],
            **{x: add_device(db, f"Model guide {x}", "guide", f"excursion:{x}")["token"]
               for x in EXCURSIONS},
            **{x + "2": add_device(db, f"Model guide {x} 2", "guide",
                                   f"excursion:{x}")["token"] for x in EXCURSIONS}}
        people = list(db.query("SELECT id, code, working_group, excursion FROM participants "
                               "ORDER BY id"))
        # Devices scan badges: a guide may name by id only the people on its own list.
        self.codes = {p["id"]: p["code"] for p in people}
        self.plan = {p["id"]: p["excursion"] for p in people}
        self.groups = {p["id"]: p["working_group"] for p in people}
        self.rooms = {g["id"]: g for g in db.query("SELECT * FROM working_groups")}
        by = defaultdict(list)
        for p in people:
            by[p["excursion"]].append(p["id"])
        # The cast of a day: people of both buses, of another bus and of none.
        self.cast = by["forum"][:3] + by["avebe"][:3] + by["bike-tour"][:1] + by[None][:1]
        db.conn.close()
        self.template = sqlite3.connect(template)
        self.path = folder / "event.db"
        self.db = connect(self.path)
        self.template.backup(self.db.conn)
        self.app = create_app({"TESTING": True, "DATABASE": str(self.path),
                               "SECRET_KEY": "model-test"})
        self.client = self.app.test_client()
        token = csrf_token(self.client)
        assert self.client.post("/login", data={
            "username": ORGANISER[0], "password": ORGANISER[1],
            "csrf_token": token}).status_code == 302
        # Sessions live in the database (issue 8): the template keeps this one, so that every
        # fresh day starts signed in.
        self.db.conn.backup(self.template)

    def reset(self) -> None:
        """Put the template's plan back and clear the day (a fresh random day)."""
        self.template.backup(self.db.conn)


class Model:
    """The reference: the day as a list of facts, every number recomputed from them."""

    def __init__(self, env: Env):
        self.env = env
        self.plan = dict(env.plan)
        self.scans: list[dict] = []          # valid ones, in the order they were first stored
        self.answers: dict[str, dict] = {}   # scan id -> its first answer
        self.erased: set[int] = set()
        self.voided: set[str] = set()
        self.moved: dict[str, str] = {}
        self.walk_ons: dict[int, str] = {}
        self.departed: set[str] = set()
        self.returned: set[str] = set()

    def effective(self) -> list[dict]:
        out = []
        for n, s in enumerate(self.scans):
            if s["id"] in self.voided:
                continue
            out.append({**s, "checkpoint": self.moved.get(s["id"], s["checkpoint"]), "n": n})
        return sorted(out, key=lambda s: (s["placed"], s["n"]))

    def placed(self, pid: int, at: str, queued: bool) -> str:
        """Where a new scan falls in the day: a queued one at its device time, a live one
        never before the person's newest scan (every device time here is in the past)."""
        mine = [s["placed"] for s in self.effective() if s["pid"] == pid]
        return at if queued or not mine else max(at, mine[-1])

    def answer(self, pid: int, cp: str, direction: str) -> tuple[str, str | None, str | None]:
        """The answer to a new scan (status, reason, since), judged by the newest state."""
        if pid in self.erased:
            return "rejected", "unknown_code", None
        if direction != "in":
            return "accepted", None, None
        mine = [s for s in self.effective() if s["pid"] == pid]
        if cp.startswith("excursion:"):
            mine = [s for s in mine if s["checkpoint"] == cp]
            inside = [s["direction"] == "in" for s in mine]
        elif cp == "entrance":
            inside = [s["checkpoint"].startswith("room:") or
                      (s["checkpoint"] == "entrance" and s["direction"] == "in") for s in mine]
        else:
            inside = [s["checkpoint"] == cp and s["direction"] == "in" for s in mine]
        since = None
        for scan, yes in zip(reversed(mine), reversed(inside), strict=True):
            if not yes:
                break
            since = scan["placed"]
        reasons = ["already_in"] if since else []
        if cp.startswith("excursion:"):
            if self.on(pid) != cp.split(":", 1)[1]:
                reasons.append("not_assigned")
        elif cp.startswith("room:"):
            groups = {g for g, row in self.env.rooms.items() if row["room"] == cp[5:]}
            if groups and self.env.groups[pid] not in groups:
                reasons.append("not_assigned")
        return ("warning" if reasons else "accepted"), (reasons or [None])[0], since

    def on(self, pid: int) -> str | None:
        return self.walk_ons.get(pid, self.plan.get(pid))

    def members(self, x: str) -> set[int]:
        return {pid for pid in self.plan if self.on(pid) == x}

    def latest(self) -> dict[int, dict]:
        out = {}
        for s in self.effective():
            out[s["pid"]] = s
        return out

    def bus(self, x: str) -> dict[str, set[int]]:
        last = {}
        for s in self.effective():
            if s["checkpoint"] == f"excursion:{x}":
                last[s["pid"]] = s["direction"]
        here = {pid for pid, d in last.items() if d == "in"}
        members = self.members(x)
        return {"expected": members, "confirmed": members & here,
                "missing": members - here, "not_on_list": here - members,
                "walk_ons": {pid for pid in members if self.walk_ons.get(pid) == x}}

    def status(self, x: str) -> str:
        return "returned" if x in self.returned else "departed" if x in self.departed \
            else "boarding"

    def headcounts(self) -> dict:
        latest = self.latest()
        inside: dict[str, int] = defaultdict(int)
        for s in latest.values():
            cp, d = s["checkpoint"], s["direction"]
            if cp.startswith("room:") or (cp == "entrance" and d == "in"):
                inside["entrance"] += 1
            if cp.startswith("room:") and d == "in":
                inside[cp] += 1
        for x in EXCURSIONS:
            inside[f"excursion:{x}"] = 0 if x in self.returned else \
                len(self.bus(x)["confirmed"])
        expected = {"entrance": len(self.plan)}
        for room in ROOMS:
            expected[f"room:{room}"] = sum(
                1 for pid in self.plan
                if self.env.rooms.get(self.env.groups[pid] or "", {}).get("room") == room)
        for x in EXCURSIONS:
            expected[f"excursion:{x}"] = len(self.members(x))
        return {"arrived": len(latest), "registered": len(self.plan), "inside": inside,
                "expected": expected}

    def arrived_at(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for s in self.effective():
            out.setdefault(s["pid"], s["placed"])
        return out

    def attended(self, pid: int) -> str:
        group = self.env.rooms.get(self.env.groups[pid] or "")
        if not group or not group["room"]:
            return ""
        mine = [s for s in self.effective() if s["pid"] == pid]
        for n, s in enumerate(mine):
            if s["checkpoint"] != f"room:{group['room']}" or s["direction"] != "in":
                continue
            until = mine[n + 1]["placed"] if n + 1 < len(mine) else None
            if s["placed"] < group["ends_at"] and (until is None or
                                                   until > group["starts_at"]):
                return "yes"
        return "no"

    def outcome(self, pid: int) -> tuple[str, str]:
        x = self.on(pid)
        if x is None:
            return "", ""
        bus = self.bus(x)
        if pid in bus["confirmed"]:
            return x, "walk-on" if pid in bus["walk_ons"] else "confirmed"
        return x, "not departed yet" if self.status(x) == "boarding" else "no-show"


def projections(db) -> dict[str, list[tuple]]:
    """Every projection table's rows, in a fixed order (tallies at 0 are no count)."""
    return {table: db.execute(f"SELECT * FROM {table} " + (  # noqa: S608
        "WHERE n != 0 " if table == "tallies" else "") + "ORDER BY 1, 2, 3").fetchall()
        for table in PROJECTIONS}


def rebuilt(db) -> dict[str, list[tuple]]:
    """The projections recomputed from the log, on a copy of the database in memory."""
    copy = sqlite3.connect(":memory:", isolation_level=None)
    db.conn.backup(copy)
    try:
        again = Database(copy)
        rebuild_projections(again)
        return projections(again)
    finally:
        copy.close()


def instant(text: str | None) -> datetime | None:
    """The moment an ISO 8601 text names (None for an empty cell)."""
    return datetime.fromisoformat(text) if text else None


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


class Day(RuleBasedStateMachine):
    """One random day; ENV is set by the test."""

    ENV: Env
    scans = Bundle("scans")

    @initialize()
    def fresh_day(self):
        self.ENV.reset()
        self.model = Model(self.ENV)
        self.client = self.ENV.client

    # ------------------------------------------------------------------ steps of the day
    def _post(self, body: dict, other: bool = False) -> dict:
        cp = body["checkpoint"]
        device = cp.split(":", 1)[1] if cp.startswith("excursion:") else "scanner"
        response = self.client.post("/api/v1/scans", json={"scans": [body]}, headers={
            "Authorization": "Bearer " + self.ENV.tokens[device + ("2" if other else "")]})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def _scan(self, pid: int, cp: str, direction: str, minute: int, queued: bool,
              by_id: bool):
        """Send one scan of `pid` and check its answer against the reference."""
        at = stamp(START + timedelta(minutes=minute))
        body = {"id": str(uuid.uuid4()), "checkpoint": cp, "direction": direction, "at": at,
                "queued": queued}
        # A guide may name by id only its own people: by id at the scanner's checkpoints.
        if by_id and not cp.startswith("excursion:"):
            body["participant"] = pid
        else:
            body["code"] = self.ENV.codes[pid]
        want = self.model.answer(pid, cp, direction)
        placed = self.model.placed(pid, at, queued)
        answer = self._post(body)
        result = answer["results"][0]
        assert result["duplicate"] is False
        assert (result["status"], result["reason"], result["detail"].get("since")) == want, \
            (result, want)
        self.model.answers[body["id"]] = result
        if want[0] == "rejected":
            return multiple()
        self.model.scans.append({"id": body["id"], "pid": pid, "checkpoint": cp,
                                 "direction": direction, "at": at, "placed": placed})
        # The scan's own answer carries the checkpoint's headcount from the same model.
        counts = self.model.headcounts()
        assert answer["headcount"]["inside"] == counts["inside"].get(cp, 0)
        assert answer["headcount"]["expected"] == counts["expected"][cp]
        return body

    @rule(target=scans, who=st.integers(0, 7), cp=st.sampled_from(CHECKPOINTS),
          direction=st.sampled_from(("in", "in", "out")), minute=st.integers(0, 600),
          queued=st.booleans(), by_id=st.booleans())
    def scan(self, who, cp, direction, minute, queued, by_id):
        """A scan, live or queued; a live one's device time may be anything (a clock that
        is off, behind or ahead of the person's day)."""
        return self._scan(self.ENV.cast[who], cp, direction, minute, queued, by_id)

    @rule(target=scans, before=scans, cp=st.sampled_from(CHECKPOINTS),
          direction=st.sampled_from(("in", "in", "out")), minute=st.integers(0, 600),
          queued=st.booleans(), by_id=st.booleans())
    def scan_again(self, before, cp, direction, minute, queued, by_id):
        """Another scan of someone scanned before: their day gets a history."""
        pid = next(s["pid"] for s in self.model.scans if s["id"] == before["id"])
        return self._scan(pid, cp, direction, minute, queued, by_id)

    @rule(body=scans, change=st.sampled_from(("none", "person", "direction", "device")),
          who=st.integers(0, 7))
    def resend(self, body, change, who):
        """The same scan again gets its first answer; the same id with other content, or
        from another device, is refused and stores nothing."""
        if change == "none":
            result = self._post(body)["results"][0]
            first = self.model.answers[body["id"]]
            # The first verdict again; the person as they are now (a walk-on, a removal).
            assert {**result, "participant": None} == {**first, "participant": None,
                                                       "duplicate": True}
            assert result["participant"]["id"] == first["participant"]["id"]
            return
        other = dict(body)
        if change == "person":
            key = "participant" if "participant" in body else "code"
            pid = self.ENV.cast[who]
            other[key] = pid if key == "participant" else self.ENV.codes[pid]
            if other[key] == body[key]:
                other[key] = body[key] + 1 if key == "participant" else body[key].lower()
        elif change == "direction":
            other["direction"] = "out" if body["direction"] == "in" else "in"
        result = self._post(other, other=change == "device")["results"][0]
        assert result == {"id": body["id"], "status": "rejected", "reason": "id_conflict",
                          "detail": {}, "participant": None, "duplicate": False}

    @rule(who=st.integers(0, 7))
    def erase(self, who):
        """The organiser removes a person: their scans stay and count, new ones are refused."""
        pid = self.ENV.cast[who]
        assert erase_participant(self.ENV.db, pid)
        # (Erasing switches secure_delete on for the connection; the day goes on without.)
        self.ENV.db.conn.execute("PRAGMA secure_delete = OFF")
        self.model.erased.add(pid)

    @rule(body=scans)
    def void(self, body):
        try:
            correct(self.ENV.db, body["id"], "void", "orga")
        except CorrectionError as exc:
            assert body["id"] in self.model.voided, exc
            return
        assert body["id"] not in self.model.voided
        self.model.voided.add(body["id"])

    @rule(body=scans, cp=st.sampled_from(CHECKPOINTS))
    def move(self, body, cp):
        now = self.model.moved.get(body["id"], body["checkpoint"])
        try:
            correct(self.ENV.db, body["id"], "move", "orga", checkpoint=cp)
        except CorrectionError as exc:
            assert body["id"] in self.model.voided or cp == now, exc
            return
        assert body["id"] not in self.model.voided and cp != now
        self.model.moved[body["id"]] = cp

    def _event(self, x: str, **body) -> int:
        response = self.client.post(
            f"/api/v1/excursions/{x}/events", headers={
                "Authorization": "Bearer " + self.ENV.tokens[x]},
            json={"id": str(uuid.uuid4()), "at": stamp(START + timedelta(hours=6)), **body})
        return response.status_code

    @rule(who=st.integers(0, 7), x=st.sampled_from(EXCURSIONS))
    def walk_on(self, who, x):
        pid = self.ENV.cast[who]
        status = self._event(x, action="walk_on", code=self.ENV.codes[pid])
        if pid in self.model.erased:
            assert 400 <= status < 500  # a removed person's badge is an unknown code
        elif self.model.on(pid) == x:
            assert status == 409
        else:
            assert status == 200
            self.model.walk_ons[pid] = x

    @rule(x=st.sampled_from(EXCURSIONS))
    def depart(self, x):
        status = self._event(x, action="depart")
        assert status == (409 if x in self.model.departed else 200)
        self.model.departed.add(x)

    @rule(x=st.sampled_from(EXCURSIONS))
    def come_back(self, x):
        status = self._event(x, action="return")
        ok = x in self.model.departed and x not in self.model.returned
        assert status == (200 if ok else 409)
        if ok:
            self.model.returned.add(x)

    @rule(who=st.integers(0, 7), x=st.sampled_from((*EXCURSIONS, "bike-tour", None)))
    def reimport(self, who, x):
        """The organiser re-imports the plan with one person moved to another excursion."""
        pid = self.ENV.cast[who]
        if pid in self.model.erased:
            return  # nobody to match them by any more
        email = self.ENV.db.execute("SELECT email FROM participants WHERE id = ?",
                                    [pid]).fetchone()[0]
        out = io.StringIO()
        export_participants(self.ENV.db, out)
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        # The plan's file lists the people still there; a removed one is no row of it.
        rows = [row for row in rows if row["first_name"] or row["last_name"]]
        for row in rows:
            row.pop("code")
            if row["email"] == email:
                row["excursion"] = x or ""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
        result = import_file(self.ENV.db, text.getvalue().encode())
        assert not result["problems"], result["problems"]
        day = self.model.walk_ons.get(pid)
        if day is not None and day != x:
            assert any(w.startswith("line ") for w in result["day_wins"])
        self.model.plan[pid] = x

    # ------------------------------------------------------------------ every surface agrees
    @invariant()
    def projections_equal_a_rebuild_from_the_log(self):
        """What the writes kept equals every projection recomputed from the log."""
        assert projections(self.ENV.db) == rebuilt(self.ENV.db)

    @invariant()
    def the_log_size_kept_by_triggers_is_the_log_size(self):
        """The summary's totals (kept without reading the log) are the log's own."""
        db = self.ENV.db
        count, last = db.execute("SELECT count(*), max(received_at) FROM scans").fetchone()
        assert log_totals(db) == {"scans": count, "last_received": last}

    @invariant()
    def surfaces_agree(self):
        m = self.model
        want = m.headcounts()
        display = {"Authorization": "Bearer " + self.ENV.tokens["display"]}
        got = self.client.get("/api/v1/headcounts", headers=display).get_json()
        assert got["arrived"] == want["arrived"] and got["registered"] == want["registered"]
        for cp in got["checkpoints"]:
            if cp["id"] in want["expected"]:
                assert (cp["inside"], cp["expected"]) == \
                    (want["inside"].get(cp["id"], 0), want["expected"][cp["id"]]), cp

        arrived = m.arrived_at()
        people = {int(r["id"]): r for r in rows_of(self.client.get("/reports/attendance.csv"))}
        groups = {r["id"]: r for r in rows_of(self.client.get(
            "/reports/attendance-groups.csv"))}
        summary = self.client.get("/reports/summary").get_data(as_text=True)
        overview = self.client.get("/overview/part/excursions").get_data(as_text=True)
        for x in EXCURSIONS:
            bus = m.bus(x)
            # The display reads the counts only; the organiser reads the roster too.
            shown = self.client.get(f"/api/v1/excursions/{x}", headers=display).get_json()
            state = self.client.get(f"/api/v1/excursions/{x}").get_json()
            counts = {k: len(v) for k, v in bus.items()}
            assert shown["counts"] == state["counts"] == counts, (x, state["counts"], counts)
            assert "roster" not in shown
            assert state["excursion"]["status"] == m.status(x)
            roster = {r["id"]: r["status"] for r in state["roster"]}
            assert roster == {**dict.fromkeys(bus["confirmed"], "confirmed"),
                              **dict.fromkeys(bus["missing"], "missing"),
                              **dict.fromkeys(bus["not_on_list"], "not_on_list")}
            boarding = m.status(x) == "boarding"
            row = groups[x]
            assert (int(row["expected"]), int(row["attended"]), int(row["walk_ons"])) == \
                (counts["expected"], counts["confirmed"], counts["walk_ons"])
            assert row["no_shows"] == ("" if boarding else str(counts["missing"]))
            cells = re.findall(r'<td class="num">([^<]*)</td>', re.search(
                rf'<tr data-id="{x}">(.*?)</tr>', summary, re.S).group(1))
            assert cells == [str(counts["expected"]), str(counts["confirmed"]),
                             "–" if boarding else str(counts["missing"]),
                             str(counts["walk_ons"])]
            part = re.search(rf'<tr data-excursion="{x}">(.*?)</tr>', overview, re.S).group(1)
            if boarding:
                assert f"Boarding {counts['confirmed']}/{counts['expected']}" in part
            missing_cell = part.rsplit("<td>", 1)[1]
            if counts["missing"] > 3:
                assert f"{counts['missing']} missing" in missing_cell
            else:
                assert missing_cell.count("/overview/participants/") == counts["missing"]
            per_person = [p for p in people.values() if p["excursion"] == x]
            assert len(per_person) == counts["expected"]

        # The people view every page, list and mail reads: today's excursion and presence.
        view = {p["id"]: p for p in people_view(self.ENV.db)}
        for pid in self.ENV.cast:
            assert view[pid]["excursion"] == m.on(pid), pid
            assert bool(view[pid]["arrived"]) == (pid in arrived), pid
            row = people[pid]
            # The export writes the event's wall clock with its offset: the same moment.
            assert instant(row["arrived_at"]) == instant(arrived.get(pid)), pid
            assert (row["excursion"], row["excursion_status"]) == m.outcome(pid), pid
            assert row["working_group_attended"] == m.attended(pid), pid
        assert re.search(r'id="n-arrived">(\d+)<', summary).group(1) == str(want["arrived"])
        numbers = self.client.get("/overview/part/numbers").get_data(as_text=True)
        assert re.search(r'data-num="arrived">(\d+)<', numbers).group(1) == str(want["arrived"])
        assert re.search(r'data-num="venue">(\d+)<', numbers).group(1) == \
            str(want["inside"]["entrance"])


@pytest.mark.slow
def test_random_days_agree_with_the_reference_model(tmp_path):
    Day.ENV = Env(tmp_path)
    try:
        run_state_machine_as_test(Day, settings=settings(
            max_examples=DAYS, stateful_step_count=STEPS, deadline=None, derandomize=False,
            print_blob=True, suppress_health_check=list(HealthCheck)))
    finally:
        Day.ENV.db.conn.close()
        Day.ENV.template.close()
