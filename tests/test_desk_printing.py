"""Printing at the desk through a real CUPS: a walk-in registered, printed on a CUPS-PDF
queue, the printed QR decoded and scanned in at the entrance; reprints ask first; a lost
badge is reissued and printed in one action; a refusing printer's reason reaches the desk."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import requests
import zxingcpp
from PIL import Image

from checkin.core.db import connect
from checkin.desk.printing import CupsJob, judge
from checkin.devices import add_device
from tests.conftest import LiveServer, free_port
from tests.cups import private_cups

WALK_IN = {"first_name": "Grietje", "last_name": "Deur", "organisation": "Hanzehogeschool",
           "city": "Groningen", "language": "nl"}


@pytest.fixture
def cups():
    """A private cupsd with a CUPS-PDF queue."""
    with private_cups() as running:
        yield running


@pytest.fixture
def printing_server(cups, db_path: Path, tmp_path: Path, monkeypatch):
    """`checkin serve --printer <the CUPS-PDF queue>` talking to the private cupsd."""
    monkeypatch.setenv("CUPS_SERVER", cups.server)
    server = LiveServer(db_path, free_port(), tmp_path / "server.log",
                        args=("--http", "--host", "127.0.0.1", "--printer", cups.queue))
    server.start()
    yield server
    server.stop()


def wait_job(base: str, headers: dict[str, str], url: str, timeout: float = 60) -> dict:
    """Poll a print job until CUPS says it is printed or failed."""
    deadline = time.monotonic() + timeout
    while True:
        job = requests.get(base + url, headers=headers, timeout=10).json()["job"]
        if job["state"] != "queued":
            return job
        assert time.monotonic() < deadline, f"job still queued: {job}"
        time.sleep(0.3)


def decode_pdf(pdf: Path, folder: Path) -> list[str]:
    """Rasterise a printed PDF and return every QR code's text on it."""
    subprocess.run(["pdftoppm", "-r", "150", "-gray", "-png", str(pdf), str(folder / "page")],
                   check=True, timeout=60)
    texts = []
    for page in sorted(folder.glob("page*.png")):
        texts += [r.text for r in zxingcpp.read_barcodes(Image.open(page))]
    return texts


@pytest.mark.server
def test_walk_in_registered_printed_through_cups_and_scanned_in(printing_server, cups, db_path,
                                                               tmp_path):
    base = printing_server.url
    db = connect(db_path)
    try:
        token = add_device(db, "Desk", "desk")["token"]
    finally:
        db.conn.close()
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(base + "/api/v1/participants", json=WALK_IN, headers=headers,
                            timeout=10)
    assert created.status_code == 201, created.text
    person = created.json()["participant"]

    started = time.monotonic()
    answer = requests.post(f"{base}/api/v1/participants/{person['id']}/print", json={},
                           headers=headers, timeout=10)
    assert answer.status_code == 202, answer.text
    assert time.monotonic() - started < 5  # rendering and lp run off the request path
    job = answer.json()["job"]
    assert job["state"] == "queued"
    done = wait_job(base, headers, job["url"])
    cups_log = (cups.folder / "log" / "error_log").read_text()[-3000:]
    assert done["state"] == "printed", (done, cups_log)
    assert done["cups_job"].startswith(cups.queue + "-")

    pdf = cups.output(f"checkin-badge-{job['id']}")
    try:
        texts = decode_pdf(pdf, tmp_path)
    finally:
        pdf.unlink()
    assert texts == [person["code"]]

    scan = requests.post(base + "/api/v1/scans", headers=headers, timeout=10, json={"scans": [{
        "id": "desk-walk-in-1", "code": texts[0], "checkpoint": "entrance", "direction": "in",
        "at": "2019-11-12T08:40:00Z"}]})
    assert scan.status_code == 200, scan.text
    result = scan.json()["results"][0]
    # Registering checked her in at the entrance: the printed badge says she is in already.
    assert (result["status"], result["reason"]) == ("warning", "already_in")
    assert result["participant"]["name"] == "Grietje Deur"

    # Printing again asks first; confirmed, it prints.
    again = requests.post(f"{base}/api/v1/participants/{person['id']}/print", json={},
                          headers=headers, timeout=10)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "printed_before"
    confirmed = requests.post(f"{base}/api/v1/participants/{person['id']}/print",
                              json={"confirm": True}, headers=headers, timeout=10)
    assert confirmed.status_code == 202
    assert wait_job(base, headers, confirmed.json()["job"]["url"])["state"] == "printed"
    cups.output(f"checkin-badge-{confirmed.json()['job']['id']}").unlink()

    # A lost badge: reissue and print in one confirmed action; the old code stops at once.
    unconfirmed = requests.post(f"{base}/api/v1/participants/{person['id']}/reissue-and-print",
                                json={}, headers=headers, timeout=10)
    assert unconfirmed.status_code == 400
    reissued = requests.post(f"{base}/api/v1/participants/{person['id']}/reissue-and-print",
                             json={"confirm": True}, headers=headers, timeout=10)
    assert reissued.status_code == 202, reissued.text
    new_job = reissued.json()["job"]
    assert wait_job(base, headers, new_job["url"])["state"] == "printed"
    new_pdf = cups.output(f"checkin-badge-{new_job['id']}")
    folder = tmp_path / "second"
    folder.mkdir()
    try:
        new_codes = decode_pdf(new_pdf, folder)
    finally:
        new_pdf.unlink()
    assert len(new_codes) == 1 and new_codes[0] != person["code"]
    old = requests.post(base + "/api/v1/scans", headers=headers, timeout=10, json={"scans": [{
        "id": "desk-old-badge", "code": person["code"], "checkpoint": "entrance",
        "direction": "in", "at": "2019-11-12T08:41:00Z"}]}).json()["results"][0]
    assert (old["status"], old["reason"]) == ("rejected", "revoked_code")


