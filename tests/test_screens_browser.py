"""Every page at phone, tablet, laptop and TV size in de/nl/en: no sideways scrolling, no
serious axe-core violation, dashboard text legible from across the room; screenshots kept.

One server, one browser and one page per viewport for the whole module keep it quick: the
whole sweep is about 150 page loads. Screenshots go to $CHECKIN_ARTIFACTS/screens/.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from checkin.core.db import connect
from checkin.demo import create_demo
from checkin.devices import add_device
from tests import processes
from tests.conftest import (
    ARTIFACTS,
    AXE,
    CHROMIUM,
    CHROMIUM_ARGS,
    ORGANISER,
    LiveServer,
    free_port,
)

pytestmark = [pytest.mark.browser, pytest.mark.server]

SIZES = [(390, 844), (1024, 768), (1366, 768), (1920, 1080)]
LANGS = ["de", "nl", "en"]
SHOTS = ARTIFACTS / "screens"
# axe runs at one phone and one laptop size (its rules barely depend on the width, and it
# is the slow part); overflow and screenshots at every size.
AXE_SIZES = {(390, 844), (1366, 768)}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The demo event with a morning of arrivals, served by the real server."""
    from checkin.auth.accounts import add_organiser

    folder = tmp_path_factory.mktemp("screens")
    path = folder / "event.db"
    db = connect(path)
    create_demo(db, folder)
    add_organiser(db, *ORGANISER)
    scanner = add_device(db, "Entrance tablet", "scanner")
    codes = [r[0] for r in db.execute("SELECT code FROM participants ORDER BY id")]
    rooms = [(r[0], r[1]) for r in db.execute(
        "SELECT p.code, 'room:' || w.room FROM participants p JOIN working_groups w "
        "ON w.id = p.working_group ORDER BY p.id")]
    participant = db.execute("SELECT id FROM participants ORDER BY id LIMIT 1").fetchone()[0]
    excursion = db.execute("SELECT ref FROM checkpoints WHERE kind = 'excursion' "
                           "ORDER BY position LIMIT 1").fetchone()[0]
    db.conn.close()
    server = LiveServer(path, free_port(), folder / "server.log")
    server.start()
    start = datetime.now(UTC) - timedelta(hours=2)
    items = [{"id": str(uuid.uuid4()), "code": c, "checkpoint": "entrance", "direction": "in",
              "at": (start + timedelta(minutes=2 * n)).isoformat()}
             for n, c in enumerate(codes[:50])]
    items += [{"id": str(uuid.uuid4()), "code": c, "checkpoint": cp, "direction": "in",
               "at": (start + timedelta(minutes=110)).isoformat()} for c, cp in rooms[:40]]
    response = requests.post(server.url + "/api/v1/scans", json={"scans": items}, timeout=20,
                             headers={"Authorization": "Bearer " + scanner["token"]})
    assert response.status_code == 200, response.text
    scan_id = response.json()["results"][0]["id"]
    yield {"server": server, "participant": participant, "excursion": excursion,
           "device": scanner["id"], "scan": scan_id}
    server.stop()


@pytest.fixture(scope="module")
def chromium(_playwright):
    """One Chromium for the module's tests (the first test that uses it must be marked)."""
    processes.require_marker("browser", "a browser")
    b = _playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=CHROMIUM_ARGS)
    yield b
    b.close()


def _login(page, url: str) -> None:
    page.goto(url + "/login")
    page.fill("#username", ORGANISER[0])
    page.fill("#password", ORGANISER[1])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/participants.*"))


def _pages(site) -> dict[str, str]:
    """Every page a person opens, by a short name for the screenshot."""
    return {
        "participants": "/participants",
        "participant": f"/participants/{site['participant']}",
        "upload": "/participants/upload",
        "devices": "/devices",
        "device": f"/devices/{site['device']}",
        "overview": "/overview",
        "live-participant": f"/overview/participants/{site['participant']}",
        "summary": "/reports/summary",
        "dashboard": "/dashboard",
        "scanner": "/scan",
        "guide": f"/guide?excursion={site['excursion']}",
        "not-found": "/no/such/page",
    }


# Sideways scrolling: the document is wider than the window (1 px of rounding allowed).
OVERFLOW_JS = """() => {
  const doc = document.documentElement;
  const wide = [];
  if (doc.scrollWidth > window.innerWidth + 1) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > 0 && el.offsetParent !== null)
        wide.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' ' +
                  (el.getAttribute('class') || '').split(' ')[0] + ' ' + Math.round(r.right));
    }
  }
  return {width: doc.scrollWidth, wide: wide.slice(0, 6)};
}"""

