"""The self check-in kiosk in real headless Chromium against the real server: the QR from a
person's badge e-mail, shown to the fake camera, checks them in with a welcome in their own
language; the hand scanner; "forgot your badge" by last name and e-mail; back to the start
when idle; accessibility on every screen."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image

from checkin.core.db import connect
from checkin.devices import add_device
from checkin.mail import Templates, build_message
from tests.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, axe_violations
from tests.qrvideo import write_y4m, write_y4m_image

TABLET = {"width": 1024, "height": 768}


def person(db_path: Path, language: str, offset: int = 0) -> dict:
    db = connect(db_path)
    try:
        return next(db.query(
            "SELECT id, code, first_name, last_name, email, language FROM participants "
            "WHERE language = ? AND email IS NOT NULL ORDER BY id LIMIT 1 OFFSET ?",
            [language, offset]))
    finally:
        db.conn.close()


def mailed_qr(db_path: Path, who: dict) -> Image.Image:
    """The QR image of the person's badge e-mail, exactly as `checkin mail badges` makes it."""
    db = connect(db_path)
    try:
        full = next(db.query("SELECT p.*, NULL AS working_group_room, NULL AS excursion_place, "
                             "NULL AS excursion_departs_at FROM participants p WHERE id = ?",
                             [who["id"]]))
        full["working_group"] = full["excursion"] = None
        message = build_message(db, full, Templates.load(Path("/nonexistent")),
                                "orga@example.org")
    finally:
        db.conn.close()
    png = next(p for p in message.walk() if p.get_content_type() == "image/png")
    return Image.open(io.BytesIO(png.get_content()))


def kiosk_scans(db_path: Path) -> list[dict]:
    db = connect(db_path)
    try:
        return list(db.query("SELECT s.participant_id, s.checkpoint, s.direction, s.status, "
                             "d.role FROM scans s JOIN devices d ON d.id = s.device_id "
                             "ORDER BY s.seq"))
    finally:
        db.conn.close()


def open_kiosk(browser, base: str, db_path: Path, idle: int | None = None):
    """Pair a new kiosk in a fresh page and wait for its start screen."""
    db = connect(db_path)
    try:
        device = add_device(db, "Kiosk", "kiosk")
    finally:
        db.conn.close()
    page = browser.new_page(viewport=TABLET)
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text else None)
    page.goto(f"{base}/pair/{device['pairing_code']}")
    page.wait_for_url(re.compile(r".*/kiosk$"), timeout=15000)
    if idle:
        page.goto(f"{base}/kiosk?idle={idle}")
    page.wait_for_selector("#k-start:not([hidden])", timeout=15000)
    return page, problems


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"kiosk-{name}.png"))


def camera(playwright_instance, video: Path):
    return playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True,
        args=[*CHROMIUM_ARGS, "--use-fake-ui-for-media-stream",
              "--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={video}"])


@pytest.mark.browser
@pytest.mark.server
def test_the_emailed_qr_on_a_phone_checks_in_with_a_welcome_in_dutch(
        live_server, playwright_instance, db_path, tmp_path):
    guest = person(db_path, "nl")
    video = write_y4m_image(tmp_path / "phone.y4m", mailed_qr(db_path, guest))
    browser = camera(playwright_instance, video)
    try:
        page, problems = open_kiosk(browser, live_server.url, db_path)
        assert axe_violations(page) == []
        page.wait_for_selector("#k-answer:not([hidden])", timeout=20000)
        assert page.get_attribute("#k-result", "data-status") == "accepted"
        assert page.get_attribute("#k-result", "lang") == "nl"
        assert page.inner_text("#k-answer-title") == f"Welkom, {guest['first_name']}!"
        assert "U bent ingecheckt." in page.inner_text("#k-result")
        # No one's data but the greeting: no organisation, no e-mail, no code on screen.
        assert guest["email"] not in page.content() and guest["code"] not in page.content()
        shot(page, "welcome")
        assert axe_violations(page) == []
        assert problems == []
    finally:
        browser.close()
    assert kiosk_scans(db_path)[0] == {"participant_id": guest["id"], "checkpoint": "entrance",
                                       "direction": "in", "status": "accepted", "role": "kiosk"}


@pytest.mark.browser
@pytest.mark.server
def test_hand_scanner_forgot_badge_and_idle_return(live_server, playwright_instance, db_path,
                                                   tmp_path):
    browser = camera(playwright_instance, write_y4m(tmp_path / "empty.y4m", None))
    german, english = person(db_path, "de"), person(db_path, "en")
    try:
        page, problems = open_kiosk(browser, live_server.url, db_path, idle=3)
        shot(page, "start")
        # A hand scanner types the code and Enter.
        page.keyboard.type(english["code"])
        page.keyboard.press("Enter")
        page.wait_for_selector("#k-answer:not([hidden])")
        assert page.inner_text("#k-answer-title") == f"Welcome, {english['first_name']}!"
        # Nobody touches it: back to the start screen after the idle seconds.
        started = time.monotonic()
        page.wait_for_selector("#k-start:not([hidden])", timeout=10000)
        assert time.monotonic() - started > 1.5

        page.get_by_role("button", name="Forgot your badge?").click()
        page.wait_for_selector("#k-lookup:not([hidden])")
        assert axe_violations(page) == []
        page.get_by_label("Last name").fill(german["last_name"])
        page.get_by_label("E-mail address").fill("wrong." + german["email"])
        page.get_by_role("button", name="Check me in").click()
        page.wait_for_selector("#k-answer:not([hidden])")
        assert page.get_attribute("#k-result", "data-status") == "rejected"
        assert german["first_name"] not in page.inner_text("#k-answer")
        page.get_by_role("button", name="Done").click()
        page.wait_for_selector("#k-start:not([hidden])")

        page.get_by_role("button", name="Forgot your badge?").click()
        page.get_by_label("Last name").fill(german["last_name"])
        page.get_by_label("E-mail address").fill(german["email"])
        page.get_by_role("button", name="Check me in").click()
        page.wait_for_selector("#k-answer:not([hidden])")
        assert page.get_attribute("#k-result", "lang") == "de"
        assert page.inner_text("#k-answer-title") == f"Willkommen, {german['first_name']}!"
        page.wait_for_selector("#k-start:not([hidden])", timeout=10000)
        # The next person finds an empty form.
        page.get_by_role("button", name="Forgot your badge?").click()
        assert page.input_value("#k-last-name") == "" and page.input_value("#k-email") == ""
        assert problems == []
    finally:
        browser.close()
    assert [(s["participant_id"], s["role"]) for s in kiosk_scans(db_path)] == [
        (english["id"], "kiosk"), (german["id"], "kiosk")]
