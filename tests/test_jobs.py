"""Long organiser outputs as jobs (checkin.core.jobs, checkin.http.jobs): started with POST,
followed at /jobs/<id>, downloaded when done, cancelled or forgotten with DELETE.

These run the app in-process (no gevent): each job runs in a thread, the same functions the
server's pool workers run; tests/test_pool.py covers the pool itself on the real server.
"""

from __future__ import annotations

import io
import time

from openpyxl import load_workbook

from checkin.core.jobs import KEEP_SECONDS, jobs_folder, start_job, sweep
from checkin.lists.output import lists_file
from tests.conftest import csrf_token
from tests.test_upload_fuzz import GOOD_CSV, page_token, upload


def _follow(client, job: dict, seconds: float = 60) -> dict:
    deadline = time.monotonic() + seconds
    state = job
    while state["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
        state = client.get(job["url"]).get_json()
    return state


def _start(client, path: str) -> dict:
    answer = client.post(path, headers={"X-CSRFToken": csrf_token(client, "/participants")})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    return answer.get_json()


def _cells(data: bytes) -> list[list]:
    book = load_workbook(io.BytesIO(data))
    return [[list(row) for row in sheet.iter_rows(values_only=True)] for sheet in book]


def test_an_excel_export_as_a_job_is_the_download(organiser):
    job = _start(organiser, "/reports/attendance.xlsx")
    assert len(job["id"]) == 22 and job["status"] == "running" and job["file"] is None
    done = _follow(organiser, job)
    assert done["status"] == "done" and done["text"] == "Done: the download starts."
    got = organiser.get(done["file"])
    assert got.status_code == 200
    assert got.headers["Content-Disposition"] == 'attachment; filename="attendance.xlsx"'
    assert got.headers["Cache-Control"] == "no-store, private"
    direct = organiser.get("/reports/attendance.xlsx").get_data()
    assert _cells(got.get_data()) == _cells(direct)
    assert len(_cells(direct)[0]) == 61  # header and the demo's 60 people


def test_badges_as_a_job_report_progress_in_the_page_language(organiser):
    organiser.get("/participants?lang=de")
    job = _start(organiser, "/participants/badges.pdf?city=Bremen")
    done = _follow(organiser, job)
    assert done["status"] == "done", done
    assert done["text"] == "Fertig: der Download beginnt." and done["cancel"] == "Abbrechen"
    assert done["total"] == done["done"] > 0
    assert organiser.get(done["file"]).get_data().startswith(b"%PDF")


def test_a_finished_job_is_forgotten_with_delete(organiser):
    done = _follow(organiser, _start(organiser, "/lists.pdf"))
    assert done["status"] == "done"
    headers = {"X-CSRFToken": csrf_token(organiser, "/participants")}
    assert organiser.delete(done["url"], headers=headers).status_code == 200
    assert organiser.get(done["url"]).status_code == 404
    assert organiser.get(done["file"]).status_code == 404
    assert organiser.delete(done["url"], headers=headers).status_code == 404


def test_unknown_and_malformed_job_ids_are_404(organiser):
    for job_id in ("AAAAAAAAAAAAAAAAAAAAAA", "..", "..%2F..%2Fevent.db", "x" * 300):
        assert organiser.get(f"/jobs/{job_id}").status_code == 404
        assert organiser.get(f"/jobs/{job_id}/file").status_code == 404


def test_jobs_need_the_csrf_token(organiser):
    assert organiser.post("/lists.pdf").status_code == 400
    assert not jobs_folder(organiser.application.config["DATABASE"]).exists()


def test_old_jobs_are_swept_away(db_path):
    job_id = start_job(db_path, lists_file, (str(db_path), "en", False), "lists.pdf",
                       "application/pdf")
    folder = jobs_folder(db_path) / job_id
    deadline = time.monotonic() + 60
    while not (folder / "output").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the state says done after the output is written
    left = jobs_folder(db_path) / "tmpx.out"  # a download's file a stopped server left
    left.write_bytes(b"%PDF")
    assert sweep(db_path) == 0
    assert sweep(db_path, now=time.time() + KEEP_SECONDS + 1) == 2
    assert not folder.exists() and not left.exists()


def _previewed(organiser) -> str:
    """Upload the fuzz tests' good CSV and return its kept upload's token."""
    page = upload(organiser, GOOD_CSV, "Teilnehmer.csv").get_data(as_text=True)
    token = page_token(page)
    assert token and 'data-job' in page
    return token


def _confirm_as_job(organiser, token: str) -> dict:
    answer = organiser.post("/participants/upload/confirm", headers={
        "Accept": "application/json", "X-CSRFToken": csrf_token(organiser, "/participants")},
        data={"token": token})
    assert answer.status_code == 202, answer.get_data(as_text=True)
    return answer.get_json()


def test_an_import_as_a_job_ends_on_the_list_with_its_counts(organiser, db):
    before = db["participants"].count
    token = _previewed(organiser)
    done = _follow(organiser, _confirm_as_job(organiser, token))
    assert done["status"] == "done" and done["file"] is None, done
    assert done["after"].startswith("/participants/upload/done/")
    assert db["participants"].count > before
    page = organiser.get(done["after"], follow_redirects=True).get_data(as_text=True)
    assert "Imported Teilnehmer.csv:" in page
    # The kept upload is gone: the same result page again changes nothing.
    assert organiser.get(done["after"]).headers["Location"].endswith("/participants/upload")

