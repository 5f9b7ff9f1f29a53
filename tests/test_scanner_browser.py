"""The scanner and pairing pages in real headless Chromium against the real server:
pairing, the camera (Chromium's fake camera showing a real badge QR), the hand scanner, the
name search, undo, offline scanning with a reload and the resend, and accessibility."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Error as PlaywrightError

from checkin.core.codes import reissue
from checkin.core.db import connect
from checkin.devices import add_device, revoke
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, axe_violations, browser_login
from tests.qrvideo import write_y4m

TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}
UNKNOWN = "ABCDEFGHJKMNPQRSTVWX23"  # a well-formed code that was never issued


def people(db_path: Path, n: int, offset: int = 0) -> list[dict[str, Any]]:
    """Return n demo participants (id, code, name), in a stable order."""
    db = connect(db_path)
    try:
        return list(db.query(
            "SELECT id, code, first_name || ' ' || last_name AS name FROM participants "
            "ORDER BY id LIMIT ? OFFSET ?", [n, offset]))
    finally:
        db.conn.close()


def new_device(db_path: Path, name: str, role: str = "scanner",
               checkpoint: str | None = None) -> dict[str, Any]:
    """Add a device with the domain function; its pairing code is in the answer."""
    db = connect(db_path)
    try:
        return add_device(db, name, role, checkpoint)
    finally:
        db.conn.close()


def scans(db_path: Path) -> list[dict[str, Any]]:
    """Every stored scan, oldest first."""
    db = connect(db_path)
    try:
        return list(db.query("SELECT * FROM scans ORDER BY seq"))
    finally:
        db.conn.close()


def wait_js(page, expression: str, timeout: float = 15) -> None:
    """Wait until a JavaScript expression is true (polled from Python: wait_for_function
    evaluates strings with eval, which the app's CSP rightly forbids)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except PlaywrightError as exc:  # the page is navigating: ask again
            if "context was destroyed" not in str(exc):
                raise
        assert time.monotonic() < deadline, f"still false after {timeout}s: {expression}"
        time.sleep(0.1)


def pair(page, base: str, device: dict[str, Any]) -> None:
    """Open the pairing link as a tablet does and wait for the scanner's setup screen."""
    page.goto(f"{base}/pair/{device['pairing_code']}")
    # (Playwright's page.url can miss a location.replace() answered by the service worker.)
    wait_js(page, "location.pathname === '/scan'")
    page.wait_for_selector("#setup:not([hidden])", timeout=15000)


def start_scanning(page, checkpoint_name: str | None = None, direction: str = "in") -> None:
    """Choose checkpoint and direction on the setup screen and start scanning."""
    if checkpoint_name:
        page.get_by_role("radio", name=re.compile(re.escape(checkpoint_name))).check()
    page.locator(f"input[name=direction][value={direction}]").check()
    page.get_by_role("button", name="Start scanning").click()
    page.wait_for_selector("#scanner:not([hidden])")


def answer(page, status: str, timeout: float = 15000) -> str:
    """Wait for an answer with `status` and return its text."""
    selector = ", ".join(f"#result[data-status={one}]" for one in status.split("|"))
    page.wait_for_selector(selector, timeout=timeout)
    return page.inner_text("#result")


def type_code(page, code: str) -> None:
    """Type a code and Enter into the page, as a USB hand scanner does (nothing focused)."""
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.type(code)
    page.keyboard.press("Enter")


def watch(page) -> list[str]:
    """Collect the page's script errors and CSP violations (a test asserts there are none)."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    return problems


def shot(page, name: str) -> None:
    """Save a screenshot into the artifacts folder."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"scanner-{name}.png"))


def test_pages_and_service_worker(client):
    """The pages render with their strings; the service worker may control /scan and lists
    only files that exist; a hostile pairing code stays inert text."""
    page = client.get("/scan")
    assert page.status_code == 200 and 'id="strings"' in page.get_data(as_text=True)
    assert "no-store" in page.headers["Cache-Control"]
    worker = client.get("/scan/sw.js")
    assert worker.status_code == 200 and worker.mimetype == "text/javascript"
    assert worker.headers["Service-Worker-Allowed"] == "/scan"
    source = worker.get_data(as_text=True)
    assert "__VERSION__" not in source and "__ASSETS__" not in source
    assets = re.search(r"const ASSETS = (\[.*?\]);", source).group(1)
    for url in re.findall(r'"([^"]+)"', assets):
        assert client.get(url).status_code == 200, url
    hostile = client.get("/pair/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert hostile.status_code == 200
    assert "<img src=x" not in hostile.get_data(as_text=True)


@pytest.mark.browser
@pytest.mark.server
def test_pairing_page_and_unpaired_scanner(live_server, browser, db_path):
    """An unpaired tablet is told how to pair; a pairing link pairs once; no token in URLs."""
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.goto(live_server.url + "/scan")
    page.wait_for_selector("#unpaired:not([hidden])")
    assert "not paired" in page.inner_text("#unpaired")
    assert axe_violations(page) == []
    shot(page, "unpaired-tablet")

    page.goto(live_server.url + "/pair/not-a-real-code-at-all")
    page.wait_for_selector("#pair-status[data-state=error]")
    assert "unknown" in page.inner_text("#pair-status")
    assert axe_violations(page) == []
    shot(page, "pair-error-tablet")

    device = new_device(db_path, "Eingang 1", checkpoint="entrance")
    pair(page, live_server.url, device)
    # A device bound to a checkpoint offers only that one.
    assert page.get_by_role("radio", name=re.compile("Stadhuis Groningen")).is_checked()
    assert page.locator("input[name=checkpoint]").count() == 1
    assert page.is_visible("#checkpoint-fixed")
    page.set_viewport_size(PHONE)
    shot(page, "setup-phone")
    page.set_viewport_size(TABLET)
    stored = page.evaluate("JSON.parse(localStorage.getItem('checkin.device'))")
    assert stored["device"]["id"] == device["id"] and stored["token"]
    url = page.evaluate("location.href")
    assert stored["token"] not in url and device["pairing_code"] not in url
    assert page.inner_text("#device-name") == "Eingang 1"
    assert axe_violations(page) == []

    # The code works once: a second tablet opening the same link is refused.
    other = browser.new_context().new_page()
    other.goto(f"{live_server.url}/pair/{device['pairing_code']}")
    other.wait_for_selector("#pair-status[data-state=error]")
    assert "already used" in other.inner_text("#pair-status")

    # A revoked tablet is told so at once.
    db = connect(db_path)
    revoke(db, device["id"])
    db.conn.close()
    page.reload()
    # A revoked tablet shows the full-screen "removed" state (test_device_states_browser.py).
    page.wait_for_selector("#removed:not([hidden])")
    assert "removed" in page.inner_text("#removed")
    context.close()

    # A signed-in organiser scans without pairing (session plus X-CSRFToken).
    organiser = browser.new_context(viewport=TABLET).new_page()
    browser_login(organiser, live_server.url)
    organiser.goto(live_server.url + "/scan")
    organiser.wait_for_selector("#setup:not([hidden])")
    start_scanning(organiser, "Kamer A", direction="in")
    person = people(db_path, 1)[0]
    type_code(organiser, person["code"])
    assert person["name"] in answer(organiser, "accepted")
    assert [(s["participant_id"], s["checkpoint"], s["device_id"]) for s in scans(db_path)] == [
        (person["id"], "room:kamer-a", "organiser:orga")]


@pytest.mark.browser
@pytest.mark.server
def test_hand_scanner_search_undo_and_answers(live_server, browser, db_path):
    """Hand scanner and name search give green, amber and red answers; undo voids a scan."""
    a, b = people(db_path, 2)
    device = new_device(db_path, "Eingang 2")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    pair(page, live_server.url, device)
    start_scanning(page, direction="in")
    assert axe_violations(page) == []

    for size, person in (("tablet", a), ("phone", b)):
        page.set_viewport_size(PHONE if size == "phone" else TABLET)
        type_code(page, person["code"])
        text = answer(page, "accepted")
        assert person["name"] in text and "Welcome" in text
        shot(page, f"accepted-{size}")

        type_code(page, UNKNOWN)
        text = answer(page, "rejected")
        assert "Unknown badge" in text
        shot(page, f"rejected-{size}")

        # Forgotten badge: find the (already checked-in) person by name.
        page.fill("#search-input", person["name"].split()[-1])
        page.get_by_role("button", name=re.compile(re.escape(person["name"]))).first.click()
        text = answer(page, "warning")
        assert "Already checked in at" in text and person["name"] in text
        shot(page, f"warning-{size}")
        assert axe_violations(page) == []

    stored = scans(db_path)
    assert [(s["participant_id"], s["status"], s["reason"], s["source"]) for s in stored] == [
        (a["id"], "accepted", None, "scan"), (None, "rejected", "unknown_code", "scan"),
        (a["id"], "warning", "already_in", "search"),
        (b["id"], "accepted", None, "scan"), (None, "rejected", "unknown_code", "scan"),
        (b["id"], "warning", "already_in", "search")]
    assert page.inner_text("#count").startswith("2 inside")
    assert page.locator("#recent li").count() == 6

    # Undo the last scan: the server records a correction that voids it.
    page.get_by_role("button", name="Undo this scan").click()
    page.wait_for_selector("#result[data-status=undone]")
    db = connect(db_path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not db.execute(
            "SELECT 1 FROM corrections WHERE scan_id = ?", [stored[-1]["id"]]).fetchone():
        time.sleep(0.1)
    voids = list(db.query("SELECT scan_id, action FROM corrections"))
    db.conn.close()
    assert voids == [{"scan_id": stored[-1]["id"], "action": "void"}]
    context.close()


def camera_browser(playwright_instance, video: Path):
    """A Chromium whose camera shows `video` (and needs no permission prompt)."""
    return playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])


@pytest.mark.browser
@pytest.mark.server
def test_two_tablets_scan_badges_with_the_camera(live_server, playwright_instance, db_path,
                                                 tmp_path):
    """Two tablets, each with a camera seeing a different real badge QR, both answer right;
    a badge held in front of the camera is one scan, not one per frame."""
    a, b = people(db_path, 2, offset=10)
    browsers, pages, problems = [], [], []
    try:
        for n, person in enumerate((a, b), start=1):
            browser = camera_browser(playwright_instance,
                                     write_y4m(tmp_path / f"badge{n}.y4m", person["code"]))
            browsers.append(browser)
            page = browser.new_page(viewport=TABLET)
            problems.append(watch(page))
            pair(page, live_server.url, new_device(db_path, f"Tablet {n}"))
            pages.append(page)
        for page in pages:
            start_scanning(page, direction="in")
        for page, person in zip(pages, (a, b), strict=True):
            text = answer(page, "accepted", timeout=20000)
            assert person["name"] in text
        shot(pages[0], "camera-tablet")
        # The codes stay in view for longer than the repeat window: still one scan each.
        time.sleep(4)
        for page in pages:
            assert page.get_attribute("#result", "data-status") == "accepted"
            assert page.locator("#recent li").count() == 1
        assert problems == [[], []]
    finally:
        for browser in browsers:
            browser.close()
    stored = scans(db_path)
    assert sorted((s["participant_id"], s["status"], s["source"]) for s in stored) == sorted(
        [(a["id"], "accepted", "scan"), (b["id"], "accepted", "scan")])
    assert len({s["device_id"] for s in stored}) == 2


@pytest.mark.browser
@pytest.mark.server
def test_offline_scans_survive_reload_and_arrive_once(live_server, browser, db_path):
    """Without network the scanner answers from its encrypted roster, keeps the scans through
    a reload (the page comes from the service worker) and sends them once when back."""
    a, b, c = people(db_path, 3, offset=20)
    db = connect(db_path)
    reissue(db, c["id"])  # c's printed badge is revoked: it must be refused offline too
    db.conn.close()
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = watch(page)
    pair(page, live_server.url, new_device(db_path, "Keller"))
    start_scanning(page, direction="in")
    # The shell is cached and the roster stored before the network goes.
    wait_js(page, "navigator.serviceWorker.controller !== null")
    wait_js(page, "CheckinStore.metaGet('roster_at').then(v => !!v)")
    wait_js(page, "document.querySelector('#count').dataset.inside === '0'")

    live_server.stop()
    context.set_offline(True)
    type_code(page, a["code"])
    text = answer(page, "accepted")
    assert a["name"] in text and "Saved offline" in text
    type_code(page, c["code"])
    assert "no longer valid" in answer(page, "rejected")
    type_code(page, b["code"])
    page.wait_for_selector("#recent li:nth-child(1)[data-status=accepted]")
    assert page.get_attribute("#waiting", "data-count") == "3"

    page.reload()
    page.wait_for_selector("#scanner:not([hidden])", timeout=15000)
    page.wait_for_selector("#waiting[data-count='3']")
    assert "3 scans waiting" in page.inner_text("#waiting")
    assert page.get_attribute("#net", "data-state") == "offline"
    type_code(page, a["code"])
    text = answer(page, "warning")
    assert "Already scanned here" in text and a["name"] in text
    shot(page, "offline-warning-tablet")
    # Undo while offline: queued behind the scans, sent after them.
    page.get_by_role("button", name="Undo this scan").click()
    page.wait_for_selector("#result[data-status=undone]")
    assert scans(db_path) == []

    live_server.start()
    context.set_offline(False)
    page.wait_for_selector("#waiting[data-count='0']", state="attached", timeout=30000)
    stored = scans(db_path)
    assert [(s["participant_id"], s["status"], s["reason"]) for s in stored] == [
        (a["id"], "accepted", None), (c["id"], "rejected", "revoked_code"),
        (b["id"], "accepted", None), (a["id"], "warning", "already_in")]
    db = connect(db_path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not db.execute("SELECT 1 FROM corrections").fetchone():
        time.sleep(0.1)
    assert list(db.query("SELECT scan_id, action FROM corrections")) == [
        {"scan_id": stored[-1]["id"], "action": "void"}]
    db.conn.close()
    recent = page.locator("#recent li")
    assert recent.count() == 4 and "waiting" not in page.inner_text("#recent")
    # A and B are inside: A's second (voided) scan changes nothing.
    wait_js(page, "document.querySelector('#count').dataset.inside === '2'", timeout=30)
    assert problems == []
    context.close()


@pytest.mark.server
@pytest.mark.browser
def test_refused_scans_are_kept_and_saved_as_a_file(live_server, browser, db_path):
    """A scan the server refuses for good (here: a checkpoint the event no longer has) leaves
    the queue, stays on the tablet, is counted in the header, and can be saved as a file."""
    person = people(db_path, 1, offset=30)[0]
    context = browser.new_context(viewport=TABLET, accept_downloads=True)
    page = context.new_page()
    problems = watch(page)
    pair(page, live_server.url, new_device(db_path, "Foyer"))
    start_scanning(page, direction="in")
    scan_id = page.evaluate("""async (code) => {
        const body = {id: CheckinStore.uuid(), code, checkpoint: "room:gone", direction: "in",
                      at: new Date().toISOString()};
        await CheckinStore.scan(body, null);
        return body.id;
    }""", person["code"])
    page.wait_for_selector("#dropped:not([hidden])")
    assert "1 scan refused by the server" in page.inner_text("#dropped")
    assert page.get_attribute("#waiting", "data-count") == "0"  # the queue goes on
    with page.expect_download() as info:
        page.get_by_role("button", name="Save as a file").click()
    saved = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert saved["device"]["name"] == "Foyer"
    paired = page.evaluate("CheckinStore.device().token")
    assert paired and paired not in json.dumps(saved)  # who sent them, never the token
    [item] = saved["items"]
    assert item["body"]["id"] == scan_id and item["body"]["code"] == person["code"]
    assert item["answer"]["error"]["code"] == "unknown_checkpoint"
    assert scans(db_path) == []
    assert axe_violations(page) == []
    shot(page, "refused-tablet")
    assert problems == []
    context.close()


# A tablet whose clock is 3 minutes behind: every Date on the page is shifted.
CLOCK_BEHIND = """(() => {
  const Real = Date, shift = -180000;
  class Behind extends Real {
    constructor(...args) { if (args.length) super(...args); else super(Real.now() + shift); }
    static now() { return Real.now() + shift; }
  }
  window.Date = Behind;
})();"""


@pytest.mark.browser
@pytest.mark.server
def test_a_scan_id_reused_for_another_badge_is_sent_again(live_server, browser, db_path):
    """A tablet whose first id belongs to another device's scan is told so and sends the
    scan again under a fresh id (the stored scan stays the other's); a tablet whose clock is
    behind sends the server's time."""
    a, b = people(db_path, 2, offset=40)
    db = connect(db_path)
    door = add_device(db, "Door", "scanner")
    from checkin.scans import record_scans

    taken = record_scans(db, {**door, "role": "scanner", "checkpoint": None}, [{
        "id": "taken-1", "code": a["code"], "checkpoint": "entrance", "direction": "in",
        "at": "2019-11-12T08:00:00Z"}]).results[0]
    db.conn.close()
    assert taken["status"] == "accepted"
    context = browser.new_context(viewport=TABLET)
    context.add_init_script(CLOCK_BEHIND)
    page = context.new_page()
    problems = watch(page)
    pair(page, live_server.url, new_device(db_path, "Tablet"))
    start_scanning(page, direction="in")
    # The tablet's next id is the door's (a cloned device, broken random numbers).
    page.evaluate("""() => {
        const real = CheckinStore.uuid;
        let first = true;
        CheckinStore.uuid = () => (first ? (first = false, "taken-1") : real());
    }""")
    type_code(page, b["code"])
    text = answer(page, "accepted")
    assert b["name"] in text and a["name"] not in text
    assert page.get_attribute("#result", "data-conflict") == "true"
    assert "belonged to another scan" in text and "sent again under a new number" in text
    stored = scans(db_path)
    assert [(s["id"], s["participant_id"]) for s in stored][0] == ("taken-1", a["id"])
    [fresh] = stored[1:]
    assert fresh["participant_id"] == b["id"] and fresh["id"] != "taken-1"
    assert page.locator("#recent li").count() == 1
    # The page's clock is 3 minutes behind; the scan's time is the server's.
    sent = datetime.fromisoformat(fresh["at"])
    assert abs((datetime.fromisoformat(fresh["received_at"]) - sent).total_seconds()) < 5
    # Undo follows the scan to its fresh id.
    page.get_by_role("button", name="Undo this scan").click()
    page.wait_for_selector("#result[data-status=undone]")
    db = connect(db_path)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not db.execute(
            "SELECT 1 FROM corrections").fetchone():
        time.sleep(0.1)
    assert [r[0] for r in db.execute("SELECT scan_id FROM corrections")] == [fresh["id"]]
    db.conn.close()
    assert problems == []
    context.close()


@pytest.mark.parametrize("lang,words", [("en", "sent again under a new number"),
                                        ("de", "unter einer neuen Nummer noch einmal"),
                                        ("nl", "opnieuw verstuurd onder een nieuw nummer")])
def test_the_id_conflict_note_in_three_languages(client, lang, words):
    """The note a re-sent scan's answer carries is in the page's language."""
    html = client.get(f"/scan?lang={lang}").get_data(as_text=True)
    strings = json.loads(re.search(r'<script[^>]*id="strings"[^>]*>(.*?)</script>', html,
                                   re.S).group(1))
    assert words in strings["id_conflict_resent"]
    assert strings["id_conflict"]


@pytest.mark.parametrize("lang,one,other", [
    ("en", "{n} scan on this device was not accepted", "{n} scans on this device were not"),
    ("de", "{n} Scan auf diesem Gerät wurde nicht angenommen",
     "{n} Scans auf diesem Gerät wurden nicht angenommen"),
    ("nl", "{n} scan op dit apparaat is niet aangenomen",
     "{n} scans op dit apparaat zijn niet aangenomen")])
def test_the_refused_scans_line_in_three_languages(client, lang, one, other):
    """The removed screen's count of refused scans is in the page's language, both forms."""
    html = client.get(f"/scan?lang={lang}").get_data(as_text=True)
    line = re.search(r'<p id="removed-unsent"[^>]*>', html).group(0)
    forms = dict(re.findall(r'data-(one|other)="([^"]*)"', line))
    assert one in forms["one"] and other in forms["other"]


@pytest.mark.browser
@pytest.mark.server
def test_an_offline_scan_whose_id_is_taken_is_sent_again_with_its_undo(live_server, browser,
                                                                       db_path):
    """Scanned offline under an id another scan holds, then undone offline: when the line is
    back the scan goes under a fresh id and the undo follows it."""
    a, b = people(db_path, 2, offset=44)
    db = connect(db_path)
    door = add_device(db, "Door", "scanner")
    from checkin.scans import record_scans

    record_scans(db, {**door, "role": "scanner", "checkpoint": None}, [{
        "id": "taken-2", "code": a["code"], "checkpoint": "entrance", "direction": "in",
        "at": "2019-11-12T08:00:00Z"}])
    db.conn.close()
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = watch(page)
    pair(page, live_server.url, new_device(db_path, "Tablet"))
    start_scanning(page, direction="in")
    wait_js(page, "CheckinStore.metaGet('roster_at').then(v => !!v)")
    page.evaluate("""() => {
        const real = CheckinStore.uuid;
        let first = true;
        CheckinStore.uuid = () => (first ? (first = false, "taken-2") : real());
    }""")
    live_server.stop()
    context.set_offline(True)
    type_code(page, b["code"])
    assert b["name"] in answer(page, "accepted")
    page.get_by_role("button", name="Undo this scan").click()
    page.wait_for_selector("#result[data-status=undone]")
    live_server.start()
    context.set_offline(False)
    page.evaluate("CheckinStore.flush()")
    page.wait_for_selector("#waiting[data-count='0']", state="attached", timeout=30000)
    db = connect(db_path)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not db.execute(
            "SELECT 1 FROM corrections").fetchone():
        time.sleep(0.1)
    stored = [(s["id"], s["participant_id"]) for s in db.query("SELECT * FROM scans "
                                                               "ORDER BY seq")]
    assert stored[0] == ("taken-2", a["id"]) and stored[1][1] == b["id"]
    assert [r[0] for r in db.execute("SELECT scan_id FROM corrections")] == [stored[1][0]]
    db.conn.close()
    assert problems == []
    context.close()


@pytest.mark.browser
@pytest.mark.server
def test_offline_name_search_finds_the_full_last_name_and_lists_nobody(live_server, browser,
                                                                       db_path):
    """With the network cut (and after a reload during the outage) the name search finds a
    person by their full last name however it is typed, finds nobody by a prefix or a wrong
    name, and the tablet's storage holds no name in the clear."""
    from checkin.scans.roster import normalise_last_name
    from tests.test_security_devices_browser import stored

    db = connect(db_path)
    everyone = list(db.query("SELECT id, first_name, last_name FROM participants"))
    db.conn.close()
    jorg = next(p for p in everyone if p["last_name"] == "Groß-Bölting")
    janssens = sorted(p["id"] for p in everyone if p["last_name"] == "Janßen")
    context = browser.new_context(viewport=TABLET, locale="de-DE")
    page = context.new_page()
    problems = watch(page)
    page.goto(f"{live_server.url}/scan?lang=de")
    pair(page, live_server.url, new_device(db_path, "Foyer"))
    page.locator("input[name=direction][value=in]").check()
    page.locator("#start").click()
    page.wait_for_selector("#scanner:not([hidden])")
    wait_js(page, "navigator.serviceWorker.controller !== null")
    wait_js(page, "CheckinStore.metaGet('names').then(v => !!v)", timeout=60)

    live_server.stop()
    context.set_offline(True)

    def search(text: str) -> list[str]:
        # The note is set anew by this search alone (the field's input is debounced).
        page.evaluate("document.getElementById('search-note').textContent = ''")
        page.fill("#search-input", text)
        wait_js(page, "document.getElementById('search-note').textContent.includes('Offline')")
        return page.locator("#search-results button strong").all_inner_texts()

    assert search("gross bolting") == ["Jörg Groß-Bölting"]
    assert "Offline über den vollständigen Nachnamen gefunden" in page.inner_text("#search-note")
    shot(page, "offline-name-search-de-tablet")
    page.set_viewport_size(PHONE)
    page.locator("#search-results").scroll_into_view_if_needed()
    shot(page, "offline-name-search-de-phone")
    page.set_viewport_size(TABLET)
    found = search("JANSSEN")
    assert len(found) == len(janssens) == 3 and all(n.endswith("Janßen") for n in found)
    for miss in ("Groß", "Bölting", "Janse", "Jansen", "Smith"):
        assert search(miss) == [], miss
        assert "nur der vollständige Nachname" in page.inner_text("#search-note")
    # A reload during the outage keeps the search: nothing lives only in memory.
    page.reload()
    page.wait_for_selector("#scanner:not([hidden])", timeout=15000)
    assert search("Groß-Bölting") == ["Jörg Groß-Bölting"]
    # What the tablet keeps names nobody: no first or last name in the clear (before a
    # scan: the person a volunteer checks in is then in its list of recent answers).
    kept = stored(page, ["checkin-scanner"])
    text = kept["local"] + kept["idb"]
    assert kept["idb"].count('"k":"n:') == len({normalise_last_name(p["last_name"])
                                                for p in everyone})
    leaked = [p["last_name"] for p in everyone if p["last_name"] in text]
    leaked += [p["first_name"] for p in everyone if len(p["first_name"]) > 3
               and p["first_name"] in text]
    assert leaked == [], leaked  # the sealed index opens only by typing a name
    page.locator("#search-results button").first.click()
    assert "Jörg Groß-Bölting" in answer(page, "accepted")
    assert problems == []
    live_server.start()
    context.set_offline(False)
    wait_js(page, "CheckinStore.waitingCount().then(n => n === 0)", timeout=30)
    assert [(s["participant_id"], s["source"]) for s in scans(db_path)] == [(jorg["id"], "search")]


# Every element of the scanner's bar whose text is cut: narrower than its content, or shown
# with no width at all (the place's name squeezed away).
CUT_IN_BAR_JS = """() => Array.from(document.querySelectorAll('.scan-bar *'))
  .filter(el => !el.closest('[hidden], .visually-hidden') && el.getClientRects().length
          && el.textContent.trim()
          && (el.scrollWidth > el.clientWidth + 1 && el.clientWidth >= 0
              && getComputedStyle(el).display !== 'inline'
              || el.getBoundingClientRect().width < 1
              || el.getBoundingClientRect().right > innerWidth + 1))
  .map(el => (el.id || el.className) + ': ' + el.textContent.trim().slice(0, 40))"""


@pytest.mark.server
@pytest.mark.browser
def test_offline_header_in_german_is_not_clipped_on_a_tablet(live_server, browser, db_path):
    device = new_device(db_path, "Entrance tablet")
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    problems = watch(page)
    pair(page, live_server.url, device)
    start_scanning(page)  # (in English: the helper finds its buttons by their words)
    page.goto(f"{live_server.url}/scan?lang=de")
    page.wait_for_selector("#scanner:not([hidden])")
    wait_js(page, "CheckinStore.metaGet('roster_at').then(v => !!v)")
    context.set_offline(True)
    # Offline, with scans waiting to be sent: the longest the bar gets.
    for person in people(db_path, 3):
        type_code(page, person["code"])
        answer(page, "accepted")
    page.wait_for_selector("#waiting[data-count='3']")
    wait_js(page, "document.body.classList.contains('conn-lost')")
    assert "Offline" in page.inner_text("#net")
    assert page.evaluate(CUT_IN_BAR_JS) == []
    assert page.inner_text("#waiting") == "3 Scans noch nicht gesendet"
    assert page.locator("#where-name").bounding_box()["width"] > 100
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scanner-offline-de-1024x768.png"))
    assert problems == []


@pytest.mark.server
@pytest.mark.browser
def test_times_are_the_events_in_a_tablet_set_to_another_zone(live_server, browser, db_path):
    """A tablet set to New York scanning at an event in Amsterdam shows Amsterdam's times:
    in the "already checked in at" answer and in the list of recent scans (issue 21)."""
    from checkin.core.clock import clock_text
    from checkin.core.event import event_zone

    db = connect(db_path)
    zone = event_zone(db)
    db.conn.close()
    elsewhere = "America/New_York"
    assert str(zone) == "Europe/Amsterdam"  # the demo's zone: six hours from the tablet's
    (person,) = people(db_path, 1)
    context = browser.new_context(viewport=TABLET, timezone_id=elsewhere)
    page = context.new_page()
    answers: list[dict[str, Any]] = []
    page.on("response", lambda r: answers.append(r.json()) if r.url.endswith("/api/v1/scans")
            and r.request.method == "POST" else None)
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == elsewhere
    pair(page, live_server.url, new_device(db_path, "Eingang Zeitzone"))
    start_scanning(page, direction="in")

    type_code(page, person["code"])
    answer(page, "accepted")
    type_code(page, person["code"])
    text = answer(page, "warning")
    wait_js(page, "document.querySelectorAll('#recent li').length === 2")
    since = answers[-1]["results"][0]["detail"]["since"]
    assert f"Already checked in at {clock_text(since, zone)}" in text
    assert clock_text(since, ZoneInfo(elsewhere)) not in text

    # The list of recent scans: each scan's time on the event's clock, newest first.
    stored = scans(db_path)
    shown = page.locator("#recent .recent-time").all_inner_texts()
    assert shown == [clock_text(s["at"], zone) for s in reversed(stored)]
    assert shown[-1] != clock_text(stored[0]["at"], ZoneInfo(elsewhere))
    context.close()
