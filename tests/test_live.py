"""Live push on /live: the real server (`checkin serve`) and real python-socketio clients."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import socketio

from checkin.core.db import connect
from checkin.devices import add_device, revoke
from tests.conftest import ORGANISER

pytestmark = pytest.mark.server

EVENTS = ("hello", "headcounts", "arrivals", "excursion", "scans", "alerts")


class Listener:
    """A /live client that records every event it receives, with the time it arrived."""

    def __init__(self, url: str, auth: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None):
        self.url, self.auth, self.headers = url, auth, headers or {}
        self.events: list[tuple[float, str, Any]] = []
        self.connects = 0
        self.cond = threading.Condition()
        self.client = socketio.Client(reconnection_delay=0.5, reconnection_delay_max=2)
        for name in EVENTS:
            self.client.on(name, self._recorder(name), namespace="/live")
        self.client.on("connect", self._connected, namespace="/live")

    def _recorder(self, name: str):
        def record(data: Any = None) -> None:
            with self.cond:
                self.events.append((time.monotonic(), name, data))
                self.cond.notify_all()
        return record

    def _connected(self) -> None:
        with self.cond:
            self.connects += 1
            self.cond.notify_all()

    def connect(self) -> Listener:
        """Connect (raises socketio.exceptions.ConnectionError when refused)."""
        self.client.connect(self.url, namespaces=["/live"], auth=self.auth,
                            headers=self.headers, transports=["websocket"], wait_timeout=5)
        return self

    def wait_for(self, name: str, match=lambda data: True, after: float = 0.0,
                 timeout: float = 5.0) -> tuple[float, Any]:
        """Wait for an event `name` received after `after` whose payload matches."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, event, data in self.events:
                    if event == name and at >= after and match(data):
                        return at, data
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching {name!r} within {timeout} s; got "
                                         f"{[e for _, e, _ in self.events]}")
                self.cond.wait(left)

    def wait_for_scan(self, match=lambda row: True, after: float = 0.0,
                      timeout: float = 5.0) -> dict[str, Any]:
        """Wait for a scan row matching `match` in a `scans` batch received after `after`."""
        _, rows = self.wait_for("scans", lambda rows: any(match(r) for r in rows), after,
                                timeout)
        return next(r for r in rows if match(r))

    def received(self, name: str, after: float = 0.0) -> list[Any]:
        """Every payload of event `name` received after `after`."""
        with self.cond:
            return [data for at, event, data in self.events if event == name and at >= after]

    def close(self) -> None:
        self.client.disconnect()


def _devices(db_path) -> dict[str, dict[str, Any]]:
    db = connect(db_path)
    try:
        return {
            "display": add_device(db, "Hall TV", "display"),
            "scanner": add_device(db, "Entrance tablet", "scanner", "entrance"),
            "bike": add_device(db, "Bike tour guide", "guide", "excursion:bike-tour"),
            "forum": add_device(db, "Forum guide", "guide", "excursion:forum"),
        }
    finally:
        db.conn.close()


def _person(db_path, where: str = "1 = 1") -> dict[str, Any]:
    db = connect(db_path)
    try:
        return list(db.query(f"SELECT id, code, excursion FROM participants WHERE {where} "  # noqa: S608
                             "ORDER BY id LIMIT 1"))[0]
    finally:
        db.conn.close()


def _scan(url: str, token: str, checkpoint: str, code: str | None = None,
          participant: int | None = None, direction: str = "in") -> requests.Response:
    item: dict[str, Any] = {"id": str(uuid.uuid4()), "checkpoint": checkpoint,
                            "direction": direction,
                            "at": datetime.now(UTC).isoformat(timespec="milliseconds")}
    if code is not None:
        item["code"] = code
    else:
        item["participant"] = participant
    return requests.post(url + "/api/v1/scans", json={"scans": [item]},
                         headers={"Authorization": "Bearer " + token}, timeout=10)


def _organiser_session(url: str) -> requests.Session:
    """Sign a requests session in over HTTP as the demo organiser."""
    import re

    session = requests.Session()
    html = session.get(url + "/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = session.post(url + "/login", data={"username": ORGANISER[0],
                                                  "password": ORGANISER[1],
                                                  "csrf_token": token},
                            allow_redirects=False, timeout=10)
    assert response.status_code == 302
    return session


def _organiser_cookie(url: str) -> str:
    """Sign in over HTTP and return the session cookie header for a Socket.IO client."""
    session = _organiser_session(url)
    return "; ".join(f"{k}={v}" for k, v in session.cookies.items())


def _entrance(payload: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in payload["checkpoints"] if c["id"] == "entrance")