# Every visible piece of text with its size on screen (SVG text scaled by its drawing).
TEXT_SIZES_JS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.textContent.trim()) continue;
    const el = n.parentElement;
    if (!el || el.closest('[hidden], .visually-hidden, script, style, title, desc')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.bottom < 0 || r.top > innerHeight
        || r.right < 0 || r.left > innerWidth) continue;
    let size = parseFloat(style.fontSize);
    const svg = el.closest('svg');
    if (svg && el instanceof SVGElement) size *= svg.getScreenCTM().a;
    out.push({text: n.textContent.trim().slice(0, 40), size: Math.round(size * 10) / 10,
              where: el.tagName.toLowerCase() + '.' + (el.getAttribute('class') || '')});
  }
  return out;
}"""


# What a volunteer needs on the scanner, all inside the window without scrolling.
SCANNER_NEEDS = ["#result", "#camera-toggle", "#sound-toggle", "#code-input", "#search-input",
                 "#net", ".scan-bar .languages"]


def _scanner_cut(page) -> list[str]:
    """Return the scanner's controls that are not fully inside the window."""
    height = page.viewport_size["height"]
    cut = []
    for selector in SCANNER_NEEDS:
        box = page.locator(selector).first.bounding_box()
        if box is None or box["y"] < 0 or box["y"] + box["height"] > height:
            cut.append(f"{selector} not fully visible ({box})")
    bar = page.locator(".scan-bar").bounding_box()
    if bar and bar["height"] > 80:
        cut.append(f"header is {bar['height']:.0f} px high (wraps)")
    return cut


def _axe(page) -> list[str]:
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    tags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))",
        tags)
    return found


def test_every_page_at_every_size_and_language(site, chromium):
    url = site["server"].url
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for width, height in SIZES:
        context = chromium.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        _login(page, url)
        for lang in LANGS:
            for name, path in _pages(site).items():
                where = f"{name} {lang} {width}x{height}"
                sep = "&" if "?" in path else "?"
                page.goto(f"{url}{path}{sep}lang={lang}", wait_until="load")
                if name in ("dashboard", "overview"):
                    page.wait_for_selector("#rooms li, #overview-numbers, main", timeout=5000)
                    page.wait_for_timeout(300)
                elif name in ("scanner", "guide"):
                    page.wait_for_selector("#loading", state="hidden", timeout=8000)
                if name == "scanner":
                    if page.locator("#setup").is_visible():
                        page.click("#start")  # remembered for the next loads
                    page.wait_for_selector("#scanner", state="visible", timeout=5000)
                    if width >= 1024:
                        problems += [f"{where}: {what}" for what in _scanner_cut(page)]
                wide = page.evaluate(OVERFLOW_JS)
                if wide["width"] > width + 1:
                    problems.append(f"{where}: {wide['width']} px wide: {wide['wide']}")
                page.screenshot(path=str(SHOTS / f"{name}-{lang}-{width}x{height}.png"),
                                full_page=name != "dashboard")
                if (width, height) in AXE_SIZES and (lang == "de" or width == 390):
                    problems += [f"{where}: axe {v}" for v in _axe(page)]
                if name == "dashboard" and width >= 1366:
                    # The demo's seven rooms in ONE row at laptop and TV width.
                    rows = page.evaluate("new Set(Array.from(document.querySelectorAll("
                                         "'#rooms li'), li => li.offsetTop)).size")
                    count = page.locator("#rooms li").count()
                    if count < 7 or rows != 1:
                        problems.append(f"{where}: {count} rooms in {rows} rows")
                if name == "dashboard" and (width, height) == (1920, 1080):
                    small = [t for t in page.evaluate(TEXT_SIZES_JS) if t["size"] < 24]
                    problems += [f"{where}: {t['size']} px text {t['text']!r} ({t['where']})"
                                 for t in small[:8]]
        problems += [f"{width}x{height}: script error {e}" for e in errors]
        context.close()
    assert problems == [], "\n".join(problems)


# Every visible control's box, for the 24 px target size (WCAG 2.5.8; links inside a
# sentence are exempt there and here).
SMALL_TARGETS_JS = """() => {
  const out = [];
  for (const el of document.querySelectorAll('a, button, input, select, summary, [tabindex]')) {
    if (el.closest('[hidden]') || el.tabIndex < 0) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    if (el.tagName === 'A' && el.closest('p, li') && !el.closest('nav, .languages')) continue;
    if (r.width < 24 || r.height < 24)
      out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' '
               + Math.round(r.width) + 'x' + Math.round(r.height));
  }
  return out;
}"""


def _device_context(chromium, size: tuple[int, int], token: str, role: str):
    """A browser context that is already a paired device (its token in localStorage)."""
    context = chromium.new_context(viewport={"width": size[0], "height": size[1]})
    device = json.dumps({"token": token, "device": {"role": role}})
    context.add_init_script("try { if (!localStorage.getItem('checkin.device')) "
                            f"localStorage.setItem('checkin.device', {json.dumps(device)}); }} "
                            "catch (e) {}")
    return context


