"""The guide's page in headless Chromium on a phone-size screen: pair, confirm by tap, add a
walk-on by a hand-scanner code, a tap while offline that arrives once, depart, return."""

from __future__ import annotations

import json
import re

import pytest

from checkin.db import connect
from checkin.devices import add_device
from tests.conftest import ARTIFACTS, axe_violations, browser_login

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


def row(page, name: str):
    return page.locator(".person", has=page.locator(".person-name", has_text=name))


def test_guide_confirm_walk_on_offline_depart_return(browser, live_server, db_path):
    db = connect(db_path)
    device = add_device(db, "Guide Forum", "guide", "excursion:forum")
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
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM participants WHERE id = ? AND "
                                          "excursion = 'forum'", [stranger["id"]]) == 1,
             "the walk-on")
    page.wait_for_function(
        "id => { const b = document.querySelector(`.person[data-id='${id}']`); "
        "return b && !b.dataset.pending && b.textContent.includes('Added on the spot'); }",
        arg=stranger["id"])
    page.click("#scan-toggle")  # camera panel closed again

    # Offline: a tap is kept on the phone, shown as waiting, and sent once when back.
    second = people[1]
    context.set_offline(True)
    row(page, second["name"]).click()
    page.wait_for_selector("#net[data-state='offline']")
    page.wait_for_selector("#waiting:not([hidden])")
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
    missing = [p["name"] for p in people[2:]]
    assert sorted(dialog.locator("#depart-missing li").all_text_contents()) == sorted(missing)
    assert str(len(missing)) in dialog.locator("#depart-summary").text_content()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "guide-phone-depart.png"))
    page.click("#depart-yes")
    page.wait_for_function("document.querySelector('#status').dataset.status === 'departed'")
    wait_for(page, lambda: count(db_path, "SELECT count(*) FROM excursion_events WHERE "
                                          "action = 'depart'", []) == 1, "the departure")
    db = connect(db_path)
    detail = json.loads(db.execute("SELECT detail FROM excursion_events WHERE action = 'depart'"
                                   ).fetchone()[0])
    db.conn.close()
    assert sorted(detail["came"]) == sorted([first["id"], second["id"], stranger["id"]])
    assert sorted(detail["missing"]) == sorted(p["id"] for p in people[2:])
    assert page.locator("#depart").is_hidden() and page.locator("#return").is_visible()

    page.click("#return")
    page.click("#return-yes")
    page.wait_for_function("document.querySelector('#status').dataset.status === 'returned'")
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
    organiser.click("text=Bike Tour Groningen")
    organiser.wait_for_selector("#roster .person")
    assert organiser.locator("#title").text_content() == "Bike Tour Groningen"
    assert axe_violations(organiser) == []
    organiser.screenshot(path=str(ARTIFACTS / "guide-tablet.png"))
    tablet.close()
    context.close()
    assert errors == []
