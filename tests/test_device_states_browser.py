"""What a device shows when it is removed or loses the server, in headless Chromium against the
real server: a removed tablet never shows a welcome, and a lost connection is plain within 5 s."""

from __future__ import annotations

import re
import time

import pytest

from checkin.core.db import connect
from checkin.devices import add_device, revoke
from tests.conftest import ARTIFACTS, browser_login
from tests.test_scanner_browser import pair, start_scanning, wait_js

pytestmark = [pytest.mark.browser, pytest.mark.server]

TABLET = {"width": 1024, "height": 768}


def _device_and_code(db_path):
    db = connect(db_path)
    try:
        device = add_device(db, "Door tablet", "scanner", "entrance")
        code = db.execute("SELECT code FROM participants ORDER BY id LIMIT 1").fetchone()[0]
    finally:
        db.conn.close()
    return device, code


def _revoke(db_path, device_id: str) -> None:
    db = connect(db_path)
    try:
        revoke(db, device_id)
    finally:
        db.conn.close()


def test_revoked_tablet_turns_into_removed_screen_within_seconds(live_server, browser, db_path):
    device, _code = _device_and_code(db_path)
    page = browser.new_context(viewport=TABLET).new_page()
    pair(page, live_server.url, device)
    start_scanning(page)
    _revoke(db_path, device["id"])
    started = time.monotonic()
    page.wait_for_selector("#removed:not([hidden])", timeout=8000)
    took = time.monotonic() - started
    assert took < 8, took  # the heartbeat, then the wipe of every store (roll calls too)
    assert page.locator("#main").is_hidden()
    assert "pair it again" in page.inner_text("#removed")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "device-removed-tablet.png"))


def test_removed_screen_when_another_request_is_refused_before_the_heartbeat(
        live_server, browser, db_path):
    """The page's other requests (here the wipe's own check) may meet the refusal first; their
    wipe takes the token the heartbeat asks with, and the removed screen shows all the same."""
    device, _code = _device_and_code(db_path)
    page = browser.new_context(viewport=TABLET).new_page()
    pair(page, live_server.url, device)
    start_scanning(page)
    _revoke(db_path, device["id"])
    page.evaluate("() => window.CheckinWipe.check()")
    assert page.evaluate("() => localStorage.getItem('checkin.device')") == '{"removed":true}'
    page.wait_for_selector("#removed:not([hidden])", timeout=8000)
    assert page.locator("#main").is_hidden()


def test_first_refused_send_never_shows_a_welcome(live_server, browser, db_path):
    device, code = _device_and_code(db_path)
    page = browser.new_context(viewport=TABLET).new_page()
    # Hide the revocation from the heartbeat (as if it had not asked yet) and from the page's
    # other requests (a headcount or roster refresh lost on the way): the scan itself is the
    # first thing the server refuses.
    saved: dict[str, str] = {}

    def me(route):
        response = route.fetch()
        if response.status == 200:
            saved["body"] = response.text()
            route.fulfill(response=response)
        else:
            route.fulfill(status=200, body=saved["body"], content_type="application/json")

    def others(route):
        response = route.fetch()
        if response.status == 401:
            route.abort()
        else:
            route.fulfill(response=response)

    page.route(re.compile(r".*/api/v1/(?!me$|scans$).*"), others)
    page.route(re.compile(r".*/api/v1/me$"), me)
    pair(page, live_server.url, device)
    start_scanning(page)
    _revoke(db_path, device["id"])
    statuses: list[str] = []
    page.expose_function("seen", lambda status: statuses.append(status))
    page.evaluate("""() => new MutationObserver(() => window.seen(
        document.getElementById('result').dataset.status)).observe(
        document.getElementById('result'), {attributes: true})""")
    page.fill("#code-input", code)
    page.press("#code-input", "Enter")
    page.wait_for_selector("#removed:not([hidden])", timeout=8000)
    page.wait_for_timeout(300)
    assert "accepted" not in statuses and "warning" not in statuses, statuses
    assert page.locator("#result").is_hidden()
    # The page's requests still under way would outlive the routes' context.
    page.unroute_all(behavior="ignoreErrors")
    page.context.close()


def test_connection_lost_is_plain_within_five_seconds(live_server, browser, db_path):
    db = connect(db_path)
    excursion = db.execute("SELECT ref FROM checkpoints WHERE kind = 'excursion' "
                           "LIMIT 1").fetchone()[0]
    db.conn.close()
    context = browser.new_context(viewport=TABLET)
    pages = {"dashboard": context.new_page()}
    browser_login(pages["dashboard"], live_server.url)
    pages["guide"] = context.new_page()
    pages["scanner"] = context.new_page()
    pages["dashboard"].goto(live_server.url + "/dashboard")
    pages["guide"].goto(f"{live_server.url}/guide?excursion={excursion}")
    pages["scanner"].goto(live_server.url + "/scan")
    pages["scanner"].wait_for_selector("#setup:not([hidden])")
    start_scanning(pages["scanner"])
    pages["dashboard"].wait_for_selector("#dash-connection[data-state=live]")
    pages["guide"].wait_for_selector("#guide:not([hidden])")
    live_server.stop()
    started = time.monotonic()
    pages["dashboard"].wait_for_selector("#conn-banner:not([hidden])", timeout=6000)
    pages["guide"].wait_for_selector("#conn-banner:not([hidden])", timeout=6000)
    wait_js(pages["scanner"], "document.getElementById('net').dataset.state === 'offline'",
            timeout=6)
    took = time.monotonic() - started
    assert took <= 5.5, took  # 5 s, and a little for polling three pages from here
    for name in ("dashboard", "guide"):
        page = pages[name]
        text = page.inner_text("#conn-banner")
        assert re.search(r"\d\d:\d\d:\d\d", text), text  # the time of the last update
        assert page.evaluate("document.body.classList.contains('conn-lost')")
        dimmed = page.evaluate("getComputedStyle(document.querySelector('main')).filter")
        assert "grayscale" in dimmed, dimmed
        page.screenshot(path=str(ARTIFACTS / f"connection-lost-{name}.png"))
    assert pages["dashboard"].get_attribute("#dash-connection", "data-state") == "lost"
    # The scanner says so too, but its answers keep their colours (no greying there).
    assert pages["scanner"].locator("#conn-banner").is_visible()
    assert "grayscale" not in pages["scanner"].evaluate(
        "getComputedStyle(document.querySelector('main')).filter")


