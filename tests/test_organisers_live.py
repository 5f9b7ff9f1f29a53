"""What organisers expect to see, pushed live: capacity warnings (rooms nearly full or full,
buses with more people than seats) and the big screen's departure board.

One real server (`checkin serve`) for the module, real python-socketio clients, and headless
Chromium where a person looks: the overview, the dashboard on a TV and the guide's phone.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from checkin.auth.accounts import add_organiser
from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.devices import add_device
from tests.conftest import (
    ARTIFACTS,
    ORGANISER,
    LiveServer,
    axe_violations,
    browser_login,
    free_port,
)
from tests.test_live import Listener, _organiser_cookie, _organiser_session, _scan
from tests.test_live_returned import _event
from tests.test_screens_browser import TEXT_SIZES_JS

pytestmark = pytest.mark.server

SHOTS = ARTIFACTS / "organisers"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Any:
    """The demo event served by the real server, with a display, a scanner and two guides."""
    folder = tmp_path_factory.mktemp("organisers")
    path = folder / "event.db"
    db = connect(path)
    create_demo(db, folder)
    add_organiser(db, *ORGANISER)
    tokens = {"display": add_device(db, "Hall TV", "display"),
              "scanner": add_device(db, "Room tablet", "scanner"),
              "forum": add_device(db, "Forum guide", "guide", "excursion:forum"),
              "bike": add_device(db, "Bike guide", "guide", "excursion:bike-tour"),
              # Pairing a phone gives it a new token: the scans below come from a second one.
              "bike-scans": add_device(db, "Bike co-guide", "guide", "excursion:bike-tour")}
    people = {row["id"]: row for row in db.query(
        "SELECT p.id, p.code, p.last_name, p.excursion, w.room FROM participants p "
        "LEFT JOIN working_groups w ON w.id = p.working_group ORDER BY p.id")}
    db.conn.close()
    server = LiveServer(path, free_port(), folder / "server.log")
    server.start()
    yield {"server": server, "url": server.url, "devices": tokens, "people": people}
    server.stop()


def _listen(url: str, **kwargs: Any) -> Listener:
    """A /live client that also records the departure board."""
    listener = Listener(url, **kwargs)
    listener.client.on("departures", listener._recorder("departures"), namespace="/live")
    return listener.connect()


def _alert(alert_id: str):
    return lambda alerts: any(a["id"] == alert_id for a in alerts)


def _bus(board: list[dict[str, Any]], excursion: str) -> dict[str, Any]:
    return next(x for x in board if x["id"] == excursion)


def _strangers(site: Any, excursion: str, n: int, skip: int = 0) -> list[str]:
    """Badge codes of people booked on no excursion or another one: not on this bus's list."""
    return [p["code"] for p in site["people"].values()
            if p["excursion"] != excursion][skip:skip + n]


def _room_people(site: Any, room: str) -> list[int]:
    return [p["id"] for p in site["people"].values() if p["room"] == room]