@pytest.mark.server
def test_a_refusing_printer_fails_the_job_with_its_reason(printing_server, cups, db_path):
    base = printing_server.url
    db = connect(db_path)
    try:
        token = add_device(db, "Desk", "desk")["token"]
        pid = db.execute("SELECT id FROM participants LIMIT 1").fetchone()[0]
    finally:
        db.conn.close()
    headers = {"Authorization": f"Bearer {token}"}
    refused = cups.run("cupsreject", "-r", "out of labels", cups.queue)
    assert refused.returncode == 0, refused.stderr
    answer = requests.post(f"{base}/api/v1/participants/{pid}/print", json={},
                           headers=headers, timeout=10)
    assert answer.status_code == 202
    job = wait_job(base, headers, answer.json()["job"]["url"])
    assert job["state"] == "failed"
    assert "not accepting jobs" in job["reason"]
    # A failed print is not a print: trying again does not ask first.
    cups.run("cupsaccept", cups.queue)
    retry = requests.post(f"{base}/api/v1/participants/{pid}/print", json={},
                          headers=headers, timeout=10)
    assert retry.status_code == 202
    assert wait_job(base, headers, retry.json()["job"]["url"])["state"] == "printed"
    cups.output(f"checkin-badge-{retry.json()['job']['id']}").unlink()


@pytest.mark.server
def test_an_erased_person_gets_no_badge_printed(printing_server, db_path):
    from checkin.security.erase import erase_participant

    db = connect(db_path)
    try:
        token = add_device(db, "Desk", "desk")["token"]
        pid = db.execute("SELECT id FROM participants LIMIT 1").fetchone()[0]
        assert erase_participant(db, pid)
    finally:
        db.conn.close()
    answer = requests.post(f"{printing_server.url}/api/v1/participants/{pid}/print", json={},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 404, answer.text
    db = connect(db_path)
    try:
        assert db.execute("SELECT count(*) FROM print_jobs").fetchone()[0] == 0
    finally:
        db.conn.close()


@pytest.mark.parametrize(("job", "state"), [
    (CupsJob(True, "", "processing-to-stop-point"), ("printed", None)),
    (CupsJob(True, "", "job-completed-successfully"), ("printed", None)),
    (CupsJob(False, "Filter failed", "job-completed-with-errors"), ("failed", "Filter failed")),
    (CupsJob(True, "", "job-canceled-by-user"), ("failed", "job-canceled-by-user")),
    (CupsJob(False, "", "none"), ("queued", None)),
])
def test_what_lpstat_says_becomes_the_jobs_state(job, state):
    assert judge(job) == state


@pytest.mark.server
def test_the_system_default_printer_is_the_default(cups, monkeypatch):
    from checkin.desk.printing import default_printer

    monkeypatch.setenv("CUPS_SERVER", cups.server)
    assert default_printer() is None
    assert cups.run("lpadmin", "-d", cups.queue).returncode == 0
    assert default_printer() == cups.queue


def test_serve_refuses_an_unknown_badge_size(db_path):
    from click.testing import CliRunner

    from checkin.cli import cli

    result = CliRunner().invoke(cli, ["--db", str(db_path), "serve", "--http", "--printer",
                                      "none", "--badge-size", "poster"])
    assert result.exit_code == 2
    assert "--badge-size must be one of" in result.output
    # The refusal is the catalogue's, one line in the chosen language.
    result = CliRunner().invoke(cli, ["--db", str(db_path), "--lang", "nl", "serve", "--http",
                                      "--printer", "none", "--badge-size", "poster"])
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1
    assert result.output.startswith("--badge-size moet een van ")


@pytest.mark.server
def test_the_kiosk_prints_a_badge_once(printing_server, cups, db_path):
    base = printing_server.url
    db = connect(db_path)
    try:
        token = add_device(db, "Kiosk", "kiosk")["token"]
        other = add_device(db, "Kiosk 2", "kiosk")["token"]
        person = next(db.query("SELECT id, last_name, email FROM participants "
                               "WHERE email IS NOT NULL LIMIT 1"))
    finally:
        db.conn.close()
    headers = {"Authorization": f"Bearer {token}"}
    answer = requests.post(base + "/api/v1/kiosk/check-in", headers=headers, timeout=10,
                           json={"last_name": person["last_name"], "email": person["email"]})
    assert answer.status_code == 200, answer.text
    job = answer.json()["job"]
    assert set(job) == {"id", "state", "url"}
    done = wait_job(base, headers, job["url"])
    assert done == {"id": job["id"], "state": "printed"}
    cups.output(f"checkin-badge-{job['id']}").unlink()
    # Another kiosk may not follow this kiosk's job; a second visit prints nothing more.
    assert requests.get(base + job["url"], timeout=10,
                        headers={"Authorization": f"Bearer {other}"}).status_code == 404
    again = requests.post(base + "/api/v1/kiosk/check-in", headers=headers, timeout=10,
                          json={"last_name": person["last_name"], "email": person["email"]})
    assert again.json()["job"] is None and again.json()["reason"] == "already_in"