def test_a_scan_reaches_the_dashboard_within_a_second(live_server, db_path):
    devices = _devices(db_path)
    person = _person(db_path)
    dashboard = Listener(live_server.url, auth={"token": devices["display"]["token"]}).connect()
    try:
        _, hello = dashboard.wait_for("hello")
        assert hello["role"] == "display" and hello["rooms"] == ["headcounts", "rollcall:counts"]
        # The state is sent at once on connecting: nobody has arrived yet.
        _, first = dashboard.wait_for("headcounts")
        assert first["arrived"] == 0 and _entrance(first)["inside"] == 0

        posted = time.monotonic()
        response = _scan(live_server.url, devices["scanner"]["token"], "entrance",
                         code=person["code"])
        assert response.status_code == 200
        assert response.json()["results"][0]["status"] == "accepted"
        arrived_at, pushed = dashboard.wait_for("headcounts", lambda d: d["arrived"] == 1,
                                                after=posted, timeout=1.0)
        assert arrived_at - posted < 1.0
        # The numbers are right: independent count from the log, and the same payload as
        # GET /api/v1/headcounts.
        db = connect(db_path)
        try:
            inside = db.execute("SELECT count(DISTINCT participant_id) FROM scans WHERE "
                                "checkpoint = 'entrance' AND direction = 'in' "
                                "AND status != 'rejected'").fetchone()[0]
            registered = db.execute("SELECT count(*) FROM participants").fetchone()[0]
        finally:
            db.conn.close()
        assert _entrance(pushed)["inside"] == inside == 1
        assert pushed["registered"] == registered
        rest = requests.get(live_server.url + "/api/v1/headcounts", timeout=10, headers={
            "Authorization": "Bearer " + devices["display"]["token"]}).json()
        assert pushed == rest
        # The dashboard's charts come along: one arrival, from the person's delegation.
        _, arrivals = dashboard.wait_for("arrivals", lambda d: d["timeline"]["total"] == 1,
                                         after=posted, timeout=1.0)
        assert sum(row["arrived"] for row in arrivals["by_city"]) == 1
    finally:
        dashboard.close()


def test_clients_reconnect_after_a_restart_and_catch_up(live_server, db_path):
    devices = _devices(db_path)
    people = [_person(db_path, f"id = {n}") for n in (1, 2)]
    cookie = _organiser_cookie(live_server.url)
    dashboard = Listener(live_server.url, auth={"token": devices["display"]["token"]}).connect()
    organiser = Listener(live_server.url, headers={"Cookie": cookie}).connect()
    try:
        _scan(live_server.url, devices["scanner"]["token"], "entrance", code=people[0]["code"])
        dashboard.wait_for("headcounts", lambda d: d["arrived"] == 1)
        seen = organiser.wait_for_scan(lambda s: s["participant"] == people[0]["id"])
        last_seq = seen["seq"]

        live_server.stop()
        live_server.start()  # same port, same database
        restarted = time.monotonic()
        # Scanned while the clients are (most likely) still reconnecting: they miss the push.
        response = _scan(live_server.url, devices["scanner"]["token"], "entrance",
                         code=people[1]["code"])
        assert response.status_code == 200

        # Both reconnect by themselves; the state sent on connecting has the new numbers.
        dashboard.wait_for("headcounts", lambda d: d["arrived"] == 2, after=restarted,
                           timeout=15)
        for client in (dashboard, organiser):
            with client.cond:
                assert client.cond.wait_for(lambda c=client: c.connects >= 2, timeout=15)
        # The organiser asks for the scans it missed since the last one it saw.
        asked = time.monotonic()
        answer = organiser.client.call("catch_up", {"since": last_seq}, namespace="/live",
                                       timeout=5)
        assert answer["ok"] and answer["sent"] == 1
        missed = organiser.wait_for_scan(lambda s: s["seq"] > last_seq, after=asked)
        assert missed["participant"] == people[1]["id"]
        assert missed["checkpoint"] == "entrance" and missed["device_name"] == "Entrance tablet"
    finally:
        dashboard.close()
        organiser.close()