def test_capacity_warnings_and_the_departure_board_are_pushed_live(site):
    url, devices = site["url"], site["devices"]
    organiser = _listen(url, headers={"Cookie": _organiser_cookie(url)})
    display = _listen(url, auth={"token": devices["display"]["token"]})
    guide = _listen(url, auth={"token": devices["forum"]["token"]})
    try:
        # On connecting the big screen gets every bus: times, status, counts, seats.
        _, board = display.wait_for("departures")
        forum = _bus(board, "forum")
        assert forum["status"] == "boarding" and forum["departs_at"]
        assert forum["counts"]["expected"] == 8 and forum["counts"]["missing"] == 8
        assert forum["seats"] == {"people": 8, "capacity": 12, "state": "ok"}
        _, first = organiser.wait_for("alerts")
        assert not [a for a in first if a["id"].endswith(":forum")
                    or a["id"].endswith(":room:kamer-f")]

        # Five people not on the forum's list get on its bus: 13 people for 12 seats.
        posted = time.monotonic()
        for code in _strangers(site, "forum", 5):
            assert _scan(url, devices["forum"]["token"], "excursion:forum",
                         code=code).status_code == 200
        _, alerts = organiser.wait_for("alerts", _alert("excursion_over_seats:forum"),
                                       after=posted, timeout=3)
        over = next(a for a in alerts if a["id"] == "excursion_over_seats:forum")
        assert (over["severity"], over["people"], over["capacity"]) == ("bad", 13, 12)
        _, mine = guide.wait_for("excursion", lambda s: s["seats"]["state"] == "over",
                                 after=posted, timeout=3)
        assert mine["seats"] == {"people": 13, "capacity": 12, "state": "over"}
        _, board = display.wait_for(
            "departures", lambda b: _bus(b, "forum")["seats"]["state"] == "over", after=posted,
            timeout=3)
        assert _bus(board, "forum")["counts"]["not_on_list"] == 5

        # Kamer F has 8 places: 7 inside is nearly full, 8 is full (warnings, not yet bad).
        crowd = _room_people(site, "kamer-f")
        posted = time.monotonic()
        for pid in crowd[:7]:
            _scan(url, devices["scanner"]["token"], "room:kamer-f", participant=pid)
        _, alerts = organiser.wait_for("alerts", _alert("near_capacity:room:kamer-f"),
                                       after=posted, timeout=3)
        near = next(a for a in alerts if a["id"] == "near_capacity:room:kamer-f")
        assert (near["severity"], near["inside"], near["capacity"]) == ("warn", 7, 8)
        posted = time.monotonic()
        _scan(url, devices["scanner"]["token"], "room:kamer-f", participant=crowd[7])
        _, alerts = organiser.wait_for("alerts", _alert("at_capacity:room:kamer-f"),
                                       after=posted, timeout=3)
        assert not _alert("near_capacity:room:kamer-f")(alerts)

        # The overview words them in the reader's language, not by colour alone.
        session = _organiser_session(url)
        html = session.get(url + "/overview/part/alerts?lang=de", timeout=10).text
        assert "Raum voll:" in html and "Kamer F: 8 inside" not in html
        assert "Zu wenige Plätze:" in html and "13 Personen für 12 Plätze" in html

        # The bus leaves, then comes back: the board follows, and the seat alert ends.
        posted = time.monotonic()
        _event(url, devices["forum"]["token"], "depart", excursion="forum")
        _, board = display.wait_for(
            "departures", lambda b: _bus(b, "forum")["status"] == "departed", after=posted,
            timeout=3)
        forum = _bus(board, "forum")
        assert forum["departed_at"] and forum["counts"]["confirmed"] == 0
        assert forum["counts"]["missing"] == 8
        posted = time.monotonic()
        _event(url, devices["forum"]["token"], "return", excursion="forum")
        display.wait_for("departures", lambda b: _bus(b, "forum")["status"] == "returned",
                         after=posted, timeout=3)
        organiser.wait_for("alerts", lambda a: not _alert("excursion_over_seats:forum")(a),
                           after=posted, timeout=3)

        # The big screen hears no alerts and reads no names.
        assert display.received("alerts") == [] and display.received("scans") == []
        text = json.dumps(display.received("departures"), ensure_ascii=False)
        assert not [p["last_name"] for p in site["people"].values() if p["last_name"] in text]
    finally:
        for listener in (organiser, display, guide):
            listener.close()


