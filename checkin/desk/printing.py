"""Printing badges on the spot through a CUPS queue on the server.

A print request stores a job (state 'queued') and returns at once; a background thread
renders the badge with checkin.badges.render_pdf and hands it to CUPS with `lp`. The job's
state afterwards comes from CUPS itself (`lpstat`), so the desk sees 'printed' only when the
printer said so, and 'failed' with the printer's own reason. The command-line tools, not
pycups: they come with every CUPS, need no compiler, and talk to whichever server
CUPS_SERVER or the system's client.conf names.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from sqlite_utils import Database

from checkin import badges
from checkin.badges import DEFAULT_SIZE
from checkin.core.clock import now_iso
from checkin.core.codes import reissue
from checkin.core.db import connect, with_database, writing
from checkin.core.pool import run_pooled
from checkin.desk.background import Worker

LP_TIMEOUT = 30
REQUEST_ID = re.compile(r"request id is (\S+)")
# The folders badges are rendered into before CUPS takes them (deleted once `lp` returns).
SPOOL_PREFIX = "checkin-print-"
# A render folder older than this was left by a crash (rendering and `lp` take seconds).
SPOOL_LEFTOVER_SECONDS = 10 * 60


class PrintingOff(RuntimeError):
    """No printer is set for this server."""


class AskFirst(RuntimeError):
    """The badge was printed before: printing it again needs a confirmation."""

    def __init__(self, last: dict[str, Any]):
        super().__init__("printed before")
        self.last = last


def badge_sizes() -> tuple[str, ...]:
    """Return the badge sizes the badges module can render."""
    return tuple(badges.SIZES)


def _render_file(db_path: str, path: str, participant_id: int, size: str | None) -> None:
    """Write one person's badge as PDF to the file at `path`."""
    with open(path, "wb") as out:
        with_database(db_path, render_badge, out, participant_id, size)


def render_badge(db: Database, out: BinaryIO, participant_id: int, size: str | None) -> None:
    """Write one person's badge in `size` (default: the A4 sheet) as PDF to `out`."""
    badges.render_pdf(db, out, [participant_id], size=size or DEFAULT_SIZE)


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    # The C locale: the tools' answers are parsed, and must not come in the server's language.
    env = {**os.environ, "LC_ALL": "C", "LANG": "C"}
    return subprocess.run(args, capture_output=True, text=True, timeout=LP_TIMEOUT, env=env,
                          check=False)


def default_printer() -> str | None:
    """Return the system's default CUPS queue, or None when there is none (or no CUPS)."""
    try:
        answer = _run(["lpstat", "-d"])
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"system default destination:\s*(\S+)", answer.stdout)
    return match.group(1) if match else None


def send_to_printer(printer: str, path: str, title: str) -> tuple[str | None, str | None]:
    """Hand a PDF to a CUPS queue; return (CUPS job id, None) or (None, the reason it failed)."""
    try:
        answer = _run(["lp", "-d", printer, "-t", title, "-o", "fit-to-page", path])
    except FileNotFoundError:
        return None, "CUPS is not installed here (no lp command)"
    except subprocess.TimeoutExpired:
        return None, "the print server did not answer"
    match = REQUEST_ID.search(answer.stdout)
    if answer.returncode != 0 or not match:
        return None, (answer.stderr or answer.stdout).strip()[:500] or "lp failed"
    return match.group(1), None


@dataclass
class CupsJob:
    """What lpstat says about one job."""

    done: bool
    status: str
    alerts: str


def cups_jobs(printer: str) -> dict[str, CupsJob]:
    """Return every job CUPS still knows on `printer`, finished or not, by job id."""
    found: dict[str, CupsJob] = {}
    done = set()
    for which in ("completed", "not-completed"):
        answer = _run(["lpstat", "-l", "-W", which, "-o", printer])
        current = None
        for line in answer.stdout.splitlines():
            if line and not line[0].isspace():
                current = line.split()[0]
                found[current] = CupsJob(which == "completed", "", "")
                if which == "completed":
                    done.add(current)
            elif current and line.strip().startswith("Status:"):
                found[current].status = line.split(":", 1)[1].strip()
            elif current and line.strip().startswith("Alerts:"):
                found[current].alerts = line.split(":", 1)[1].strip()
    return found


