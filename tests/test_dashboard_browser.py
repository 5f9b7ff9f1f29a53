"""The room dashboard and the overview in headless Chromium, against the real server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from playwright.sync_api import expect

from checkin.core.db import connect
from checkin.devices import add_device
from tests.conftest import ARTIFACTS, axe_violations, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.server]


def _items(codes: list[str], checkpoint: str, start: datetime, step_minutes: float = 0):
    return [{"id": str(uuid.uuid4()), "code": code, "checkpoint": checkpoint, "direction": "in",
             "at": (start + timedelta(minutes=n * step_minutes)).isoformat()}
            for n, code in enumerate(codes)]


def _post(url: str, token: str, items: list[dict]) -> dict:
    response = requests.post(url + "/api/v1/scans", json={"scans": items}, timeout=10,
                             headers={"Authorization": "Bearer " + token})
    assert response.status_code == 200, response.text
    return response.json()


def _inside(page, checkpoint: str) -> str:
    return page.locator(f'li[data-checkpoint="{checkpoint}"] .place-inside').inner_text()


def test_dashboard_updates_live_and_is_accessible(live_server, db_path, browser):
    db = connect(db_path)
    try:
        display = add_device(db, "Hall TV", "display")
        scanner = add_device(db, "Entrance tablet", "scanner")
        codes = {wg: [r[0] for r in db.execute(
            "SELECT code FROM participants WHERE working_group = ? ORDER BY id", [wg])]
            for wg in ("abfall", "wasserstoff", "bibliotheken")}
        everyone = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
    finally:
        db.conn.close()
    # A morning of arrivals, so that the chart has a shape (devices may send earlier times).
    morning = datetime.now(UTC) - timedelta(hours=2)
    _post(live_server.url, scanner["token"], _items(everyone[:45], "entrance", morning, 2.5))

    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # Not paired yet: the screen says so and shows nothing of the event.
    page.goto(f"{live_server.url}/dashboard")
    expect(page.locator("#dash-unpaired")).to_be_visible(timeout=5000)
    assert "Groningen" not in page.content()
    # The display pairs like a scanner and lands on the dashboard.
    page.goto(f"{live_server.url}/pair/{display['pairing_code']}")
    page.wait_for_url("**/dashboard", timeout=10000)
    page.wait_for_selector('li[data-checkpoint="room:kamer-a"]')
    page.wait_for_selector('#dash-connection[data-state="live"]')
    assert "Groningen" in page.locator("#dash-event").inner_text()
    assert page.locator("#dash-unpaired").is_hidden()
    assert page.locator("#venue-inside").inner_text() == "45"
    assert _inside(page, "room:kamer-a") == "0"
    page.evaluate("window.__notReloaded = true")

    # Fill rooms: Kamer F (8 places) over capacity, Kamer E (10 places) nearly full.
    group = codes["abfall"]
    assert len(group) >= 9
    now = datetime.now(UTC)
    _post(live_server.url, scanner["token"], _items(group[:9], "room:kamer-f", now))
    _post(live_server.url, scanner["token"], _items(codes["wasserstoff"][:9], "room:kamer-e",
                                                     now))
    expect(page.locator('li[data-checkpoint="room:kamer-f"] .place-inside')).to_have_text(
        "9", timeout=3000)
    over = page.locator('li[data-checkpoint="room:kamer-f"]')
    assert over.get_attribute("data-state") == "over"
    assert "1" in over.locator(".place-words").inner_text()  # "... 1 too many", in words
    # An icon besides the words and colour: an inline SVG (no emoji font needed).
    assert over.locator(".place-icon svg use").get_attribute("href").endswith("#over")
    expect(page.locator('li[data-checkpoint="room:kamer-e"]')).to_have_attribute(
        "data-state", "near", timeout=3000)

    # One more scan: the room's count changes without a reload.
    _post(live_server.url, scanner["token"],
          _items(codes["bibliotheken"][:1], "room:kamer-a", datetime.now(UTC)))
    expect(page.locator('li[data-checkpoint="room:kamer-a"] .place-inside')).to_have_text(
        "1", timeout=3000)
    assert page.evaluate("window.__notReloaded") is True
    # The chart and the delegations show every arrival.
    page.wait_for_selector("#timeline rect.chart-bar")
    cities = page.locator("#by-city li").all_inner_texts()
    assert {c.split("\n")[0] for c in cities} == {"Groningen", "Bremen", "Oldenburg"}

    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-tablet-1024x768.png"))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "dashboard-tv-1920x1080.png"))
    assert errors == []
    context.close()


def test_overview_is_accessible_and_live(live_server, db_path, browser):
    db = connect(db_path)
    try:
        scanner = add_device(db, "Entrance tablet", "scanner")
        code = db.execute("SELECT code FROM participants ORDER BY id LIMIT 1").fetchone()[0]
    finally:
        db.conn.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    browser_login(page, live_server.url)
    page.goto(live_server.url + "/overview")
    page.wait_for_selector('#live-status[data-state="live"]')
    _post(live_server.url, scanner["token"],
          _items([code, "2345678923456789234567"], "entrance", datetime.now(UTC)))
    # The new scans appear in the table and the alert list without a reload.
    page.wait_for_selector("#scan-rows tr >> nth=1", timeout=3000)
    page.wait_for_selector(".alert-list .alert", timeout=5000)
    expect(page.locator('[data-num="arrived"]')).to_have_text("1", timeout=5000)
    assert axe_violations(page) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "overview-1280.png"), full_page=True)

    # The unknown badge's scan has a page of its own (it belongs to nobody's day).
    page.locator(".alert-list .alert a").first.click()
    page.wait_for_selector("h1")
    assert "/overview/scans/" in page.url
    assert axe_violations(page) == []
    page.go_back()
    # Clicking the person shows their day; voiding the scan there is recorded and shown.
    page.locator('#scan-rows a[href*="/overview/participants/"]').first.click()
    page.wait_for_selector("#where-now")
    assert "Stadhuis" in page.locator(".day-table").inner_text()
    assert axe_violations(page) == []
    # The correction forms wait behind one button per scan row.
    assert page.locator('input[name="note"]').first.is_hidden()
    page.locator(".day-table .correct-menu summary").first.click()
    page.fill('input[name="note"]', "test scan")
    page.get_by_role("button", name="Void this scan").click()
    page.wait_for_selector(".day-table tr.voided")
    assert "Not arrived yet" in page.locator("#where-now").inner_text()
    assert "test scan" in page.locator(".day-table").inner_text()
    assert axe_violations(page) == []
    page.screenshot(path=str(ARTIFACTS / "overview-participant-day.png"), full_page=True)
    context.close()
