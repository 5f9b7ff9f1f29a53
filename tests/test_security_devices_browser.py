"""Issue 8, devices that leave the building (headless Chromium on the real server): a revoked
tablet forgets its token, queue and roster; a guide's phone forgets its list after the return."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import pytest
import requests
from playwright.sync_api import Error as PlaywrightError

from checkin.core.db import connect
from checkin.devices import add_device, revoke

pytestmark = [pytest.mark.browser, pytest.mark.server]

STORED = """async (names) => {
  const dump = (name) => new Promise((resolve) => {
    const r = indexedDB.open(name);
    r.onupgradeneeded = () => r.transaction.abort();  // never create it here
    r.onerror = () => resolve("");
    r.onsuccess = () => {
      const db = r.result;
      const stores = Array.from(db.objectStoreNames);
      if (!stores.length) { db.close(); resolve(""); return; }
      const t = db.transaction(stores, "readonly");
      const out = [];
      for (const s of stores) {
        const q = t.objectStore(s).getAll();
        q.onsuccess = () => { if (q.result.length) out.push(s + ":" + JSON.stringify(q.result)); };
      }
      t.oncomplete = () => { db.close(); resolve(out.join("\\n")); };
    };
  });
  const local = Object.keys(localStorage).filter((k) => k.startsWith("checkin."))
    .map((k) => k + "=" + localStorage.getItem(k));
  return {local: local.join("\\n"), idb: (await Promise.all(names.map(dump))).join("\\n")};
}"""


def stored(page, names: list[str]) -> dict[str, str]:
    """What the page's origin keeps: checkin.* localStorage entries and IndexedDB contents."""
    for _ in range(50):
        try:
            return page.evaluate(STORED, names)
        except PlaywrightError as exc:  # the page is navigating: ask again
            if "context was destroyed" not in str(exc):
                raise
            time.sleep(0.1)
    raise AssertionError("the page never settled")


def wait_until(predicate: Any, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_revoked_scanner_wipes_token_queue_and_roster(browser, live_server, db_path):
    db = connect(db_path)
    device = add_device(db, "Door 1", "scanner")
    db.conn.close()
    context = browser.new_context(viewport={"width": 768, "height": 1024}, locale="en")
    page = context.new_page()
    page.goto(f"{live_server.url}/pair/{device['pairing_code']}")
    names = ["checkin-scanner"]
    # Paired: the token is stored, and so is the (encrypted) roster.
    wait_until(lambda: '"token"' in stored(page, names)["local"]
               and "roster:" in stored(page, names)["idb"], "the paired scanner's storage")
    token = json.loads(page.evaluate("() => localStorage.getItem('checkin.device')"))["token"]

    db = connect(db_path)
    revoke(db, device["id"])
    db.conn.close()
    # The next time it reaches the server (here: opening the page again) it forgets all.
    page.reload()
    # Only a tombstone stays, so the page can say "removed" rather than "never paired".
    seen: list[dict[str, str]] = []

    def wiped() -> bool:
        seen.append(stored(page, names))
        return seen[-1] == {"local": 'checkin.device={"removed":true}', "idb": ""}

    try:
        wait_until(wiped, "the revoked scanner's storage to be empty")
    except AssertionError:
        raise AssertionError(f"storage seen: {seen[:3]} ... {seen[-3:]}; url {page.url}") from None
    assert token not in json.dumps(stored(page, names))
    # ... and the whole screen says so (issue 11's removed screen), never a welcome.
    page.wait_for_selector("#removed:not([hidden])")
    assert "This device was removed" in page.inner_text("#removed")
    # The server's refusal is what tells the page to wipe.
    refused = requests.get(live_server.url + "/api/v1/me", timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and refused.headers["X-Checkin-Wipe"] == "storage"
    context.close()


def test_guide_phone_forgets_its_list_after_the_return(browser, live_server, db_path):
    db = connect(db_path)
    phone = add_device(db, "Guide bikes", "guide", "excursion:bike-tour")
    helper = add_device(db, "Guide bikes 2", "guide", "excursion:bike-tour")
    people = [r[0] for r in db.execute("SELECT last_name FROM participants "
                                       "WHERE excursion = 'bike-tour'")]
    db.conn.close()
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en")
    page = context.new_page()
    page.goto(f"{live_server.url}/pair/{phone['pairing_code']}")
    page.wait_for_selector("#roster .person", timeout=20000)
    names = ["checkin-guide", "checkin-scanner"]
    wait_until(lambda: any(n in stored(page, names)["idb"] for n in people),
               "the list kept on the phone")
    wait_until(lambda: "roster:" in stored(page, names)["idb"], "the encrypted roster")

    auth = {"Authorization": f"Bearer {helper['token']}"}
    for action in ("depart", "return"):
        response = requests.post(live_server.url + "/api/v1/excursions/bike-tour/events",
                                 timeout=10, headers=auth, json={
                                     "id": str(uuid.uuid4()), "action": action,
                                     "at": "2019-11-12T13:00:00Z"})
        assert response.status_code == 200, response.text
    # The push (or the next refresh) tells the phone; it keeps numbers, not names.
    page.wait_for_selector("#status-text:text('Returned')", timeout=30000)
    wait_until(lambda: not any(n in stored(page, names)["idb"] for n in people)
               and "roster:" not in stored(page, names)["idb"],
               "the names to be gone from the phone", timeout=30)
    assert page.locator("#roster .person").count() == 0
    context.close()


def test_revoked_display_wipes_its_token(browser, live_server, db_path):
    db = connect(db_path)
    device = add_device(db, "Screen hall", "display")
    db.conn.close()
    context = browser.new_context(viewport={"width": 1280, "height": 720}, locale="en")
    page = context.new_page()
    page.goto(f"{live_server.url}/pair/{device['pairing_code']}")
    wait_until(lambda: '"token"' in stored(page, [])["local"], "the paired display's token")
    page.wait_for_url("**/dashboard", timeout=15000)
    db = connect(db_path)
    revoke(db, device["id"])
    db.conn.close()
    # A display only listens on /live; on opening, the page asks the server about its token.
    page.reload()
    wait_until(lambda: stored(page, [])["local"] == 'checkin.device={"removed":true}',
               "the revoked display's token to be gone")
    context.close()
