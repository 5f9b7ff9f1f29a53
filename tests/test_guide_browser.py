"""The guide's page in headless Chromium on a phone-size screen: pair, confirm by tap, add a
walk-on by a hand-scanner code, a tap while offline that arrives once, depart, return."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
import requests

from checkin.core.db import connect
from checkin.devices import add_device
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, axe_violations, browser_login
from tests.qrvideo import write_y4m

pytestmark = [pytest.mark.browser, pytest.mark.server]
PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}


def count(db_path, sql: str, params: list) -> int:
    db = connect(db_path)
    try:
        return db.execute(sql, params).fetchone()[0]
    finally:
        db.conn.close()


def wait_for(page, predicate, what: str, timeout_ms: int = 15000) -> None:
    """Wait (polling the database from Python) until predicate() is true."""
    for _ in range(timeout_ms // 200):
        if predicate():
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"timed out waiting for {what}")


# Every wait_for_function takes a function ("() => ..."), never a bare expression: Playwright
# polls a bare expression with eval(), which the page's CSP (no unsafe-eval) refuses.


def row(page, name: str):
    return page.locator(".person", has=page.locator(".person-name", has_text=name))


def test_guide_confirm_walk_on_offline_depart_return(browser, live_server, db_path):
    db = connect(db_path)
    device = add_device(db, "Guide Forum", "guide", "excursion:forum")
    other_phone = add_device(db, "Guide Forum 2", "guide", "excursion:forum")
    people = list(db.query("SELECT id, first_name || ' ' || last_name AS name, code FROM "
                           "participants WHERE excursion = 'forum' ORDER BY id"))
    stranger = next(db.query("SELECT id, first_name || ' ' || last_name AS name, code "
                             "FROM participants WHERE excursion = 'avebe' ORDER BY id"))
    db.conn.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="en")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Not paired yet: the page says what to do.
    page.goto(live_server.url + "/guide")
    page.wait_for_selector("#unpaired:not([hidden])")
    assert "not paired" in page.locator("#unpaired-reason").text_content()
    assert axe_violations(page) == []

    # Pairing through the organiser's QR link opens the guide's page by itself.
    page.goto(live_server.url + "/pair/" + device["pairing_code"])
    page.wait_for_url(re.compile(r".*/guide$"), timeout=15000)
    page.wait_for_selector("#roster .person")
    assert page.locator("#title").text_content() == "Groninger Forum"
    assert page.locator("#roster .person").count() == len(people)
    assert page.locator("#status-text").text_content() == "Boarding"
    assert axe_violations(page) == []

    # Confirm by a tap on the name: word and icon change, the scan is stored once.
    first = people[0]
    row(page, first["name"]).click()
    page.wait_for_function(
        "id => document.querySelector(`.person[data-id='${id}']`).dataset.status === "
        "'confirmed'", arg=first["id"])
    assert "Confirmed" in row(page, first["name"]).text_content()
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM scans WHERE participant_id = ? "
                                          "AND checkpoint = 'excursion:forum'",
                                 [first["id"]]) == 1, "the tap's scan")

    # Someone from another excursion: scanned by the hand scanner, then added on the spot.
    page.click("#scan-toggle")
    page.fill("#code-input", stranger["code"])
    page.press("#code-input", "Enter")
    page.wait_for_selector("#add-walk-on:not([hidden])")
    assert "Avebe" in page.locator("#message-text").text_content()
    page.click("#add-walk-on")
    # A walk-on is a day event over the plan (the plan still says avebe).
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM excursion_events WHERE "
                                          "action = 'walk_on' AND participant_id = ? AND "
                                          "excursion = 'forum'", [stranger["id"]]) == 1,
             "the walk-on")
    page.wait_for_function(
        "id => { const b = document.querySelector(`.person[data-id='${id}']`); "
        "return b && !b.dataset.pending && b.textContent.includes('Added on the spot'); }",
        arg=stranger["id"])
    page.click("#scan-toggle")  # camera panel closed again

    # Live: a confirmation from another phone of the same excursion appears without reload.
    third = people[2]
    response = requests.post(live_server.url + "/api/v1/scans", timeout=10, headers={
        "Authorization": "Bearer " + other_phone["token"]}, json={"scans": [{
            "id": str(uuid.uuid4()), "participant": third["id"], "checkpoint": "excursion:forum",
            "direction": "in", "at": "2019-11-12T13:00:00Z"}]})
    assert response.status_code == 200
    page.wait_for_function(
        "id => document.querySelector(`.person[data-id='${id}']`).dataset.status === "
        "'confirmed'", arg=third["id"], timeout=5000)

    # Offline: a tap is kept on the phone, shown as waiting, and sent once when back.
    # The service worker keeps the page, so even a reload without network shows the list.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    second = people[1]
    context.set_offline(True)
    row(page, second["name"]).click()
    page.wait_for_selector("#net[data-state='offline']")
    page.wait_for_selector("#waiting:not([hidden])")
    page.reload()
    page.wait_for_selector("#roster .person")
    assert page.locator("#as-of").is_visible()
    assert row(page, second["name"]).get_attribute("data-status") == "confirmed"
    assert row(page, second["name"]).get_attribute("data-pending") == "true"
    page.wait_for_timeout(1000)
    assert count(db_path, "SELECT count(*) FROM scans WHERE participant_id = ?",
                 [second["id"]]) == 0
    page.screenshot(path=str(ARTIFACTS / "guide-phone-offline.png"))
    context.set_offline(False)
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM scans WHERE participant_id = ?",
                                 [second["id"]]) == 1, "the offline tap to arrive")
    page.wait_for_selector("#waiting[hidden]", state="attached", timeout=20000)
    page.reload()
    page.wait_for_selector("#roster .person")
    page.wait_for_timeout(1000)
    assert count(db_path, "SELECT count(*) FROM scans WHERE participant_id = ?",
                 [second["id"]]) == 1

    # Depart: the confirmation names who is missing; the departure records who came.
    page.screenshot(path=str(ARTIFACTS / "guide-phone.png"))
    page.click("#depart")
    dialog = page.locator("#depart-dialog")
    dialog.wait_for(state="visible")
    missing = [p["name"] for p in people[3:]]
    assert sorted(dialog.locator("#depart-missing li").all_text_contents()) == sorted(missing)
    assert str(len(missing)) in dialog.locator("#depart-summary").text_content()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "guide-phone-depart.png"))
    page.click("#depart-yes")
    page.wait_for_function("() => document.querySelector('#status').dataset.status === 'departed'")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM excursion_events WHERE "
                                          "action = 'depart'", []) == 1, "the departure")
    db = connect(db_path)
    detail = json.loads(db.execute("SELECT detail FROM excursion_events WHERE action = 'depart'"
                                   ).fetchone()[0])
    db.conn.close()
    assert sorted(detail["came"]) == sorted([first["id"], second["id"], third["id"],
                                             stranger["id"]])
    assert sorted(detail["missing"]) == sorted(p["id"] for p in people[3:])
    assert page.locator("#depart").is_hidden() and page.locator("#return").is_visible()

    page.click("#return")
    page.click("#return-yes")
    page.wait_for_function("() => document.querySelector('#status').dataset.status === 'returned'")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM excursion_events WHERE "
                                          "action = 'return'", []) == 1, "the return")
    assert page.locator("#status-text").text_content().startswith("Returned")
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "guide-phone-returned.png"), full_page=True)

    # The same page on a tablet, signed in as an organiser choosing the excursion.
    tablet = browser.new_context(viewport=TABLET, locale="de")
    organiser = tablet.new_page()
    browser_login(organiser, live_server.url)
    organiser.goto(live_server.url + "/guide")
    organiser.wait_for_selector("#choose:not([hidden])")
    # A German browser: the excursion's German title (the event file gives it per language).
    organiser.click("text=Radtour Groningen")
    organiser.wait_for_selector("#roster .person")
    assert organiser.locator("#title").text_content() == "Radtour Groningen"
    assert axe_violations(organiser) == []
    organiser.screenshot(path=str(ARTIFACTS / "guide-tablet.png"))
    tablet.close()
    context.close()
    assert errors == []


def test_guide_confirms_by_camera(live_server, playwright_instance, db_path, tmp_path):
    """The phone's camera sees a real badge QR: the person is confirmed once, not per frame."""
    db = connect(db_path)
    device = add_device(db, "Guide Avebe", "guide", "excursion:avebe")
    person = next(db.query("SELECT id, code FROM participants WHERE excursion = 'avebe' "
                           "ORDER BY id"))
    db.conn.close()
    video = write_y4m(tmp_path / "badge.y4m", person["code"])
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])
    try:
        page = browser.new_page(viewport=PHONE)
        page.goto(live_server.url + "/pair/" + device["pairing_code"])
        page.wait_for_url(re.compile(r".*/guide$"), timeout=15000)
        page.wait_for_selector("#roster .person")
        page.click("#scan-toggle")
        page.wait_for_function(
            "id => document.querySelector(`.person[data-id='${id}']`).dataset.status === "
            "'confirmed'", arg=person["id"], timeout=20000)
        page.wait_for_function(
            "() => document.querySelector('#message').dataset.status === 'accepted' && "
            "document.querySelector('#message-text').textContent.includes('confirmed')")
        page.screenshot(path=str(ARTIFACTS / "guide-phone-camera.png"))
        page.wait_for_timeout(4000)  # the badge stays in view longer than the repeat window
    finally:
        browser.close()
    assert count(db_path, "SELECT count(*) FROM scans WHERE participant_id = ? AND "
                          "checkpoint = 'excursion:avebe' AND source = 'scan'",
                 [person["id"]]) == 1


