"""The registration desk and the kiosk show the shared device states, in headless Chromium
against the real server: a removed desk or kiosk turns into the full-screen notice (never a
welcome, never a form that seems to work), and a lost server is shown in words and an icon
within 5 s, with what cannot be done until it is back."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import ARTIFACTS
from tests.test_device_states_browser import _revoke
from tests.test_scanner_browser import new_device, pair, start_scanning, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.server]

TABLET = {"width": 1024, "height": 768}


def open_desk(browser, base: str, db_path, name: str = "Desk 1"):
    """Pair a new desk device in its own context and wait for its desk panel."""
    device = new_device(db_path, name, "desk")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    pair(page, base, device)
    start_scanning(page)
    page.wait_for_selector("#desk:not([hidden])")
    return device, context, page


def open_kiosk(browser, base: str, db_path, name: str = "Kiosk 1"):
    """Pair a new kiosk in its own context and wait for its start screen."""
    device = new_device(db_path, name, "kiosk")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(f"{base}/pair/{device['pairing_code']}")
    wait_js(page, "location.pathname === '/kiosk'")
    page.wait_for_selector("#k-start:not([hidden])", timeout=15000)
    return device, context, page


def hide_revocation():
    """A route handler that answers /api/v1/me with its last good answer once refused, as
    if the heartbeat had not asked since the device was removed."""
    saved: dict[str, str] = {}

    def handle(route):
        try:
            response = route.fetch()
        except PlaywrightError:  # the server stopped at the test's end
            route.abort()
            return
        if response.status == 200:
            saved["body"] = response.text()
            route.fulfill(response=response)
        else:
            route.fulfill(status=200, content_type="application/json", body=saved["body"])

    return handle


def test_removed_desk_and_kiosk_show_the_notice(live_server, browser, db_path):
    """Removed while open: the notice within 5 s of the heartbeat. And when the server refuses
    the device before the heartbeat noticed (hidden here), the desk's form and the kiosk's
    look-up turn into the notice too, not an error line under a form that seems fine."""
    desk, _c1, desk_page = open_desk(browser, live_server.url, db_path)
    kiosk, _c2, kiosk_page = open_kiosk(browser, live_server.url, db_path)
    quiet_desk, desk_context, quiet_desk_page = open_desk(browser, live_server.url, db_path,
                                                          "Desk 2")
    quiet_kiosk, kiosk_context, quiet_kiosk_page = open_kiosk(browser, live_server.url,
                                                              db_path, "Kiosk 2")
    for context in (desk_context, kiosk_context):
        context.route(re.compile(r".*/api/v1/me$"), hide_revocation())
    quiet_desk_page.wait_for_timeout(2500)  # a heartbeat of each went through the route

    # Refused first by a registration and by a check-in.
    _revoke(db_path, quiet_desk["id"])
    _revoke(db_path, quiet_kiosk["id"])
    page = quiet_desk_page
    page.get_by_text("Register walk-in").click()
    page.get_by_label("First name *").fill("Hinrich")
    page.get_by_label("Last name *").fill("Brandt")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_selector("#removed:not([hidden])", timeout=5000)
    assert page.locator("#desk").is_hidden()

    page = quiet_kiosk_page
    statuses: list[str] = []
    page.expose_function("seen", lambda status: statuses.append(status))
    page.evaluate("""() => new MutationObserver(() => window.seen(
        document.getElementById('k-result').dataset.status)).observe(
        document.getElementById('k-result'), {attributes: true})""")
    page.get_by_role("button", name="Forgot your badge?").click()
    page.get_by_label("Last name").fill("Brandt")
    page.get_by_label("E-mail address").fill("brandt@example.org")
    page.get_by_role("button", name="Check me in").click()
    page.wait_for_selector("#removed:not([hidden])", timeout=5000)
    page.wait_for_timeout(200)
    assert statuses == [] and page.locator("#k-answer").is_hidden()

    # Removed while the pages just sit there: the heartbeat.
    desk_page.get_by_text("Register walk-in").click()
    _revoke(db_path, desk["id"])
    _revoke(db_path, kiosk["id"])
    started = time.monotonic()
    desk_page.wait_for_selector("#removed:not([hidden])", timeout=5000)
    kiosk_page.wait_for_selector("#removed:not([hidden])", timeout=5000)
    took = time.monotonic() - started
    assert took < 5.5, took
    for page in (desk_page, kiosk_page):
        assert "pair it again" in page.inner_text("#removed")
        assert page.locator("#main").is_hidden()
        assert page.locator("#walk-in-form, #k-form, #k-forgot").filter(visible=True).count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kiosk_page.screenshot(path=str(ARTIFACTS / "kiosk-removed.png"))


def test_lost_server_is_plain_on_desk_and_kiosk_within_five_seconds(live_server, browser,
                                                                     db_path):
    _d, _c1, desk_page = open_desk(browser, live_server.url, db_path)
    _k, _c2, kiosk_page = open_kiosk(browser, live_server.url, db_path)
    desk_page.get_by_text("Register walk-in").click()
    for page in (desk_page, kiosk_page):
        assert page.get_attribute("#net", "data-state") == "online"
        assert page.inner_text("#net-text") == "Online"
        assert page.locator("#net-icon svg.icon-online").is_visible()
    assert desk_page.locator("#desk-offline").is_hidden()
    assert desk_page.locator("#walk-in-form button[type=submit]").is_enabled()
    # The desk's shell is kept for a reload without the server (as the scanner's).
    wait_js(desk_page, "navigator.serviceWorker.controller !== null")

    live_server.stop()
    started = time.monotonic()
    wait_js(desk_page, "document.getElementById('net').dataset.state === 'offline'", timeout=6)
    wait_js(kiosk_page, "document.getElementById('net').dataset.state === 'offline'", timeout=6)
    took = time.monotonic() - started
    assert took <= 5.5, took
    for page in (desk_page, kiosk_page):
        # In words and with an icon, not by colour alone.
        assert page.inner_text("#net-text").startswith("Offline")
        assert page.locator("#net-icon svg.icon-offline").is_visible()
        assert page.locator("#net-icon svg.icon-online").is_hidden()
        assert page.locator("#conn-banner").is_visible()
    # The desk says what cannot be done offline, and its buttons do not pretend to work.
    wait_js(desk_page, "!document.getElementById('desk-offline').hidden", timeout=2)
    notice = desk_page.inner_text("#desk-offline")
    assert "walk-ins" in notice and "print" in notice, notice
    assert desk_page.locator("#walk-in-form button[type=submit]").is_disabled()
    assert desk_page.locator("#desk-print").is_disabled()
    # The kiosk sends people to the desk instead of offering a look-up that cannot work.
    assert "desk" in kiosk_page.inner_text("#conn-banner")
    assert kiosk_page.locator("#k-forgot").is_disabled()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    kiosk_page.screenshot(path=str(ARTIFACTS / "kiosk-offline.png"))

    # A reload while the server is gone: the desk page itself, offline, saying what waits.
    desk_page.reload()
    desk_page.wait_for_selector("#desk:not([hidden])", timeout=15000)
    desk_page.wait_for_selector("#desk-offline:not([hidden])", timeout=6000)
    wait_js(desk_page, "document.getElementById('net').dataset.state === 'offline'", timeout=6)
    assert "walk-ins" in desk_page.inner_text("#desk-offline")
    assert desk_page.locator("#walk-in-form button[type=submit]").is_disabled()
    assert desk_page.locator("#scanner").is_visible()  # scanning goes on meanwhile
    # Styled from the kept desk.css (an unstyled panel has no border).
    assert desk_page.evaluate(
        "getComputedStyle(document.getElementById('desk-offline')).borderTopWidth") == "3px"
    desk_page.get_by_text("Register walk-in").click()
    desk_page.screenshot(path=str(ARTIFACTS / "desk-offline.png"), full_page=True)

    live_server.start()
    wait_js(desk_page, "document.getElementById('net').dataset.state === 'online'", timeout=6)
    wait_js(kiosk_page, "document.getElementById('net').dataset.state === 'online'", timeout=6)
    assert desk_page.locator("#desk-offline").is_hidden()
    assert desk_page.locator("#walk-in-form button[type=submit]").is_enabled()
    assert kiosk_page.locator("#k-forgot").is_enabled()
