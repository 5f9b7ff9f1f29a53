"""The registration desk on the scanner page, in real headless Chromium, printing through a
real CUPS: a walk-in registered with the form, their badge printed; a reprint asks first; a
lost badge reissued and printed after a confirmation; field errors shown beside the fields."""

from __future__ import annotations

import re

import pytest

from checkin.core.db import connect
from checkin.devices import add_device
from tests.conftest import ARTIFACTS, LiveServer, axe_violations, free_port
from tests.cups import private_cups
from tests.test_scanner_browser import pair, start_scanning, watch

TABLET = {"width": 1024, "height": 768}


@pytest.fixture
def cups():
    with private_cups() as running:
        yield running


@pytest.fixture
def printing_server(cups, db_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CUPS_SERVER", cups.server)
    server = LiveServer(db_path, free_port(), tmp_path / "server.log",
                        args=("--http", "--host", "127.0.0.1", "--printer", cups.queue))
    server.start()
    yield server
    server.stop()


@pytest.mark.browser
@pytest.mark.server
def test_desk_registers_prints_reprints_and_reissues(printing_server, cups, browser, db_path):
    db = connect(db_path)
    try:
        device = add_device(db, "Desk 1", "desk")
        guest = next(db.query("SELECT id, first_name, last_name FROM participants "
                              "ORDER BY id LIMIT 1"))
    finally:
        db.conn.close()
    page = browser.new_page(viewport=TABLET)
    problems = watch(page)
    dialogs: list[str] = []

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.accept()

    page.on("dialog", on_dialog)
    pair(page, printing_server.url, device)
    start_scanning(page, direction="in")
    page.wait_for_selector("#desk:not([hidden])")

    page.get_by_text("Register walk-in").click()
    page.get_by_label("First name *").fill("Hinrich")
    page.get_by_label("Last name *").fill("<Tür>")
    page.get_by_label("Organisation").fill("Stadt Oldenburg")
    page.get_by_label("City").fill("Oldenburg")
    page.locator("#wi-language").select_option("de")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_selector("#wi-last_name[aria-invalid=true]")
    assert "markup" in page.inner_text("#wi-last_name-error")
    assert page.evaluate("document.activeElement.id") == "wi-last_name"
    page.get_by_label("Last name *").fill("Tür")
    page.get_by_role("button", name="Register", exact=True).click()
    page.wait_for_selector("#desk-person:not([hidden])")
    assert "Registered: Hinrich Tür" in page.inner_text("#desk-person-text")
    assert axe_violations(page) == []

    page.get_by_role("button", name="Print badge").click()
    page.wait_for_selector("#desk-job[data-state=printed]", timeout=60000)
    assert "Badge for Hinrich Tür: printed." in page.inner_text("#desk-job")
    assert dialogs == []

    # Printing again asks first.
    page.get_by_role("button", name="Print badge").click()
    # The first job's state is still shown: wait for the question, not for a state.
    for _ in range(100):
        if dialogs:
            break
        page.wait_for_timeout(100)
    assert dialogs == ["This badge was printed before. Print it again anyway?"]
    page.wait_for_selector("#desk-job[data-state=queued], #desk-job[data-state=printed]")

    # A lost badge: found by name, reissued and printed after a confirmation.
    page.get_by_text("Print or reissue a badge").click()
    page.get_by_label("Find the person by name").fill("Tür")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=re.compile(r"Reissue and print.*Hinrich Tür")).click()
    assert len(dialogs) == 2 and "new badge" in dialogs[1]
    page.wait_for_selector("#desk-job[data-state=printed]", timeout=60000)

    # A registered person whose badge was not printed before the day.
    page.get_by_label("Find the person by name").fill(guest["last_name"])
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name=f"Print badge {guest['first_name']} "
                                    f"{guest['last_name']}").click()
    page.wait_for_selector(f"#desk-job[data-state=printed]:has-text('{guest['last_name']}')",
                           timeout=60000)
    assert len(dialogs) == 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-scanner.png"), full_page=True)
    assert problems == []

    db = connect(db_path)
    try:
        person = next(db.query("SELECT id, code, walk_in_at FROM participants "
                               "WHERE last_name = 'Tür'"))
        codes = list(db.query("SELECT code, revoked_at FROM codes WHERE participant_id = ? "
                              "ORDER BY issued_at", [person["id"]]))
        jobs = [r[0] for r in db.execute("SELECT id FROM print_jobs WHERE participant_id = ? "
                                         "ORDER BY created_at", [person["id"]])]
    finally:
        db.conn.close()
    assert person["walk_in_at"]
    assert len(codes) == 2 and codes[0]["revoked_at"] and codes[1]["code"] == person["code"]
    assert len(jobs) == 3
    for job in jobs:
        cups.output(f"checkin-badge-{job}").unlink()
    db = connect(db_path)
    try:
        guest_job = db.execute("SELECT id, state FROM print_jobs WHERE participant_id = ?",
                               [guest["id"]]).fetchone()
    finally:
        db.conn.close()
    assert guest_job[1] == "printed"
    cups.output(f"checkin-badge-{guest_job[0]}").unlink()