def test_roles_see_only_their_rooms(live_server, db_path):
    devices = _devices(db_path)
    # A display cannot scan.
    person = _person(db_path, "excursion = 'forum'")
    response = _scan(live_server.url, devices["display"]["token"], "entrance",
                     code=person["code"])
    assert response.status_code == 403

    bike = Listener(live_server.url, auth={"token": devices["bike"]["token"]}).connect()
    forum = Listener(live_server.url, auth={"token": devices["forum"]["token"]}).connect()
    try:
        _, hello = bike.wait_for("hello")
        assert hello["rooms"] == ["excursion:bike-tour"]
        _, own = bike.wait_for("excursion")
        assert own["excursion"]["id"] == "bike-tour"
        # Joining another excursion's room is refused, and sends nothing of it.
        answer = bike.client.call("join", {"room": "excursion:forum"}, namespace="/live",
                                  timeout=5)
        assert answer == {"ok": False, "error": "forbidden"}
        answer = bike.client.call("join", {"room": "headcounts"}, namespace="/live", timeout=5)
        assert answer["ok"] is False

        posted = time.monotonic()
        response = _scan(live_server.url, devices["forum"]["token"], "excursion:forum",
                         participant=person["id"])
        assert response.status_code == 200
        # The forum's guide gets the change (so it was pushed) ...
        _, state = forum.wait_for("excursion", lambda s: s["counts"]["confirmed"] == 1,
                                  after=posted, timeout=2)
        assert state["excursion"]["id"] == "forum"
        time.sleep(0.5)  # anything else would have arrived by now
        # ... the bike tour's guide gets nothing of it, and no headcounts at all.
        assert bike.received("excursion", after=posted) == []
        assert bike.received("headcounts") == [] and bike.received("scans") == []
        assert all(s["excursion"]["id"] == "bike-tour" for s in bike.received("excursion"))
        # A guide cannot ask for the scan log either.
        assert bike.client.call("catch_up", {"since": 0}, namespace="/live",
                                timeout=5)["ok"] is False
    finally:
        bike.close()
        forum.close()


def test_unauthenticated_clients_are_refused(live_server, db_path):
    devices = _devices(db_path)
    for auth in (None, {}, {"token": "not-a-token-but-long-enough-to-check"}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(live_server.url, namespaces=["/live"], auth=auth,
                           transports=["websocket"], wait_timeout=5)
        client.disconnect()
    # A revoked device is refused at once.
    db = connect(db_path)
    try:
        assert revoke(db, devices["display"]["id"])
    finally:
        db.conn.close()
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, namespaces=["/live"],
                       auth={"token": devices["display"]["token"]}, transports=["websocket"],
                       wait_timeout=5)
    client.disconnect()
    # The organiser's session is enough, and gives the organisers' room.
    organiser = Listener(live_server.url,
                         headers={"Cookie": _organiser_cookie(live_server.url)}).connect()
    try:
        _, hello = organiser.wait_for("hello")
        assert hello["role"] == "organiser"
        assert set(hello["rooms"]) == {"headcounts", "organisers"}
        _, alerts = organiser.wait_for("alerts")
        assert alerts == []
        excursions = {s["excursion"]["id"] for s in organiser.received("excursion")}
        assert len(excursions) == 6
    finally:
        organiser.close()


def test_a_burst_of_scans_is_pushed_coalesced(live_server, db_path):
    devices = _devices(db_path)
    db = connect(db_path)
    try:
        codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
    finally:
        db.conn.close()
    dashboard = Listener(live_server.url, auth={"token": devices["display"]["token"]}).connect()
    try:
        dashboard.wait_for("headcounts")
        started = time.monotonic()
        # Four scanners at once, 40 single-scan requests in all.
        threads = [threading.Thread(target=lambda part=part: [
            _scan(live_server.url, devices["scanner"]["token"], "entrance", code=code)
            for code in codes[part::4][:10]]) for part in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        took = time.monotonic() - started
        _, final = dashboard.wait_for("headcounts", lambda d: d["arrived"] == 40,
                                      after=started, timeout=2)
        time.sleep(0.3)
        pushes = dashboard.received("headcounts", after=started)
        # Fewer pushes than scans: at most one per 100 ms window (plus the first at once).
        assert len(pushes) < 40
        assert len(pushes) <= took / 0.1 + 3
        assert pushes[-1] == final == requests.get(
            live_server.url + "/api/v1/headcounts", timeout=10,
            headers={"Authorization": "Bearer " + devices["display"]["token"]}).json()
    finally:
        dashboard.close()


def test_revoking_on_the_devices_page_disconnects_at_once(live_server, db_path):
    """Its live connection closes within a second, not at the next 30-second check."""
    import re

    devices = _devices(db_path)
    hall = Listener(live_server.url, auth={"token": devices["display"]["token"]}).connect()
    guide = Listener(live_server.url, auth={"token": devices["bike"]["token"]}).connect()
    try:
        hall.wait_for("hello")
        guide.wait_for("hello")
        organiser = _organiser_session(live_server.url)
        page = organiser.get(live_server.url + "/devices", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        revoked = organiser.post(live_server.url + f"/devices/{devices['display']['id']}/revoke",
                                 data={"csrf_token": token}, allow_redirects=False, timeout=10)
        assert revoked.status_code == 303
        deadline = time.monotonic() + 1.0
        while hall.client.connected and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not hall.client.connected
        time.sleep(0.5)
        assert not hall.client.connected and guide.client.connected
    finally:
        hall.close()
        guide.close()
