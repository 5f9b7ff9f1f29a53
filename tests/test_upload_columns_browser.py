"""A German workbook through the Upload page in real headless Chromium: the columns found,
one assigned by hand, the first rows, then the import; checked with axe-core."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ARTIFACTS, axe_violations, browser_login
from tests.test_import_columns import xlsx
from tests.test_upload_columns import HEADER, ROWS, XLSX

pytestmark = [pytest.mark.browser, pytest.mark.server]


def test_german_workbook_upload_assign_and_import(live_server, browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="de-DE")
    browser_login(page, live_server.url)
    page.goto(live_server.url + "/participants/upload?lang=de")
    page.set_input_files("#file", files=[{"name": "Teilnehmer.xlsx", "mimeType": XLSX,
                                          "buffer": xlsx([HEADER, *ROWS])}])
    page.click("form.upload-form button[type=submit]")
    page.wait_for_selector("table.mapping")
    assert page.locator("tr.mapping-unplaced").count() == 2  # Dienststelle, Funktion
    assert page.locator("table.preview-rows tbody tr").first.inner_text().split("\t")[:4] == [
        "2", "Dr.", "Jürgen", "Kröger"]
    page.screenshot(path=str(ARTIFACTS / "upload-columns-found.png"), full_page=True)
    assert axe_violations(page) == []

    # Dienststelle is the organisation, Funktion is not wanted: chosen from the lists.
    page.get_by_label("Importiert als: Dienststelle").select_option("organisation")
    page.get_by_label("Importiert als: Funktion").select_option("ignore")
    page.click("text=Mit diesen Spalten erneut prüfen")
    page.wait_for_selector("#plan-created")
    assert page.locator("tr.mapping-unplaced").count() == 0
    assert "Senator für Finanzen" in page.locator("table.preview-rows").inner_text()
    page.screenshot(path=str(ARTIFACTS / "upload-columns-assigned.png"), full_page=True)
    assert axe_violations(page) == []
    page.click("text=Jetzt importieren")
    page.wait_for_url(re.compile(r".*/participants$"))
    assert page.locator("table.people", has_text="Kröger, Jürgen").count() == 1
    # A phone-sized screen: the tables scroll inside their regions, the page does not.
    page.goto(live_server.url + "/participants/upload")
    page.set_input_files("#file", files=[{"name": "Teilnehmer.xlsx", "mimeType": XLSX,
                                          "buffer": xlsx([HEADER, *ROWS])}])
    page.set_viewport_size({"width": 390, "height": 844})
    page.click("form.upload-form button[type=submit]")
    page.wait_for_selector("table.mapping")
    page.screenshot(path=str(ARTIFACTS / "upload-columns-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.close()
