"""Issue 22: the marshal's phone page and the guide's "back on the bus" in headless Chromium
at 390 px: the page in de, nl and en; a roll call started offline from the snapshot, accounts
queued and merged exactly once when the line is back (also into a roll call the server
already runs); a revoked marshal's phone wipes its snapshot; the guide's roll call."""

from __future__ import annotations

import re
import time
import uuid

import pytest
import requests

from checkin.core.db import connect
from checkin.devices import add_device, revoke
from checkin.scans import organiser_actor, record_scans
from tests.conftest import ARTIFACTS, axe_violations
from tests.test_guide_browser import count, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 390, "height": 844}
AT = "2019-11-12T09:00:00.000Z"
POINT = "grote-markt"
# Rooms the present people were last seen in (the rest only at the entrance).
ROOMS = ["room:raadzaal", "room:raadzaal", "room:kamer-a"]


def make_present(db_path, n: int) -> list[dict]:
    """Scan the first n people in at the entrance, three of them on into rooms; return them."""
    db = connect(db_path)
    try:
        people = list(db.query("SELECT id, first_name, last_name, code FROM participants "
                               "ORDER BY id LIMIT ?", [n]))
        scans = [{"id": str(uuid.uuid4()), "code": p["code"], "checkpoint": "entrance",
                  "direction": "in", "at": AT} for p in people]
        scans += [{"id": str(uuid.uuid4()), "code": p["code"], "checkpoint": room,
                   "direction": "in", "at": "2019-11-12T09:30:00.000Z"}
                  for p, room in zip(people, ROOMS, strict=False)]
        record_scans(db, organiser_actor("orga"), scans)
        return people
    finally:
        db.conn.close()


def marshal_device(db_path, name: str = "Marshal Grote Markt") -> dict:
    """A marshal's phone at the Grote Markt (pairing gives the phone a token of its own:
    the one returned here serves the test's own API calls only while it is unpaired)."""
    db = connect(db_path)
    try:
        return add_device(db, name, "marshal", "assembly:" + POINT)
    finally:
        db.conn.close()


def api(server, token: str, method: str, path: str, body=None) -> requests.Response:
    return requests.request(method, server.url + path, json=body, timeout=10,
                            headers={"Authorization": "Bearer " + token})


def rollcall_of(server, token: str, rollcall_id: str | None = None) -> dict | None:
    path = "/api/v1/rollcall" + (f"?id={rollcall_id}" if rollcall_id else "")
    response = api(server, token, "GET", path)
    assert response.status_code == 200, response.text
    return response.json()["rollcall"]


def person(page, name: str):
    return page.locator(".rc-person", has=page.locator(".rc-name", has_text=name))


def full(p: dict) -> str:
    return f"{p['first_name']} {p['last_name']}"


def open_paired(context, server, device: dict):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(server.url + "/pair/" + device["pairing_code"])
    page.wait_for_url(re.compile(r".*/marshal$"), timeout=15000)
    page.wait_for_selector("#marshal:not([hidden])")
    return page, errors


def no_sideways_scroll(page) -> bool:
    return page.evaluate("() => document.scrollingElement.scrollWidth <= window.innerWidth")


HEADINGS = {"en": "Roll call", "de": "Appell", "nl": "Appèl"}


def test_marshal_page_in_three_languages_at_390(browser, live_server, db_path):
    """Pairing opens the roll call page; a roll call started on it lists the missing first,
    grouped by the room they were last seen in, in German, Dutch and English."""
    people = make_present(db_path, 6)
    device = marshal_device(db_path)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="en")
    page, errors = open_paired(context, live_server, device)
    page.wait_for_function("() => /\\b6\\b/.test(document.querySelector('#snapshot-line')"
                           ".textContent)")
    assert page.locator("#point").input_value() == POINT
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "marshal-phone-idle.png"))

    page.click("#start")
    page.click("#start-yes")
    page.wait_for_selector(".rc-person")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcalls", []) == 1,
             "the roll call on the server")
    # Missing first, by last-seen room with counts, the fullest room first.
    titles = page.locator(".rc-missing .rc-group-title").all_text_contents()
    assert titles == ["Missing, last seen in Stadhuis Groningen: 3",
                      "Missing, last seen in Raadzaal (Plenum): 2",
                      "Missing, last seen in Kamer A: 1"]
    assert page.locator("#n-missing").text_content() == "6"
    assert "Last seen: Raadzaal (Plenum)" in person(page, full(people[0])).text_content()

    person(page, full(people[0])).click()
    page.click("#account-here")
    page.wait_for_function("() => document.querySelector('#n-missing').textContent === '5'")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 1,
             "the tap's account")
    assert person(page, full(people[0])).get_attribute("data-state") == "accounted"

    for lang in ("en", "de", "nl"):
        page.goto(live_server.url + "/marshal?lang=" + lang)
        page.wait_for_selector(".rc-person")
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("#title").text_content() == HEADINGS[lang]
        # Every state in words as well as colour: the groups' titles carry the counts.
        assert page.locator(".rc-accounted .rc-group-title").text_content().endswith("1")
        assert no_sideways_scroll(page)
        assert axe_violations(page) == [], lang
        page.screenshot(path=str(ARTIFACTS / f"marshal-phone-{lang}.png"), full_page=True)
        person(page, full(people[1])).click()
        page.wait_for_selector("#account-dialog[open]")
        assert axe_violations(page) == [], lang
        page.screenshot(path=str(ARTIFACTS / f"marshal-phone-account-{lang}.png"))
        page.click("#account-cancel")
    context.close()
    assert errors == []


