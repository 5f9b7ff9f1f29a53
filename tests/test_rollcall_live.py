"""Issue 22: the roll call pushed on /live within a second of a start, a marshal's scan and
an end — organisers get names and phones, marshals names, displays only numbers, scanners
nothing; a scan's push carries only the changed person, counted on by seq; also across two
servers joined by Redis.

One real server (`checkin serve`) for the module and real python-socketio clients.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests

from checkin.auth.accounts import add_organiser
from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.devices import add_device
from tests.conftest import ORGANISER, LiveServer, free_port
from tests.test_live import Listener, _organiser_cookie, _organiser_session, _scan
from tests.test_scale_out import _serve, redis_url  # noqa: F401 - the real redis-server fixture

pytestmark = pytest.mark.server

SECOND = 1.0


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Any:
    """The demo event served by the real server, with a marshal, a display and a scanner."""
    folder = tmp_path_factory.mktemp("rollcall-live")
    path = folder / "event.db"
    db = connect(path)
    create_demo(db, folder)
    add_organiser(db, *ORGANISER)
    point = db.execute("SELECT id FROM checkpoints WHERE kind = 'assembly' "
                       "ORDER BY id").fetchone()[0]
    tokens = {"display": add_device(db, "Hall TV", "display")["token"],
              "scanner": add_device(db, "Door", "scanner")["token"],
              "marshal": add_device(db, "Marshal", "marshal", point)["token"]}
    people = [dict(r) for r in db.query("SELECT id, code FROM participants ORDER BY id")]
    db.conn.close()
    server = LiveServer(path, free_port(), folder / "server.log")
    server.start()
    # Ten people inside: the roll call expects them.
    for person in people[:10]:
        assert _scan(server.url, tokens["scanner"], "entrance", person["code"]).ok
    yield {"url": server.url, "tokens": tokens, "people": people, "point": point,
           "path": path}
    server.stop()


def _listen(url: str, **kwargs: Any) -> Listener:
    listener = Listener(url, **kwargs)
    listener.client.on("rollcall", listener._recorder("rollcall"), namespace="/live")
    return listener.connect()


def _organiser_api(url: str) -> requests.Session:
    """The organiser's session with the CSRF header the API's cookie path checks."""
    session = _organiser_session(url)
    html = session.get(url + "/rollcall", timeout=10).text
    session.headers["X-CSRFToken"] = re.search(r'name="csrf_token" value="([^"]+)"',
                                               html).group(1)
    return session


def test_start_scan_and_end_reach_each_role_within_a_second(site):
    url, tokens = site["url"], site["tokens"]
    organiser = _listen(url, headers={"Cookie": _organiser_cookie(url)})
    marshal = _listen(url, auth={"token": tokens["marshal"]})
    display = _listen(url, auth={"token": tokens["display"]})
    scanner = _listen(url, auth={"token": tokens["scanner"]})
    session = _organiser_api(url)
    try:
        for listener in (organiser, marshal, display, scanner):
            listener.wait_for("hello")
        # Start: each listener that may hear it has the list within a second.
        sent = time.monotonic()
        response = session.post(url + "/api/v1/rollcall", json={}, timeout=10)
        assert response.status_code == 201, response.text
        rollcall = response.json()["rollcall"]
        assert rollcall["counts"]["expected"] == 10

        def this(data: Any) -> bool:
            return data["id"] == rollcall["id"] and data["ended_at"] is None

        at, full = organiser.wait_for("rollcall", this, after=sent)
        assert at - sent < SECOND
        assert len(full["people"]) == 10 and all("phone" in p for p in full["people"])
        at, names = marshal.wait_for("rollcall", this, after=sent)
        assert at - sent < SECOND
        assert len(names["people"]) == 10 and not any("phone" in p for p in names["people"])
        at, counts = display.wait_for("rollcall", this, after=sent)
        assert at - sent < SECOND
        assert "people" not in counts and counts["counts"]["missing"] == 10

        # A marshal's scan at the assembly point accounts for one person.
        person = site["people"][3]
        sent = time.monotonic()
        answer = _scan(url, tokens["marshal"], site["point"], person["code"])
        assert answer.ok, answer.text

        def accounted(data: Any) -> bool:
            return this(data) and data["counts"]["accounted"] == 1

        # Each room hears the numbers and only the person whose account changed, the push
        # after the start's (seq counts on by one).
        at, change = organiser.wait_for("rollcall", accounted, after=sent)
        assert at - sent < SECOND
        assert change["full"] is False and change["seq"] == full["seq"] + 1
        assert "people" not in change and [p["id"] for p in change["changed"]] == [person["id"]]
        assert change["changed"][0]["account"]["how"] == "scan" and "phone" in change["changed"][0]
        at, counts = display.wait_for("rollcall", accounted, after=sent)
        assert at - sent < SECOND and counts["counts"]["missing"] == 9
        assert "people" not in counts and "changed" not in counts
        at, names = marshal.wait_for("rollcall", accounted, after=sent)
        assert at - sent < SECOND and names["seq"] == change["seq"]
        assert [p["id"] for p in names["changed"]] == [person["id"]]
        assert "phone" not in names["changed"][0] and names["changed"][0]["account"]

        # End: everyone hears that it ended.
        sent = time.monotonic()
        response = session.post(url + f"/api/v1/rollcall/{rollcall['id']}/end", json={},
                                timeout=10)
        assert response.status_code == 200, response.text
        for listener in (organiser, marshal, display):
            at, ended = listener.wait_for(
                "rollcall", lambda d: d["id"] == rollcall["id"] and d["ended_at"], after=sent)
            assert at - sent < SECOND and ended["full"] and ended["seq"] == change["seq"] + 1
        # A scanner at the door hears nothing of it.
        assert scanner.received("rollcall") == []
    finally:
        for listener in (organiser, marshal, display, scanner):
            listener.close()


def test_a_newcomer_is_sent_the_current_roll_call_as_its_role_may_read_it(site):
    url, tokens = site["url"], site["tokens"]
    session = _organiser_api(url)
    organiser = _listen(url, headers={"Cookie": _organiser_cookie(url)})
    organiser.wait_for("hello")
    response = session.post(url + "/api/v1/rollcall", json={}, timeout=10)
    assert response.status_code == 201, response.text
    started = response.json()["rollcall"]["id"]
    _, pushed = organiser.wait_for("rollcall", lambda d: d["id"] == started and d["seq"])
    organiser.close()
    try:
        display = _listen(url, auth={"token": tokens["display"]})
        marshal = _listen(url, auth={"token": tokens["marshal"]})
        try:
            _, counts = display.wait_for("rollcall", lambda d: d["id"] == started)
            assert "people" not in counts and counts["full"]
            _, names = marshal.wait_for("rollcall", lambda d: d["id"] == started)
            assert names["people"] and not any("phone" in p for p in names["people"])
            # A newcomer's roll call is full, with the seq of the last push (the start's):
            # the next push follows on from it.
            assert names["full"] and names["seq"] == pushed["seq"] == 1
        finally:
            display.close()
            marshal.close()
    finally:
        session.post(url + f"/api/v1/rollcall/{started}/end", json={}, timeout=10)


def test_a_roll_call_started_and_ended_on_the_command_line_reaches_the_phones(site):
    """`checkin rollcall start` and `end` write from a process of their own, which no signal
    of the server's reaches: the server notices within a second or two all the same."""
    import json
    import subprocess
    import sys

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "checkin.cli", "--db", str(site["path"]),
                               "rollcall", *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return done.stdout

    marshal = _listen(site["url"], auth={"token": site["tokens"]["marshal"]})
    try:
        marshal.wait_for("hello")
        sent = time.monotonic()
        started = json.loads(cli("start", "--json"))["id"]
        at, pushed = marshal.wait_for("rollcall", lambda d: d["id"] == started
                                      and d["ended_at"] is None, after=sent)
        assert at - sent < 3 * SECOND, at - sent
        assert pushed["full"] and pushed["counts"]["expected"] == len(pushed["people"]) > 0
        sent = time.monotonic()
        cli("end")
        at, ended = marshal.wait_for("rollcall", lambda d: d["id"] == started
                                     and d["ended_at"], after=sent)
        assert at - sent < 3 * SECOND, at - sent
    finally:
        marshal.close()