@pytest.mark.browser
def test_warnings_and_departures_where_people_look(site, browser):
    url, devices = site["url"], site["devices"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    # The big screen on a 1080p TV, in German.
    tv = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="de-DE")
    screen = tv.new_page()
    errors: list[str] = []
    screen.on("pageerror", lambda exc: errors.append(str(exc)))
    screen.goto(f"{url}/pair/{devices['display']['pairing_code']}")
    screen.wait_for_url("**/dashboard", timeout=10000)
    screen.goto(f"{url}/dashboard?lang=de")
    expect(screen.locator('#departure-rows tr[data-excursion="bike-tour"]')).to_be_visible(
        timeout=5000)
    bike = screen.locator('#departure-rows tr[data-excursion="bike-tour"]')
    expect(bike.locator(".bus-status")).to_have_text("Einstieg läuft")
    expect(bike.locator(".bus-confirmed")).to_have_text("0 von 10")

    # The guide's phone, in German.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="de-DE")
    guide = phone.new_page()
    guide.on("pageerror", lambda exc: errors.append(str(exc)))
    guide.goto(f"{url}/pair/{devices['bike']['pairing_code']}")
    guide.wait_for_url("**/guide**", timeout=10000)
    guide.goto(f"{url}/guide?lang=de")
    guide.wait_for_selector("#loading", state="hidden", timeout=8000)
    assert guide.locator("#seats-warning").is_hidden()

    # Three people not on its list board the bike tour (10 booked, 12 seats): 13 for 12.
    for code in _strangers(site, "bike-tour", 3, skip=20):
        assert _scan(url, devices["bike-scans"]["token"], "excursion:bike-tour",
                     code=code).status_code == 200
    # Nine of Kamer E's ten places taken: nearly full.
    for pid in _room_people(site, "kamer-e")[:9]:
        _scan(url, devices["scanner"]["token"], "room:kamer-e", participant=pid)

    expect(bike.locator(".bus-over")).to_contain_text("1 Platz zu wenig", timeout=3000)
    expect(bike.locator(".bus-seats")).to_contain_text("13 für 12 Plätze")
    expect(guide.locator("#seats-warning")).to_be_visible(timeout=3000)
    expect(guide.locator("#seats-text")).to_have_text(
        "Zu wenige Plätze: 13 Personen für 12 Plätze.")
    kamer_e = screen.locator('li[data-checkpoint="room:kamer-e"]')
    expect(kamer_e.locator(".place-words")).to_have_text("Fast voll: noch 1 frei", timeout=3000)

    # Legible from across the room: nothing under 24 px on the TV; no serious axe finding.
    screen.wait_for_timeout(500)
    small = [t for t in screen.evaluate(TEXT_SIZES_JS) if t["size"] < 24]
    assert small == []
    fits = screen.evaluate("document.documentElement.scrollHeight <= innerHeight + 1")
    assert fits, "the dashboard scrolls on a TV"
    serious = [v for v in axe_violations(screen) if v["impact"] in ("serious", "critical")]
    assert serious == []
    screen.screenshot(path=str(SHOTS / "dashboard-de-1920x1080.png"))
    for width, height in ((1024, 768), (390, 844)):
        screen.set_viewport_size({"width": width, "height": height})
        screen.wait_for_timeout(300)
        wide = screen.evaluate("document.documentElement.scrollWidth")
        assert wide <= width + 1, f"dashboard {wide} px wide at {width}"
        screen.screenshot(path=str(SHOTS / f"dashboard-de-{width}x{height}.png"),
                          full_page=True)
    guide.screenshot(path=str(SHOTS / "guide-de-390x844.png"), full_page=True)
    assert [v for v in axe_violations(guide) if v["impact"] in ("serious", "critical")] == []

    # The organiser's overview, in German: the warnings in words, kept current live.
    desk = browser.new_context(viewport={"width": 1024, "height": 768}, locale="de-DE")
    page = desk.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, url)
    page.goto(f"{url}/overview?lang=de")
    alerts = page.locator("#alert-list")
    expect(alerts.locator('[data-alert="excursion_over_seats:bike-tour"]')).to_contain_text(
        "Zu wenige Plätze")
    expect(alerts.locator('[data-alert="near_capacity:room:kamer-e"]')).to_contain_text(
        "Raum fast voll")
    _scan(url, devices["scanner"]["token"], "room:kamer-e",
          participant=_room_people(site, "kamer-e")[9])
    expect(alerts.locator('[data-alert="at_capacity:room:kamer-e"]')).to_contain_text(
        "Raum voll", timeout=3000)
    page.screenshot(path=str(SHOTS / "overview-de-1024x768.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SHOTS / "overview-de-390x844.png"), full_page=True)
    assert errors == []
    for context in (tv, phone, desk):
        context.close()