def test_offline_start_from_the_snapshot_merges_exactly_once(browser, live_server, db_path):
    """Offline, the phone starts a roll call from its snapshot, accounts by tap, 'seen
    elsewhere' and a badge scan; back online all of it reaches the server once. A second
    time the server already runs one: the phone's accounts go to that one."""
    people = make_present(db_path, 5)
    device = marshal_device(db_path)
    reader = marshal_device(db_path, "Marshal 2")
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="en")
    page, errors = open_paired(context, live_server, device)
    page.wait_for_function("() => /\\b5\\b/.test(document.querySelector('#snapshot-line')"
                           ".textContent)")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)

    context.set_offline(True)
    page.wait_for_selector("#net[data-state='offline']")
    page.click("#start")
    page.click("#start-yes")
    page.wait_for_selector(".rc-person")
    assert page.locator("#n-expected").text_content() == "5"
    person(page, full(people[0])).click()
    page.click("#account-here")
    person(page, full(people[1])).click()
    page.click("#account-elsewhere")  # without a reason: refused on the phone
    page.wait_for_selector("#account-reason-error:not([hidden])")
    page.fill("#account-reason", "Seen at the pharmacy")
    page.click("#account-elsewhere")
    page.fill("#code-input", people[2]["code"])
    page.press("#code-input", "Enter")
    page.wait_for_function("() => document.querySelector('#message-text').textContent"
                           ".includes('waiting to be sent')")
    # Name search among the expected, offline: one hit opens it.
    page.fill("#code-input", people[3]["last_name"])
    assert page.locator(".rc-person").count() >= 1
    page.fill("#code-input", "")
    page.wait_for_function("() => document.querySelector('#n-missing').textContent === '2'")
    # The page itself comes from the service worker: a reload offline keeps everything.
    page.reload()
    page.wait_for_selector(".rc-person")
    page.wait_for_function("() => document.querySelector('#n-missing').textContent === '2'")
    assert person(page, full(people[1])).get_attribute("data-pending") == "true"
    page.screenshot(path=str(ARTIFACTS / "marshal-phone-offline.png"), full_page=True)
    assert count(db_path, "SELECT count(*) FROM rollcalls", []) == 0

    context.set_offline(False)
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 3,
             "the accounts and the scan to arrive", timeout_ms=30000)
    local_id = page.evaluate("() => new Promise((ok) => { const r = indexedDB.open("
                             "'checkin-rollcall'); r.onsuccess = () => { const g = r.result"
                             ".transaction(['meta']).objectStore('meta').get('current'); "
                             "g.onsuccess = () => ok(g.result.value.id); }; })")
    server = rollcall_of(live_server, reader["token"])
    assert server["id"] == local_id  # the phone's own id: the start was its own
    assert server["counts"] == {"expected": 5, "accounted": 3, "missing": 2}
    how = {p["id"]: p["account"] and p["account"]["how"] for p in server["people"]}
    assert how[people[0]["id"]] == "tap" and how[people[1]["id"]] == "elsewhere"
    assert how[people[2]["id"]] == "scan"
    page.wait_for_selector("#waiting[hidden]", state="attached", timeout=20000)
    page.reload()
    page.wait_for_selector(".rc-person")
    page.wait_for_timeout(1500)
    assert count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 3
    assert count(db_path, "SELECT count(*) FROM scans WHERE checkpoint = ?",
                 ["assembly:" + POINT]) == 1

    # The roll call ends (an organiser's command): the phone forgets its names.
    response = api(live_server, reader["token"], "POST", f"/api/v1/rollcall/{local_id}/end", {})
    assert response.status_code == 200, response.text
    page.wait_for_selector("#idle:not([hidden])", timeout=15000)
    page.wait_for_selector("#last-ended:not([hidden])")

    # Offline again; meanwhile another marshal starts one on the server.
    page.wait_for_function("() => /\\b5\\b/.test(document.querySelector('#snapshot-line')"
                           ".textContent)", timeout=15000)
    context.set_offline(True)
    page.wait_for_selector("#net[data-state='offline']")
    running = api(live_server, reader["token"], "POST", "/api/v1/rollcall", {"point": "vismarkt"})
    assert running.status_code == 201, running.text
    running_id = running.json()["rollcall"]["id"]
    page.click("#start")
    page.click("#start-yes")
    page.wait_for_selector(".rc-person")
    person(page, full(people[4])).click()
    page.click("#account-here")
    context.set_offline(False)
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcall_accounts WHERE "
                                          "rollcall_id = ?", [running_id]) == 1,
             "the account in the running roll call", timeout_ms=30000)
    page.wait_for_function("id => document.querySelector(`.rc-person[data-id='${id}']`)"
                           ".dataset.state === 'accounted' && !document.querySelector("
                           "`.rc-person[data-id='${id}']`).dataset.pending", arg=people[4]["id"],
                           timeout=15000)
    assert count(db_path, "SELECT count(*) FROM rollcalls", []) == 2
    context.close()
    assert errors == []