def test_a_roll_call_on_one_server_reaches_clients_of_the_other(db_path, tmp_path,
                                                                redis_url):  # noqa: F811
    """Two `checkin serve` on one event joined by Redis (as `--workers 2` are): a start on the
    first reaches a marshal and a display connected to the second within a second, and so
    does a marshal's scan."""
    first = _serve(db_path, tmp_path, "--message-queue", redis_url)
    second = _serve(db_path, tmp_path, "--message-queue", redis_url)
    try:
        db = connect(db_path)
        point = db.execute("SELECT id FROM checkpoints WHERE kind = 'assembly'").fetchone()[0]
        door = add_device(db, "Door", "scanner")["token"]
        marshal_token = add_device(db, "Marshal", "marshal", point)["token"]
        display_token = add_device(db, "Hall TV", "display")["token"]
        codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id LIMIT 3")]
        db.conn.close()
        for code in codes:
            assert _scan(first.url, door, "entrance", code).ok
        marshal = _listen(second.url, auth={"token": marshal_token})
        display = _listen(second.url, auth={"token": display_token})
        try:
            marshal.wait_for("hello")
            display.wait_for("hello")
            sent = time.monotonic()
            response = _organiser_api(first.url).post(first.url + "/api/v1/rollcall", json={},
                                                      timeout=10)
            assert response.status_code == 201, response.text
            started = response.json()["rollcall"]["id"]
            at, names = marshal.wait_for("rollcall", lambda d: d["id"] == started, after=sent)
            assert at - sent < SECOND and len(names["people"]) == 3
            sent = time.monotonic()
            assert _scan(first.url, marshal_token, point, codes[0]).ok
            at, counts = display.wait_for(
                "rollcall", lambda d: d["id"] == started and d["counts"]["accounted"] == 1,
                after=sent)
            assert at - sent < SECOND and "people" not in counts
        finally:
            marshal.close()
            display.close()
    finally:
        first.stop()
        second.stop()
