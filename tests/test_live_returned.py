"""After an excursion has returned, its guide's open page gets counts over /live, no names.

Real servers (`checkin serve`), real python-socketio clients; the second test joins two
servers through a real redis-server, as `--message-queue` does.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from checkin.core.db import connect
from checkin.devices import add_device
from tests.conftest import LiveServer
from tests.test_live import Listener, _organiser_cookie, _scan
from tests.test_scale_out import _serve, redis_url  # noqa: F401 - redis_url is a fixture

pytestmark = pytest.mark.server

EXCURSION = "forum"


def _prepare(db_path: Path) -> tuple[str, list[dict[str, Any]]]:
    """Pair a guide's phone for the excursion; return its token and the people on it."""
    db = connect(db_path)
    try:
        token = add_device(db, "Forum guide", "guide", f"excursion:{EXCURSION}")["token"]
        people = list(db.query("SELECT id, first_name, last_name FROM participants "
                               "WHERE excursion = ? ORDER BY id", [EXCURSION]))
    finally:
        db.conn.close()
    assert len(people) >= 3
    return token, people


def _names_in(payload: Any, people: list[dict[str, Any]]) -> list[str]:
    """Every participant's last name found anywhere in a payload."""
    text = json.dumps(payload, ensure_ascii=False)
    return [p["last_name"] for p in people if p["last_name"] in text]


def _event(url: str, token: str, action: str, excursion: str = EXCURSION) -> None:
    """Record a departure or return as the guide's phone does."""
    response = requests.post(
        f"{url}/api/v1/excursions/{excursion}/events", timeout=10,
        headers={"Authorization": "Bearer " + token},
        json={"id": str(uuid.uuid4()), "action": action,
              "at": datetime.now(UTC).isoformat(timespec="milliseconds")})
    assert response.status_code == 200, response.text


def _status(name: str):
    return lambda s: s["excursion"]["id"] == EXCURSION and s["excursion"]["status"] == name


def _check_return(guide: Listener, organiser: Listener, people: list[dict[str, Any]],
                  token: str, before: LiveServer, back: LiveServer,
                  after: list[LiveServer]) -> None:
    """Names before the return; counts only to the guide from the return on (organisers
    still read names), through the servers given for each step."""
    first, second = people[0], people[1:]
    sent = time.monotonic()
    assert _scan(before.url, token, f"excursion:{EXCURSION}",
                 participant=first["id"]).status_code == 200
    _, state = guide.wait_for("excursion", lambda s: s["counts"]["confirmed"] == 1, after=sent)
    assert first["last_name"] in _names_in(state, people), "names arrive before the return"
    _event(before.url, token, "depart")
    guide.wait_for("excursion", _status("departed"))
    # Let every push about the departure (and, with a queue, its settle check) arrive.
    time.sleep(0.8)

    returned = time.monotonic()
    _event(back.url, token, "return")
    _, state = guide.wait_for("excursion", _status("returned"), after=returned)
    assert _names_in(state, people) == [] and "roster" not in state, state
    _, full = organiser.wait_for("excursion", _status("returned"), after=returned)
    assert first["last_name"] in _names_in(full, people), "organisers still read names"

    # Late scans after the return, stored by each server in turn: the counts move, the names
    # never come.
    for confirmed, (server, person) in enumerate(zip(after, second, strict=False), start=2):
        sent = time.monotonic()
        assert _scan(server.url, token, f"excursion:{EXCURSION}",
                     participant=person["id"]).status_code == 200
        _, state = guide.wait_for("excursion", lambda s, n=confirmed: s["counts"]["confirmed"]
                                  == n, after=sent)
        assert state["excursion"]["status"] == "returned"
    time.sleep(0.8)  # anything else pushed (settle checks) has arrived by now
    leaked = [s for s in guide.received("excursion", after=returned) if _names_in(s, people)]
    assert leaked == [], f"names pushed to the guide after the return: {leaked[0]}"


def test_a_returned_excursions_guide_gets_counts_only(live_server: LiveServer, db_path):
    """One server: the return and a later scan push no names to the guide's open page."""
    token, people = _prepare(db_path)
    guide = Listener(live_server.url, auth={"token": token}).connect()
    organiser = Listener(live_server.url,
                         headers={"Cookie": _organiser_cookie(live_server.url)}).connect()
    try:
        _check_return(guide, organiser, people, token, live_server, live_server,
                      [live_server])
        # Opening the page again, or joining its room again, sends counts only too.
        again = Listener(live_server.url, auth={"token": token}).connect()
        try:
            _, state = again.wait_for("excursion")
            assert _names_in(state, people) == []
            joined = time.monotonic()
            answer = again.client.call("join", {"room": f"excursion:{EXCURSION}"},
                                       namespace="/live", timeout=5)
            assert answer["ok"] is True
            _, state = again.wait_for("excursion", after=joined)
            assert _names_in(state, people) == []
        finally:
            again.close()
    finally:
        guide.close()
        organiser.close()


def test_counts_only_across_servers_joined_by_a_message_queue(db_path, tmp_path,
                                                              redis_url):  # noqa: F811
    """The return stored by another server, and later scans on either: no names pushed."""
    token, people = _prepare(db_path)
    first = _serve(db_path, tmp_path, "--message-queue", redis_url)
    try:
        second = _serve(db_path, tmp_path, "--message-queue", redis_url)
        try:
            guide = Listener(first.url, auth={"token": token}).connect()
            organiser = Listener(first.url,
                                 headers={"Cookie": _organiser_cookie(first.url)}).connect()
            try:
                _check_return(guide, organiser, people, token, first, second, [first, second])
            finally:
                guide.close()
                organiser.close()
        finally:
            second.stop()
    finally:
        first.stop()
