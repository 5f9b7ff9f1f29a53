"""Issue 22: the organisers' roll-call page and the big screen during a roll call, in headless
Chromium against the real server (one for the module): start with a confirmation, a marshal's
scan through the API shows without a reload, the missing list's PDF, end; the screen shows
numbers only, legible at 1280×720 and 1920×1080; axe-core; de/nl/en.
"""

from __future__ import annotations

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
from tests.test_live import _scan

pytestmark = [pytest.mark.browser, pytest.mark.server]

SHOTS = ARTIFACTS / "rollcall"
INSIDE = 12
#: The page's words in each language: its title and the start button.
WORDS = {"en": ("Roll call", "Start roll call"), "de": ("Appell", "Appell starten"),
         "nl": ("Appèl", "Appèl starten")}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Any:
    """The demo event served by the real server; twelve people inside, with phone numbers."""
    folder = tmp_path_factory.mktemp("rollcall-browser")
    path = folder / "event.db"
    db = connect(path)
    create_demo(db, folder)
    add_organiser(db, *ORGANISER)
    point = db.execute("SELECT id FROM checkpoints WHERE kind = 'assembly' "
                       "ORDER BY id").fetchone()[0]
    devices = {"display": add_device(db, "Hall TV", "display"),
               "scanner": add_device(db, "Door", "scanner"),
               "marshal": add_device(db, "Marshal", "marshal", point)}
    people = [dict(r) for r in db.query(
        "SELECT id, code, first_name, last_name FROM participants ORDER BY id")]
    db.conn.close()
    server = LiveServer(path, free_port(), folder / "server.log")
    server.start()
    for n, person in enumerate(people[:INSIDE]):
        where = "entrance" if n % 3 else "room:kamer-a"
        if where != "entrance":
            assert _scan(server.url, devices["scanner"]["token"], "entrance",
                         person["code"]).ok
        assert _scan(server.url, devices["scanner"]["token"], where, person["code"]).ok
    yield {"url": server.url, "devices": devices, "people": people, "point": point}
    server.stop()


def _missing(page) -> str:
    return page.locator('.rollcall-current [data-num="missing"]').inner_text()


def test_the_organiser_starts_follows_and_ends_a_roll_call(site, browser):
    url = site["url"]
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    browser_login(page, url)
    # Linked from the organisers' navigation.
    page.locator("#main-nav a", has_text="Roll call").click()
    page.wait_for_url("**/rollcall")
    page.wait_for_selector('#live-status[data-state="live"]')
    assert axe_violations(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "page-idle-1280x800.png"), full_page=True)
    # One big button, then a confirmation: nothing starts on the first click.
    page.get_by_text("Start roll call", exact=True).click()
    expect(page.locator("#start-confirm")).to_be_visible()
    assert page.locator(".rollcall-current").count() == 0
    page.locator("#start-confirm").click()
    page.wait_for_selector('.rollcall-current[data-state="running"]')
    assert _missing(page) == str(INSIDE)
    assert page.locator("#missing-list tbody tr").count() == INSIDE
    page.wait_for_selector('#live-status[data-state="live"]')

    # A marshal scans a badge at the assembly point: the page follows without a reload.
    page.evaluate("window.__notReloaded = true")
    person = site["people"][0]
    assert _scan(url, site["devices"]["marshal"]["token"], site["point"], person["code"]).ok
    expect(page.locator('.rollcall-current [data-num="missing"]')).to_have_text(
        str(INSIDE - 1), timeout=2000)
    assert page.evaluate("window.__notReloaded") is True
    assert page.locator(f'#missing-list tr[data-person="{person["id"]}"]').count() == 0
    assert page.locator(f'#accounted-list tr[data-person="{person["id"]}"]').count() == 1
    assert page.locator("#table-points tbody tr").first.inner_text().split()[-1] == "1"
    # A second scan's push carries only that person: the page fetches their row alone and
    # lays it in beside the first, numbers and tables with it.
    second = site["people"][1]
    assert _scan(url, site["devices"]["marshal"]["token"], site["point"], second["code"]).ok
    expect(page.locator(f'#accounted-list tr[data-person="{second["id"]}"]')).to_have_count(
        1, timeout=2000)
    expect(page.locator('.rollcall-current [data-num="missing"]')).to_have_text(str(INSIDE - 2))
    assert page.locator(f'#missing-list tr[data-person="{second["id"]}"]').count() == 0
    assert page.locator("#accounted-list tbody tr").count() == 2
    assert page.locator("#missing-list tbody tr").count() == INSIDE - 2
    expect(page.locator("#accounted-title")).to_contain_text("(2)")
    assert page.locator("#table-points tbody tr").first.inner_text().split()[-1] == "2"
    assert page.evaluate("window.__notReloaded") is True
    assert axe_violations(page) == []
    page.screenshot(path=str(SHOTS / "page-running-1280x800.png"), full_page=True)
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.screenshot(path=str(SHOTS / "page-running-1920x1080.png"), full_page=True)

    # The missing list as a PDF.
    href = page.locator("#missing-pdf").get_attribute("href")
    response = page.request.get(url + href)
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # End, with a confirmation; the record shows in the previous roll calls.
    page.get_by_text("End roll call", exact=True).click()
    page.locator("#end-confirm").click()
    page.wait_for_selector('.rollcall-current[data-state="ended"]')
    expect(page.locator("#previous-list tbody tr")).to_have_count(1)
    assert f"{INSIDE - 2} still missing" in page.locator("#previous-list tbody tr").inner_text()
    assert axe_violations(page) == []
    assert errors == []
    context.close()