def test_a_revoked_marshal_phone_wipes_its_snapshot(browser, live_server, db_path):
    make_present(db_path, 4)
    device = marshal_device(db_path)
    context = browser.new_context(viewport=PHONE, locale="en")
    page, _errors = open_paired(context, live_server, device)
    page.wait_for_function("() => /\\b4\\b/.test(document.querySelector('#snapshot-line')"
                           ".textContent)")
    stored = ("() => new Promise((ok) => { const r = indexedDB.open('checkin-rollcall'); "
              "r.onupgradeneeded = () => r.transaction.abort(); r.onerror = () => ok(null); "
              "r.onsuccess = () => { const db = r.result; if (!db.objectStoreNames.contains("
              "'meta')) { db.close(); ok(null); return; } const g = db.transaction(['meta'])"
              ".objectStore('meta').get('snapshot'); g.onsuccess = () => { db.close(); "
              "ok(g.result ? g.result.value.people.length : null); }; }; })")
    assert page.evaluate(stored) == 4
    db = connect(db_path)
    revoke(db, device["id"])
    db.conn.close()
    page.wait_for_selector("#removed:not([hidden])", timeout=15000)
    page.wait_for_function("() => document.documentElement.dataset.wiped === 'yes'")
    assert page.evaluate(stored) is None
    assert page.evaluate("() => localStorage.getItem('checkin.device')") == '{"removed":true}'
    context.close()


def test_guide_back_on_the_bus(browser, live_server, db_path):
    """After departure the guide's page runs a roll call of those who left with the bus: tap
    and badge scan account for people, offline too, once each on the server."""
    db = connect(db_path)
    device = add_device(db, "Guide Forum", "guide", "excursion:forum")
    reader = add_device(db, "Guide Forum 2", "guide", "excursion:forum")
    people = list(db.query("SELECT id, first_name, last_name, code FROM participants WHERE "
                           "excursion = 'forum' ORDER BY id"))
    db.conn.close()
    came = people[:4]
    response = api(live_server, device["token"], "POST", "/api/v1/scans", {"scans": [
        {"id": str(uuid.uuid4()), "participant": p["id"], "checkpoint": "excursion:forum",
         "direction": "in", "at": "2019-11-12T13:00:00Z"} for p in came]})
    assert response.status_code == 200
    response = api(live_server, device["token"], "POST", "/api/v1/excursions/forum/events",
                   {"id": str(uuid.uuid4()), "action": "depart", "at": "2019-11-12T13:30:00Z"})
    assert response.status_code == 200, response.text

    context = browser.new_context(viewport=PHONE, has_touch=True, locale="en")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/pair/" + device["pairing_code"])
    page.wait_for_url(re.compile(r".*/guide$"), timeout=15000)
    page.wait_for_selector("#bus-rollcall:not([hidden])")
    page.click("#bus-start")
    page.wait_for_selector("#bus-list .rc-person")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcalls WHERE scope = "
                                          "'excursion:forum'", []) == 1, "the bus roll call")
    # Expected: those who left with the bus, all missing until accounted for.
    page.wait_for_function("() => document.querySelectorAll('#bus-list .rc-person').length"
                           " === 4")
    bus = page.locator("#bus-list")
    bus.locator(".rc-person", has_text=came[0]["last_name"]).click()
    page.click("#account-here")
    page.click("#scan-toggle")
    page.fill("#code-input", came[1]["code"])
    page.press("#code-input", "Enter")
    page.click("#scan-toggle")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 2,
             "two accounts")
    page.wait_for_function("() => document.querySelector('#bus-summary').textContent"
                           ".includes('2 of 4 back, 2 missing')")
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "guide-phone-bus-rollcall.png"), full_page=True)

    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    context.set_offline(True)
    bus.locator(".rc-person", has_text=came[2]["last_name"]).click()
    page.click("#account-here")
    page.wait_for_function("() => document.querySelector('#bus-summary').textContent"
                           ".includes('3 of 4 back')")
    page.wait_for_timeout(500)
    assert count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 2
    context.set_offline(False)
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 3,
             "the offline tap", timeout_ms=30000)
    found = api(live_server, reader["token"], "GET", "/api/v1/excursions/forum/rollcall").json()
    assert found["rollcall"]["counts"] == {"expected": 4, "accounted": 3, "missing": 1}
    page.wait_for_timeout(1000)
    assert count(db_path, "SELECT count(*) FROM rollcall_accounts", []) == 3
    context.close()
    assert errors == []