def judge(job: CupsJob) -> tuple[str, str | None]:
    """Turn what CUPS says about a job into our state and, when it failed, the reason."""
    trouble = re.search(r"abort|cancel|error|stopped", job.alerts)
    if trouble:
        return "failed", job.status or job.alerts
    if job.done:
        return "printed", None
    return "queued", None


PUBLIC = ("id", "participant_id", "printer", "size", "state", "cups_job", "reason",
          "created_at", "updated_at")


def public(job: dict[str, Any]) -> dict[str, Any]:
    """Return a print job as the API shows it."""
    return {k: job.get(k) for k in PUBLIC}


def last_job(db: Database, participant_id: int) -> dict[str, Any] | None:
    """Return the newest print job for a person that did not fail, if any."""
    found = list(db.query(
        "SELECT * FROM print_jobs WHERE participant_id = ? AND state != 'failed' "
        "ORDER BY created_at DESC LIMIT 1", [participant_id]))
    return found[0] if found else None


def get_job(db: Database, job_id: str) -> dict[str, Any] | None:
    """Return one print job, or None."""
    found = list(db.query("SELECT * FROM print_jobs WHERE id = ?", [job_id]))
    return found[0] if found else None


class Printer:
    """The server's printer: a CUPS queue, a badge size, and the thread that feeds CUPS."""

    def __init__(self, db_path: str, queue_name: str | None, size: str | None = None):
        self.db_path, self.queue, self.size = db_path, queue_name, size or DEFAULT_SIZE
        self.worker = Worker("badge-printer")

    @property
    def on(self) -> bool:
        """Whether printing is set up."""
        return bool(self.queue)

    def submit(self, db: Database, participant_id: int, by: str,
               confirm: bool = False) -> dict[str, Any]:
        """Queue a person's badge for printing; return the job (state 'queued').

        Raises PrintingOff without a printer, LookupError for an unknown person, and
        AskFirst when the badge was printed before and `confirm` is not set.
        """
        if not self.on:
            raise PrintingOff("no printer is set (checkin serve --printer QUEUE)")
        with writing(db):
            # An erased person is no one to print for: their badge would carry no name and
            # a code that no scanner accepts.
            row = db.execute("SELECT code FROM participants WHERE id = ? AND erased_at IS NULL",
                             [participant_id]).fetchone()
            if row is None:
                raise LookupError(f"no participant {participant_id}")
            last = last_job(db, participant_id)
            # A badge printed before is probably still somewhere: ask before a second one.
            if last is not None and last["code"] == row[0] and not confirm:
                raise AskFirst(last)
            job = {"id": "j" + secrets.token_hex(6), "participant_id": participant_id,
                   "code": row[0], "printer": self.queue, "size": self.size, "state": "queued",
                   "requested_by": by, "created_at": now_iso(), "updated_at": now_iso()}
            db["print_jobs"].insert(job)
        self.worker.submit(self._print, job["id"])
        return job

    def reissue_and_print(self, db: Database, participant_id: int, by: str
                          ) -> tuple[str, dict[str, Any]]:
        """Give a person a new code (the old one stops at once) and print the new badge."""
        if not self.on:
            raise PrintingOff("no printer is set (checkin serve --printer QUEUE)")
        code = reissue(db, participant_id)
        return code, self.submit(db, participant_id, by, confirm=True)

    def _print(self, job_id: str) -> None:
        """Render and send one job (runs in the background thread)."""
        db = connect(self.db_path)
        try:
            job = get_job(db, job_id)
            if job is None:
                return
            with tempfile.TemporaryDirectory(prefix=SPOOL_PREFIX) as folder:
                path = os.path.join(folder, f"badge-{job_id}.pdf")
                try:
                    # Rendering is CPU work: in a pool worker, not the door's process.
                    run_pooled(_render_file, self.db_path, path, job["participant_id"],
                               job["size"])
                except Exception as exc:  # a job never stays 'queued' because rendering failed
                    self._set(db, job_id, "failed", None, f"badge could not be made: {exc}")
                    return
                cups_job, reason = send_to_printer(job["printer"], path,
                                                   f"checkin-badge-{job_id}")
            if cups_job is None:
                self._set(db, job_id, "failed", None, reason)
            else:
                self._set(db, job_id, "queued", cups_job, None)
        finally:
            db.conn.close()

    @staticmethod
    def _set(db: Database, job_id: str, state: str, cups_job: str | None,
             reason: str | None) -> None:
        with writing(db):
            db.execute("UPDATE print_jobs SET state = ?, cups_job = coalesce(?, cups_job), "
                       "reason = ?, updated_at = ? WHERE id = ?",
                       [state, cups_job, reason, now_iso(), job_id])