def _look(page, where: str, name: str, size: tuple[int, int], lang: str,
          full_page: bool = True, needs: tuple[str, ...] = ()) -> list[str]:
    """Screenshot a state and return its problems: sideways scrolling, small targets, axe,
    and (tablet and up) controls in `needs` not fully on screen without scrolling."""
    problems = []
    for selector in needs if size[0] >= 1024 else ():
        box = page.locator(selector).bounding_box()
        if box is None or box["y"] < 0 or box["y"] + box["height"] > size[1]:
            problems.append(f"{where}: {selector} not fully visible ({box})")
    wide = page.evaluate(OVERFLOW_JS)
    if wide["width"] > size[0] + 1:
        problems.append(f"{where}: {wide['width']} px wide: {wide['wide']}")
    problems += [f"{where}: target {t}" for t in page.evaluate(SMALL_TARGETS_JS)]
    page.screenshot(path=str(SHOTS / f"{name}-{lang}-{size[0]}x{size[1]}.png"),
                    full_page=full_page)
    if size in AXE_SIZES and (lang == "de" or size[0] == 390):
        problems += [f"{where}: axe {v}" for v in _axe(page)]
    if name.startswith("kiosk") and size == (1920, 1080):
        # A kiosk on a TV is read from 2 m, like the dashboard.
        small = [t for t in page.evaluate(TEXT_SIZES_JS) if t["size"] < 24]
        problems += [f"{where}: {t['size']} px text {t['text']!r} ({t['where']})"
                     for t in small[:8]]
    return problems


def test_desk_and_kiosk_at_every_size_and_language(site, chromium):
    """The registration desk (a desk device on /scan, its forms open, online and offline)
    and the kiosk (start, look-up and welcome) swept like every other page; on a TV the
    kiosk's text is legible from 2 m (24 px and more)."""
    url = site["server"].url
    db = connect(site["server"].db_path)
    try:
        desk = add_device(db, "Desk 1", "desk")
        kiosk = add_device(db, "Kiosk 1", "kiosk")
        code, last_name = db.execute("SELECT code, last_name FROM participants ORDER BY id "
                                     "LIMIT 1").fetchone()
    finally:
        db.conn.close()
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for size in SIZES:
        errors: list[str] = []
        desk_context = _device_context(chromium, size, desk["token"], "desk")
        page = desk_context.new_page()
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        for lang in LANGS:
            where = f"desk {lang} {size[0]}x{size[1]}"
            page.goto(f"{url}/scan?lang={lang}", wait_until="load")
            page.wait_for_selector("#loading", state="hidden", timeout=8000)
            if page.locator("#setup").is_visible():
                page.click("#start")
            page.wait_for_selector("#desk:not([hidden])", timeout=5000)
            page.evaluate("document.querySelectorAll('#desk details')"
                          ".forEach((d) => { d.open = true; })")
            page.fill("#lost-q", last_name)
            page.press("#lost-q", "Enter")
            page.wait_for_selector("#lost-results li button")
            problems += _look(page, where, "desk", size, lang)
            if lang == "en":
                desk_context.set_offline(True)
                page.wait_for_selector("#desk-offline:not([hidden])", timeout=5000)
                page.wait_for_selector("#conn-banner:not([hidden])", timeout=5000)
                problems += _look(page, where + " offline", "desk-offline", size, lang)
                desk_context.set_offline(False)
        desk_context.close()

        kiosk_context = _device_context(chromium, size, kiosk["token"], "kiosk")
        page = kiosk_context.new_page()
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        for lang in LANGS:
            where = f"kiosk {lang} {size[0]}x{size[1]}"
            page.goto(f"{url}/kiosk?lang={lang}", wait_until="load")
            page.wait_for_selector("#k-start:not([hidden])", timeout=8000)
            page.wait_for_timeout(100)
            problems += _look(page, where, "kiosk", size, lang, full_page=False,
                              needs=("#k-forgot", "#net"))
            if lang != "de" and size[0] != 390:
                continue  # the other screens: every language on a phone, German elsewhere
            page.click("#k-forgot")
            page.wait_for_selector("#k-lookup:not([hidden])")
            problems += _look(page, where + " look-up", "kiosk-lookup", size, lang,
                              full_page=False, needs=("#k-email", "#k-submit", "#k-cancel"))
            page.click("#k-cancel")
            page.wait_for_selector("#k-start:not([hidden])")
            page.evaluate("document.activeElement && document.activeElement.blur()")
            page.keyboard.type(code)
            page.keyboard.press("Enter")
            page.wait_for_selector("#k-answer:not([hidden])", timeout=8000)
            problems += _look(page, where + " welcome", "kiosk-welcome", size, lang,
                              full_page=False, needs=("#k-result", "#k-done"))
        kiosk_context.close()
        problems += [f"{size}: script error {e}" for e in errors]
    assert problems == [], "\n".join(problems)