# The phone's stored roll call (the marshal page's store), read with rollcall-phone.js itself.
STORED = "() => window.CheckinRollcall.open('checkin-rollcall').current()"


def held_when(page, ok, what: str, timeout: float = 10.0) -> dict:
    """Return the phone's stored roll call once ok(it) holds."""
    deadline = time.monotonic() + timeout
    while True:
        held = page.evaluate(STORED)
        if held and ok(held):
            return held
        assert time.monotonic() < deadline, f"never {what}: {held}"
        page.wait_for_timeout(50)


def how_of(held: dict) -> dict:
    return {p["id"]: p["account"] and p["account"]["how"] for p in held["people"]}


def test_pushes_of_changes_are_laid_in_and_a_gap_reads_the_roll_call_again(
        browser, live_server, db_path):
    """A scan's push carries only the changed person: the phone lays it into its stored roll
    call (seq counts on by one). A phone that missed a push (its seq is behind) reads the
    whole roll call again on the next one, so what it missed is mended too."""
    people = make_present(db_path, 4)
    device = marshal_device(db_path)
    reader = marshal_device(db_path, "Marshal 2")
    context = browser.new_context(viewport=PHONE, locale="en")
    page, errors = open_paired(context, live_server, device)
    # The page's /live socket is joined before the roll call starts (the server pushes only
    # while someone listens): its frames are watched from a reload on.
    frames: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
    page.reload()
    page.wait_for_selector("#net[data-state='online']")
    deadline = time.monotonic() + 10
    while not any('"hello"' in f for f in frames):
        assert time.monotonic() < deadline, "the page's /live socket never said hello"
        page.wait_for_timeout(50)
    started = api(live_server, reader["token"], "POST", "/api/v1/rollcall", {})
    assert started.status_code == 201, started.text
    rollcall_id = started.json()["rollcall"]["id"]
    page.wait_for_selector(".rc-person")

    def account(p: dict) -> None:
        response = api(live_server, reader["token"], "POST",
                       f"/api/v1/rollcall/{rollcall_id}/accounts",
                       {"accounts": [{"id": str(uuid.uuid4()), "participant_id": p["id"],
                                      "how": "tap", "at": AT.replace("09:00", "09:40")}]})
        assert response.status_code == 200, response.text

    account(people[0])
    held_when(page, lambda r: how_of(r)[people[0]["id"]], "the first account")
    # The page's socket has joined by now (it may have been a moment late for the first).
    account(people[2])
    # Laid in from a push of changes (a full one, the start's or a newcomer's, has `full`).
    held = held_when(page, lambda r: not r.get("full") and (r.get("seq") or 0) >= 2 and
                     how_of(r)[people[2]["id"]], "laid in")
    assert held["id"] == rollcall_id and held["counts"]["accounted"] == 2, held
    page.wait_for_function("id => document.querySelector(`.rc-person[data-id='${id}']`)"
                           ".dataset.state === 'accounted'", arg=people[2]["id"])

    # The phone misses a push: its seq falls behind, and what that push said (how the first
    # person was accounted for) it holds wrongly. The next push does not follow on from it.
    page.evaluate("""async () => {
        const rc = window.CheckinRollcall.open('checkin-rollcall');
        const held = await rc.current();
        held.seq -= 1;
        for (const p of held.people) if (p.account) p.account.how = 'elsewhere';
        await rc.applyServer(held);
    }""")
    assert how_of(page.evaluate(STORED))[people[0]["id"]] == "elsewhere"
    account(people[1])
    held = held_when(page, lambda r: how_of(r)[people[1]["id"]], "the second account")
    assert how_of(held) == {people[0]["id"]: "tap", people[1]["id"]: "tap",
                            people[2]["id"]: "tap", people[3]["id"]: None}
    assert held["counts"] == {"expected": 4, "accounted": 3, "missing": 1}
    page.wait_for_function("() => document.querySelector('#n-missing').textContent === '1'")
    context.close()
    assert errors == []