def test_a_refused_departure_is_kept_and_saved_as_a_file(browser, live_server, db_path):
    """Two guides' phones: one departs while the other, offline, also taps Depart. The late
    departure is refused when it arrives; the phone keeps it, counts it and saves it."""
    from datetime import UTC, datetime

    db = connect(db_path)
    device = add_device(db, "Guide Forum", "guide", "excursion:forum")
    other_phone = add_device(db, "Guide Forum 2", "guide", "excursion:forum")
    db.conn.close()
    context = browser.new_context(viewport=PHONE, has_touch=True, locale="en",
                                  accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(live_server.url + "/pair/" + device["pairing_code"])
    page.wait_for_url(re.compile(r".*/guide$"), timeout=15000)
    page.wait_for_selector("#roster .person")

    context.set_offline(True)
    page.click("#depart")
    page.click("#depart-yes")
    page.wait_for_selector("#waiting:not([hidden])")
    other = requests.post(live_server.url + "/api/v1/excursions/forum/events", timeout=10,
                          headers={"Authorization": "Bearer " + other_phone["token"]},
                          json={"id": str(uuid.uuid4()), "action": "depart",
                                "at": datetime.now(UTC).isoformat()})
    assert other.status_code == 200, other.text
    context.set_offline(False)
    page.wait_for_selector("#dropped:not([hidden])", timeout=20000)
    assert "1 refused by the server (kept on this phone)" in page.inner_text("#dropped")
    # The queue's count is redrawn a moment after the refused list: wait for it.
    page.wait_for_selector("#waiting", state="hidden", timeout=5000)
    assert count(db_path, "SELECT count(*) FROM excursion_events WHERE action = 'depart'",
                 []) == 1
    with page.expect_download() as info:
        page.get_by_role("button", name="Save as a file").click()
    saved = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert saved["device"]["name"] == "Guide Forum"
    [item] = saved["items"]
    assert item["excursion"] == "forum" and item["body"]["action"] == "depart"
    assert item["answer"]["error"]["code"] == "already_departed"
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "guide-phone-refused.png"))
    assert errors == []
    context.close()