def refresh(db: Database, job_id: str) -> dict[str, Any] | None:
    """Return a print job, its state first brought up to date from CUPS if still queued."""
    job = get_job(db, job_id)
    if job is None or job["state"] != "queued" or not job["cups_job"]:
        return job
    known = cups_jobs(job["printer"]).get(job["cups_job"])
    if known is None:
        return job
    state, reason = judge(known)
    if state != "queued":
        with writing(db):
            db.execute("UPDATE print_jobs SET state = ?, reason = ?, updated_at = ? "
                       "WHERE id = ? AND state = 'queued'",
                       [state, reason, now_iso(), job_id])
        job = get_job(db, job_id)
    return job


def sent_jobs(db: Database) -> list[str]:
    """Return the CUPS job ids of every badge sent to a printer (the printer is in the id)."""
    return [r[0] for r in db.execute("SELECT cups_job FROM print_jobs "
                                     "WHERE cups_job IS NOT NULL")]


# Purge-Jobs with job-ids: CUPS deletes these finished jobs' documents and history, and no
# other job (`cancel` refuses finished jobs; `cancel -a -x` would take everyone's).
_PURGE_JOBS = """{
  OPERATION Purge-Jobs
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR name requesting-user-name $user
  ATTR integer job-ids $job
  STATUS successful-ok
}
"""


def _purge_cups_job(job: str, folder: str) -> str | None:
    """Ask CUPS to delete one job's document and history; None, or why it could not."""
    queue, _, number = job.rpartition("-")
    if not queue or not number.isdigit():
        return None
    try:
        host = _run(["lpstat", "-H"]).stdout.strip()
        # A local socket path means this machine's scheduler, which also listens on IPP.
        host = "localhost" if not host or host.startswith("/") else host
        test = os.path.join(folder, "purge-jobs.test")
        with open(test, "w", encoding="utf-8") as f:
            f.write(_PURGE_JOBS)
        answer = _run(["ipptool", "-d", f"job={number}",
                       f"ipp://{host}/printers/{queue}", test])
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"print job {job}: {exc}"
    # A job CUPS has already forgotten is as good as purged.
    if answer.returncode != 0 and "not-found" not in answer.stdout + answer.stderr:
        return (f"print job {job}: CUPS did not delete it (an administrator can: "
                f"cancel -a -x {queue}) {(answer.stderr or answer.stdout).strip()[-200:]}")
    return None


def forget_print_files(cups_job_ids: list[str]) -> tuple[int, list[str]]:
    """Delete the badge files this server left for printing: CUPS's copies and history of the
    given jobs, and render folders a crash left behind. Return (files deleted, problems)."""
    removed = 0
    # Only old ones: another event's server on this machine may be printing right now.
    before = time.time() - SPOOL_LEFTOVER_SECONDS
    for folder in Path(tempfile.gettempdir()).glob(SPOOL_PREFIX + "*"):
        info = folder.stat()
        if folder.is_dir() and info.st_uid == os.getuid() and info.st_mtime < before:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    problems = []
    with tempfile.TemporaryDirectory(prefix="checkin-ipp-") as folder:
        for job in cups_job_ids:
            problem = _purge_cups_job(job, folder)
            if problem:
                problems.append(problem)
            else:
                removed += 1
    return removed, problems
