"""Devices: adding, pairing once, expiry, revoking, last seen, the CLI and organiser pages."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from checkin.cli import cli
from checkin.devices import (
    DeviceError,
    add_device,
    authenticate,
    get_device,
    list_devices,
    new_pairing_code,
    pair,
    revoke,
)
from tests.conftest import ARTIFACTS, axe_violations, browser_login, csrf_token

T0 = datetime(2019, 11, 12, 8, 0, tzinfo=UTC)


def test_add_returns_secrets_that_are_stored_only_hashed(db):
    added = add_device(db, "Door 1", "scanner", now=T0)
    assert re.fullmatch(r"d[0-9a-f]{8}", added["id"])
    assert len(added["token"]) >= 43 and len(added["pairing_code"]) >= 22
    dump = "\n".join(db.conn.iterdump())
    assert added["token"] not in dump and added["pairing_code"] not in dump
    assert authenticate(db, added["token"], now=T0) == {
        "id": added["id"], "name": "Door 1", "role": "scanner", "checkpoint": None}
    assert get_device(db, added["id"])["status"] == "waiting"


@pytest.mark.parametrize("name,role,checkpoint,message", [
    ("", "scanner", None, "name"),
    ("x" * 81, "scanner", None, "name"),
    ("Door", "admin", None, "role"),
    ("Bus", "guide", None, "excursion"),
    ("Bus", "guide", "room:kamer-a", "excursion"),
    ("Door", "scanner", "excursion:forum", "guide"),
    ("Door", "scanner", "room:nowhere", "no checkpoint"),
])
def test_add_refuses_bad_devices(db, name, role, checkpoint, message):
    with pytest.raises(DeviceError, match=message):
        add_device(db, name, role, checkpoint)
    assert list_devices(db) == []


def test_pairing_code_works_once_and_replaces_the_token(db):
    added = add_device(db, "Bus Forum", "guide", "excursion:forum", now=T0)
    token, device = pair(db, added["pairing_code"], now=T0 + timedelta(minutes=1))
    assert device == {"id": added["id"], "name": "Bus Forum", "role": "guide",
                      "checkpoint": "excursion:forum"}
    assert token != added["token"]
    assert authenticate(db, token, now=T0) == device
    assert authenticate(db, added["token"], now=T0) is None
    assert pair(db, added["pairing_code"], now=T0 + timedelta(minutes=2)) is None
    assert get_device(db, added["id"])["status"] == "paired"


def test_pairing_code_expires_after_ten_minutes(db):
    added = add_device(db, "Door", "scanner", now=T0)
    assert pair(db, added["pairing_code"], now=T0 + timedelta(minutes=10, seconds=1)) is None
    code, expires = new_pairing_code(db, added["id"], now=T0 + timedelta(minutes=20))
    assert expires.startswith("2019-11-12T08:30")
    assert pair(db, added["pairing_code"], now=T0 + timedelta(minutes=21)) is None
    assert pair(db, code, now=T0 + timedelta(minutes=29)) is not None


def test_revoked_device_stops_at_once(db):
    added = add_device(db, "Door", "scanner")
    assert authenticate(db, added["token"]) is not None
    assert revoke(db, added["id"]) is True
    assert authenticate(db, added["token"]) is None
    assert pair(db, added["pairing_code"]) is None
    with pytest.raises(DeviceError):
        new_pairing_code(db, added["id"])
    assert revoke(db, added["id"]) is False
    assert get_device(db, added["id"])["status"] == "revoked"


def test_last_seen_is_written_at_most_every_30_seconds(db):
    added = add_device(db, "Door", "scanner")

    def seen():
        return db.execute("SELECT last_seen_at FROM devices").fetchone()[0]

    assert seen() is None
    authenticate(db, added["token"], now=T0)
    assert seen().startswith("2019-11-12T08:00:00")
    authenticate(db, added["token"], now=T0 + timedelta(seconds=20))
    assert seen().startswith("2019-11-12T08:00:00")
    authenticate(db, added["token"], now=T0 + timedelta(seconds=31))
    assert seen().startswith("2019-11-12T08:00:31")


def test_wrong_tokens_are_refused(db):
    add_device(db, "Door", "scanner")
    for token in ["", "short", "x" * 43, None, "y" * 500]:
        assert authenticate(db, token) is None


def run(db_path, *args):
    return CliRunner().invoke(cli, ["--db", str(db_path), "device", *args])


def test_cli_add_json_list_and_revoke(db_path, db):
    result = run(db_path, "add", "--name", "Door 1", "--role", "scanner", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"id", "token", "pair_url"}
    assert re.fullmatch(r"https://[0-9.]+:8443/pair/[A-Za-z0-9_-]{22,}", out["pair_url"])
    assert authenticate(db, out["token"])["id"] == out["id"]
    code = out["pair_url"].rsplit("/", 1)[1]
    assert pair(db, code) is not None

    result = run(db_path, "add", "--name", "Bus", "--role", "guide", "--checkpoint",
                 "excursion:forum", "--base-url", "https://192.168.1.20:8443/", "--json")
    guide = json.loads(result.output)
    assert guide["pair_url"].startswith("https://192.168.1.20:8443/pair/")

    listed = json.loads(run(db_path, "list", "--json").output)
    assert {d["id"]: (d["role"], d["checkpoint"], d["status"]) for d in listed} == {
        out["id"]: ("scanner", None, "paired"),
        guide["id"]: ("guide", "excursion:forum", "waiting")}
    assert "Bus" in run(db_path, "list").output

    assert run(db_path, "revoke", guide["id"]).exit_code == 0
    assert authenticate(db, guide["token"]) is None
    assert run(db_path, "revoke", guide["id"]).exit_code == 1


def test_cli_refuses_a_guide_without_excursion(db_path):
    result = run(db_path, "add", "--name", "Bus", "--role", "guide", "--json")
    assert result.exit_code == 1
    assert "excursion" in result.output


def test_device_pages_need_an_organiser(client):
    assert client.get("/devices").status_code == 302
    assert client.post("/devices", data={"name": "x"}).status_code in (302, 400)


def _add_on_page(organiser, **form):
    token = csrf_token(organiser, "/devices")
    return organiser.post("/devices", data={"csrf_token": token, "role": "scanner",
                                            "checkpoint": "", **form})


def test_add_on_the_page_shows_the_pairing_qr(organiser, db):
    response = _add_on_page(organiser, name="Tür 1 & Co", checkpoint="entrance")
    assert response.status_code == 303
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert "Tür 1 &amp; Co" in page and "<svg" in page
    # Any address but loopback (the LAN address this machine has; see test_screen.py).
    url = re.search(r'href="(http://[^"]+/pair/[^"]+)"', page).group(1)
    code = url.rsplit("/", 1)[1]
    token, device = pair(db, code)
    assert device["checkpoint"] == "entrance" and device["name"] == "Tür 1 & Co"
    # Once used, the page no longer shows the code.
    page = organiser.get(response.headers["Location"]).get_data(as_text=True)
    assert code not in page and 'class="pair-qr"' not in page
    listing = organiser.get("/devices").get_data(as_text=True)
    assert "Tür 1 &amp; Co" in listing and "Paired" in listing


def test_page_refuses_a_bad_device_and_needs_csrf(organiser):
    response = _add_on_page(organiser, name="Bus", role="guide")
    assert response.status_code == 400
    assert "excursion" in response.get_data(as_text=True)
    assert organiser.post("/devices", data={"name": "Door", "role": "scanner"}).status_code \
        == 400


def test_new_code_and_revoke_buttons(organiser, db):
    device_url = _add_on_page(organiser, name="Door").headers["Location"]
    device_id = device_url.rsplit("/", 1)[1]
    first = re.search(r"/pair/([A-Za-z0-9_-]+)", organiser.get(device_url).get_data(as_text=True))
    token = csrf_token(organiser, device_url)
    response = organiser.post(f"/devices/{device_id}/pairing", data={"csrf_token": token})
    assert response.status_code == 303
    second = re.search(r"/pair/([A-Za-z0-9_-]+)",
                       organiser.get(device_url).get_data(as_text=True))
    assert first.group(1) != second.group(1)
    assert pair(db, first.group(1)) is None
    assert organiser.post(f"/devices/{device_id}/revoke").status_code == 400  # no CSRF
    response = organiser.post(f"/devices/{device_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    assert get_device(db, device_id)["status"] == "revoked"
    assert pair(db, second.group(1)) is None
    # Revoked devices are hidden from the list until asked for.
    assert "Door" not in organiser.get("/devices").get_data(as_text=True)
    listing = organiser.get("/devices?show=all").get_data(as_text=True)
    assert "Door" in listing and "Revoked" in listing
    assert organiser.get("/devices/nope").status_code == 404


@pytest.mark.browser
@pytest.mark.server
def test_device_pages_in_chromium_are_accessible(live_server, browser):
    page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
    browser_login(page, live_server.url)
    page.goto(live_server.url + "/devices")
    page.fill("#name", "Bus Forum")
    page.select_option("#role", "guide")
    page.select_option("#checkpoint", "excursion:forum")
    page.click("button.primary")
    page.wait_for_selector(".pair-qr svg")
    # Served on loopback only: no device can reach it, and the page says so.
    assert page.locator(".pair-url a").inner_text().startswith(live_server.url + "/pair/")
    assert "no network address" in page.locator("[role=alert]").inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "devices-pairing.png"), full_page=True)
    assert axe_violations(page) == []
    page.goto(live_server.url + "/devices")
    page.screenshot(path=str(ARTIFACTS / "devices-list.png"), full_page=True)
    assert axe_violations(page) == []
    assert page.get_by_role("link", name="Bus Forum").count() == 1