def test_a_name_search_clears_the_red_answer(live_server, browser, db_path):
    device, _code = _device_and_code(db_path)
    page = browser.new_context(viewport=TABLET).new_page()
    pair(page, live_server.url, device)
    start_scanning(page)
    page.fill("#code-input", "NOT-A-BADGE-AT-ALL")
    page.press("#code-input", "Enter")
    page.wait_for_selector("#result[data-status=rejected]")
    page.fill("#search-input", "Hoek")
    page.wait_for_selector("#result[data-status=idle]", timeout=3000)
    assert page.locator("#result .result-title").inner_text() in ("Ready to scan",)


def test_after_departing_the_guide_is_not_offered_undo(live_server, browser, db_path):
    db = connect(db_path)
    excursion = db.execute("SELECT id FROM excursions ORDER BY id LIMIT 1").fetchone()[0]
    db.conn.close()
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    browser_login(page, live_server.url)
    page.goto(f"{live_server.url}/guide?excursion={excursion}")
    page.wait_for_selector("#roster .person")
    page.locator("#roster .person").first.click()
    page.wait_for_selector("#undo:not([hidden])")
    page.click("#depart")
    page.click("#depart-yes")
    page.wait_for_selector("#status[data-status=departed]")
    assert page.locator("#undo").is_hidden()
    # The status icon is an inline SVG, not an emoji a tablet may lack.
    assert page.locator("#status .status-icon svg use").count() == 1


def test_phone_navigation_collapses_behind_a_menu_button(live_server, browser):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    browser_login(page, live_server.url)
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible() and menu.get_attribute("aria-expanded") == "false"
    assert page.locator("#main-nav").is_hidden()
    menu.click()
    assert page.locator("#main-nav").is_visible() and menu.get_attribute("aria-expanded") == "true"
    header = page.locator(".site-header").bounding_box()
    page.set_viewport_size({"width": 1366, "height": 768})
    assert page.locator("#main-nav").is_visible() and menu.is_hidden()
    assert header["height"] < 400


def test_tablet_revoked_offline_says_how_many_scans_were_refused(live_server, browser, db_path):
    """Revoked while offline, the tablet answers its scans from the roster; on its next
    contact the server refuses them (a stolen tablet injects nothing), and the removed screen
    says how many, in German here, before and after its storage is wiped."""
    from tests.test_scanner_browser import PHONE, answer, people, type_code

    device, _code = _device_and_code(db_path)
    context = browser.new_context(viewport=TABLET, locale="de-DE")
    page = context.new_page()
    page.goto(f"{live_server.url}/scan?lang=de")
    page.goto(f"{live_server.url}/pair/{device['pairing_code']}")
    wait_js(page, "location.pathname === '/scan'")
    page.wait_for_selector("#setup:not([hidden])", timeout=15000)
    page.locator("input[name=direction][value=in]").check()
    page.locator("#start").click()
    page.wait_for_selector("#scanner:not([hidden])")
    wait_js(page, "CheckinStore.metaGet('roster_at').then(v => !!v)")
    context.set_offline(True)
    for person in people(db_path, 3, offset=30):
        type_code(page, person["code"])
        answer(page, "accepted")  # green: offline, the tablet cannot know it was removed
        page.wait_for_selector(f"#result:has-text('{person['name']}')")
    wait_js(page, "CheckinStore.waitingCount().then(n => n === 3)")
    _revoke(db_path, device["id"])
    context.set_offline(False)
    page.wait_for_selector("#removed-unsent:not([hidden])", timeout=15000)
    text = page.inner_text("#removed")
    assert "3 Scans auf diesem Gerät wurden nicht angenommen" in text, text
    assert page.locator("#main").is_hidden()
    db = connect(db_path)
    try:
        assert db.execute("SELECT count(*) FROM scans WHERE device_id = ?",
                          [device["id"]]).fetchone()[0] == 0
    finally:
        db.conn.close()
    # Wiped: only the tombstone with the count stays; a reload still says it.
    wait_js(page, "document.documentElement.dataset.wiped === 'yes'")
    assert page.evaluate("localStorage.getItem('checkin.device')") == \
        '{"removed":true,"unsent":3}'
    page.reload()
    page.wait_for_selector("#removed-unsent:not([hidden])", timeout=15000)
    assert page.get_attribute("#removed-unsent", "data-count") == "3"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "device-removed-unsent-de-tablet.png"))
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / "device-removed-unsent-de-phone.png"))
    context.close()