@pytest.mark.parametrize("lang", ["de", "nl", "en"])
def test_the_page_speaks_each_language(site, browser, lang):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    browser_login(page, site["url"])
    page.goto(site["url"] + f"/rollcall?lang={lang}")
    title, start = WORDS[lang]
    assert page.locator("h1").inner_text() == title
    expect(page.locator(".rollcall-start summary")).to_have_text(start)
    assert axe_violations(page) == []
    context.close()


def test_the_big_screen_shows_the_numbers_of_a_running_roll_call(site, browser):
    url = site["url"]
    organiser = browser.new_context(viewport={"width": 1280, "height": 800})
    page = organiser.new_page()
    browser_login(page, url)
    screen = browser.new_context(viewport={"width": 1920, "height": 1080})
    tv = screen.new_page()
    errors: list[str] = []
    tv.on("pageerror", lambda exc: errors.append(str(exc)))
    tv.goto(f"{url}/pair/{site['devices']['display']['pairing_code']}")
    tv.wait_for_url("**/dashboard", timeout=10000)
    tv.wait_for_selector('#dash-connection[data-state="live"]')
    assert tv.locator("#rollcall").is_hidden()

    page.goto(url + "/rollcall")
    page.get_by_text("Start roll call", exact=True).click()
    page.locator("#start-confirm").click()
    page.wait_for_selector('.rollcall-current[data-state="running"]')
    expect(tv.locator("#rollcall")).to_be_visible(timeout=2000)
    assert tv.locator("#dash-grid").is_hidden()
    expect(tv.locator("#rollcall-missing")).to_have_text(str(INSIDE))
    assert tv.locator("#rollcall-expected").inner_text() == str(INSIDE)
    # A marshal's scan: the screen's numbers follow; the state is in words too.
    assert _scan(url, site["devices"]["marshal"]["token"], site["point"],
                 site["people"][1]["code"]).ok
    expect(tv.locator("#rollcall-accounted")).to_have_text("1", timeout=2000)
    assert str(INSIDE - 1) in tv.locator("#rollcall-state").inner_text()
    # Numbers only: no one's name anywhere on the screen.
    text = tv.locator("body").inner_text()
    assert not any(p["last_name"] in text for p in site["people"][:INSIDE])
    assert axe_violations(tv) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    tv.screenshot(path=str(SHOTS / "screen-1920x1080.png"))
    tv.set_viewport_size({"width": 1280, "height": 720})
    tv.wait_for_timeout(300)
    tv.screenshot(path=str(SHOTS / "screen-1280x720.png"))
    # Everything fits a TV: no scrolling at either size; the numbers are big.
    assert tv.evaluate("document.documentElement.scrollHeight <= innerHeight + 1")
    size = tv.evaluate("parseFloat(getComputedStyle(document.getElementById("
                       "'rollcall-missing')).fontSize)")
    assert size >= 60

    # The end: the screen goes back to the day's figures.
    page.locator(".rollcall-end summary").click()
    page.locator("#end-confirm").click()
    expect(tv.locator("#rollcall")).to_be_hidden(timeout=2000)
    assert tv.locator("#dash-grid").is_visible()
    assert errors == []
    screen.close()
    organiser.close()
