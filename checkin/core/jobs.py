"""Long organiser jobs (a lists or badges PDF, an Excel export, an import) with progress and
cancel: `start_job`, `job_state`, `cancel_job`, `job_output`.

A job runs in a worker of `checkin.core.pool` and writes its output to a file; the page
polls its state and downloads the file when it is done. The state lives in files next to the
database (`jobs/<id>/`), not in memory, because with `--workers N` the page's next request
may reach another server process than the one running the job. A job id is 128 random bits:
knowing one is what lets an organiser's page follow it.

Cancelling marks the job and kills its worker process, whichever server process runs it;
the one that runs it sees the worker end, and its pool starts a fresh one. Without gevent
the job runs in a thread, which stops at its next `progress` call instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkin.core.files import FOLDER_MODE
from checkin.core.offload import cooperative
from checkin.core.pool import PROGRESS_SECONDS, Cancelled, Worker, WorkerLost, run_pooled

# A finished job's file waits this long for its download; then it is swept away (it holds
# names: a lists PDF, badges, an export).
KEEP_SECONDS = 15 * 60
_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"
# Jobs of this process cancelled while running in a thread (no worker to kill).
_cancelled: set[str] = set()


def jobs_folder(db_path: str | Path) -> Path:
    """Where the event's jobs keep their state and output: `jobs/` next to the database."""
    return Path(db_path).parent / "jobs"


def _folder(db_path: str | Path, job_id: str) -> Path | None:
    """The folder of job `job_id`, or None for an id that cannot be one (never a path)."""
    if not _ID.match(job_id or ""):
        return None
    return jobs_folder(db_path) / job_id


def _save(folder: Path, state: dict[str, Any]) -> None:
    """Write the job's state atomically (another process may be reading it)."""
    tmp = folder / f"state.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(state))
    os.replace(tmp, folder / "state.json")


def _load(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / "state.json").read_text())
    except (OSError, ValueError):
        return None


def sweep(db_path: str | Path, now: float | None = None) -> int:
    """Delete jobs older than KEEP_SECONDS (their output too); return how many."""
    now = time.time() if now is None else now
    removed = 0
    folder = jobs_folder(db_path)
    if not folder.is_dir():
        return 0
    for job in folder.iterdir():
        if not job.is_dir():
            # A waited-for download's file (checkin.http.jobs): deleted once sent, so only
            # one left behind by a stopped server is this old.
            with contextlib.suppress(FileNotFoundError):
                if now - job.stat().st_mtime > KEEP_SECONDS:
                    job.unlink()
                    removed += 1
            continue
        state = _load(job)
        if state is None or now - state.get("created", 0) > KEEP_SECONDS:
            if state is not None and state["status"] == RUNNING and not _asked_to_stop(job):
                continue  # a long job still working: its own end sweeps it later
            shutil.rmtree(job, ignore_errors=True)
            removed += 1
    return removed


def clear_jobs(db_path: str | Path) -> int:
    """Delete every job and kept output (the purge: they hold names); return how many."""
    folder = jobs_folder(db_path)
    found = list(folder.iterdir()) if folder.is_dir() else []
    shutil.rmtree(folder, ignore_errors=True)
    return len(found)


def _asked_to_stop(folder: Path) -> bool:
    return (folder / "cancel").exists()


def start_job(db_path: str | Path, fn: Callable[..., Any], args: tuple[Any, ...],
              filename: str, mimetype: str, after: str | None = None) -> str:
    """Start `fn(output_path, *args)` as a job and return its id.

    `fn` is module-level (it runs in a pool worker), writes its output to the path it is
    given, may call `checkin.core.pool.progress`, and returns something small and picklable
    for the state (a count, or None). `after` is where the page goes once the job has
    ended (an import's result page) instead of downloading its file; JOB_ID in it stands
    for the job's id.
    """
    sweep(db_path)
    job_id = secrets.token_urlsafe(16)
    root = jobs_folder(db_path)
    root.mkdir(mode=FOLDER_MODE, exist_ok=True)
    folder = root / job_id
    folder.mkdir(mode=FOLDER_MODE)
    state = {"id": job_id, "status": RUNNING, "done": 0, "total": 0, "pid": None,
             "filename": filename, "mimetype": mimetype, "result": None, "error": None,
             "after": after.replace("JOB_ID", job_id) if after else None,
             "created": time.time()}
    _save(folder, state)
    if cooperative():
        import gevent

        gevent.spawn(_run, folder, state, fn, args)
    else:
        threading.Thread(target=_run, args=(folder, state, fn, args), daemon=True).start()
    return job_id


def _run(folder: Path, state: dict[str, Any], fn: Callable[..., Any],
         args: tuple[Any, ...]) -> None:
    """Run the job to its end and record how it ended."""
    job_id = state["id"]

    def started(worker: Worker) -> None:
        if _asked_to_stop(folder):
            raise Cancelled
        state["pid"] = worker.pid
        _save(folder, state)

    saved = [0.0]

    def on_progress(done: int, total: int) -> None:
        if job_id in _cancelled:
            raise Cancelled
        state["done"], state["total"] = done, total
        # A worker sends a few reports a second; a job in a thread reports every row.
        if time.monotonic() - saved[0] >= PROGRESS_SECONDS or done >= total:
            saved[0] = time.monotonic()
            _save(folder, state)

    output = folder / "output"
    try:
        state["result"] = run_pooled(fn, str(output), *args, on_progress=on_progress,
                                     started=started, long=True)
        state["status"] = DONE
    except (Cancelled, WorkerLost) as exc:
        state["status"] = CANCELLED if _asked_to_stop(folder) else FAILED
        state["error"] = None if state["status"] == CANCELLED else str(exc)
    except Exception as exc:  # the job's own failure: shown on the page, never raised here
        state["status"], state["error"] = FAILED, str(exc)
    finally:
        _cancelled.discard(job_id)
    if state["status"] != DONE:
        output.unlink(missing_ok=True)
    with contextlib.suppress(FileNotFoundError):  # cancelled and swept meanwhile
        _save(folder, state)


def job_state(db_path: str | Path, job_id: str) -> dict[str, Any] | None:
    """Return the job's state (status, done, total, filename, result, error), or None."""
    folder = _folder(db_path, job_id)
    state = _load(folder) if folder is not None else None
    if state is not None and state["status"] == RUNNING and _asked_to_stop(folder):
        state["status"] = CANCELLED
    return state


def cancel_job(db_path: str | Path, job_id: str) -> dict[str, Any] | None:
    """Cancel a running job (kill its worker) or forget a finished one; return its state."""
    state = job_state(db_path, job_id)
    if state is None:
        return None
    folder = _folder(db_path, job_id)
    assert folder is not None
    if state["status"] in (RUNNING, CANCELLED):
        (folder / "cancel").touch()
        _cancelled.add(job_id)
        if state.get("pid"):
            # The worker is a child of whichever server process runs the job; killing it
            # ends the job there (the pool replaces the worker).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(state["pid"], signal.SIGKILL)
        state["status"] = CANCELLED
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return state


def job_output(db_path: str | Path, job_id: str) -> tuple[Path, dict[str, Any]] | None:
    """Return a finished job's output file and state, or None if there is none."""
    state = job_state(db_path, job_id)
    folder = _folder(db_path, job_id)
    if state is None or folder is None or state["status"] != DONE:
        return None
    path = folder / "output"
    return (path, state) if path.is_file() else None
