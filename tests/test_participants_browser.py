"""The participant pages in real headless Chromium against `checkin serve`, with axe-core."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ARTIFACTS, axe_violations, browser_login

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_list_search_detail_and_upload_pages(live_server, browser, db_path):
    from checkin.core.db import connect

    db = connect(db_path)
    bremen = db.execute("SELECT count(*) FROM participants WHERE city = 'Bremen'").fetchone()[0]
    db.conn.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    browser_login(page, live_server.url)

    # The list: everyone, a count, no accessibility violations.
    page.goto(live_server.url + "/participants")
    assert page.locator("table.people tbody tr").count() == 60
    assert page.locator("#result-count").inner_text().strip() == "60 participants."
    assert page.title() == "Participants · checkin"
    page.screenshot(path=str(ARTIFACTS / "participants-list.png"), full_page=True)
    assert axe_violations(page) == []

    # Search without JavaScript tricks: a GET form, by keyboard.
    page.fill("#q", "gemeente")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r".*q=gemeente.*"))
    rows = page.locator("table.people tbody tr")
    assert 0 < rows.count() < 60
    for text in rows.locator("td:nth-child(2)").all_inner_texts():
        assert "Gemeente" in text

    # A filter by city, with the selects.
    page.goto(live_server.url + "/participants")
    page.select_option("#city", "Bremen")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r".*city=Bremen.*"))
    assert page.locator("table.people tbody tr").count() == bremen
    assert set(page.locator("table.people td:nth-child(4)").all_inner_texts()) == {"Bremen"}
    page.screenshot(path=str(ARTIFACTS / "participants-filtered.png"), full_page=True)

    # One person: their QR (an accessible SVG) and the badge preview image, loaded.
    first = page.locator("table.people tbody tr a").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r".*/participants/\d+$"))
    last, first_name = name.split(", ", 1)
    assert page.locator("h1").inner_text() == f"{first_name} {last}"
    qr = page.get_by_role("img", name=f"QR code of {first_name} {last}")
    assert qr.locator("svg").count() == 1
    badge = page.locator("img.badge-preview")
    badge.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0",
                           arg=badge.element_handle())
    page.screenshot(path=str(ARTIFACTS / "participants-detail.png"), full_page=True)
    assert axe_violations(page) == []

    # The reissue confirmation step.
    page.click("text=Reissue code…")
    page.wait_for_url(re.compile(r".*/reissue$"))
    assert "The old code stops working at once" in page.content()
    page.screenshot(path=str(ARTIFACTS / "participants-reissue.png"), full_page=True)
    assert axe_violations(page) == []

    # Upload: the form, then a broken file's problem list.
    page.goto(live_server.url + "/participants/upload")
    assert axe_violations(page) == []
    page.set_input_files("#file", files=[{
        "name": "broken.csv", "mimeType": "text/csv",
        "buffer": b"first_name;last_name;email\r\nAnna;Arends;not-an-email\r\n;Bakker;\r\n"}])
    page.click("form.upload-form button[type=submit]")
    page.wait_for_selector("table.problems")
    assert page.locator("table.problems tbody tr").count() == 2
    page.screenshot(path=str(ARTIFACTS / "participants-upload-problems.png"), full_page=True)
    assert axe_violations(page) == []

    # A clean file: the preview says what will happen, "Import now" does it.
    page.set_input_files("#file", files=[{
        "name": "new.csv", "mimeType": "text/csv",
        "buffer": "first_name;last_name;organisation;city\r\nGrietje;Wübbena;Stadt Oldenburg;"
                  "Oldenburg\r\n".encode("cp1252")}])
    page.click("form.upload-form button[type=submit]")
    page.wait_for_selector("#plan-created")
    assert page.locator("#plan-created").inner_text() == "1"
    page.screenshot(path=str(ARTIFACTS / "participants-upload-preview.png"), full_page=True)
    assert axe_violations(page) == []
    page.click("text=Import now")
    page.wait_for_url(re.compile(r".*/participants$"))
    assert page.locator("#result-count").inner_text().strip() == "61 participants."
    assert page.locator("table.people", has_text="Wübbena, Grietje").count() == 1

    # All badges: a job in the server's pool; the page shows its progress beside the link,
    # then downloads the PDF.
    with page.expect_download(timeout=120_000) as download:
        page.click("text=All badges (PDF)")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert download.value.suggested_filename == "badges.pdf"
    assert page.locator(".job[role=status]").count() == 1

    # A phone-sized screen: the table scrolls inside its region, the page does not.
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "participants-list-phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
