"""Organiser outputs made in the pool (checkin.core.pool) and answered over HTTP.

One URL serves each output two ways: `GET` waits for it and downloads it (a plain link
works without JavaScript), `POST` starts it as a job and answers its id at once; the page
(static/js/jobs.js) then polls `GET /jobs/<id>` for progress, downloads `GET /jobs/<id>/file`
when it is done, and `DELETE /jobs/<id>` cancels it. Streamed outputs (`streamed`) leave the
worker piece by piece and are never whole in the server's memory.

The job URLs are registered by checkin/web/routes.py behind the organisers' guard (the
permission table's MANAGE).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from flask import Response, abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from checkin.core.files import FOLDER_MODE
from checkin.core.jobs import (
    CANCELLED,
    DONE,
    FAILED,
    RUNNING,
    cancel_job,
    job_output,
    job_state,
    jobs_folder,
    start_job,
)
from checkin.core.pool import run_pooled, stream_pooled

NO_STORE = {"Cache-Control": "no-store, private"}
# Pieces of a file sent back: large enough for few writes, small enough for flat memory.
PIECE = 64 * 1024


def _database() -> str:
    return current_app.config["DATABASE"]


def _attachment(body: Any, filename: str, mimetype: str,
                headers: dict[str, str] | None = None) -> Response:
    return Response(body, mimetype=mimetype, headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"',
        **(headers or {})})


def _file_pieces(path: Path, remove: bool) -> Iterator[bytes]:
    """Yield a file's bytes piece by piece, deleting it afterwards if `remove`."""
    try:
        with path.open("rb") as f:
            while piece := f.read(PIECE):
                yield piece
    finally:
        if remove:
            path.unlink(missing_ok=True)


def streamed(fn: Callable[..., Iterator[bytes]], args: tuple[Any, ...], filename: str,
             mimetype: str) -> Response:
    """Answer the pieces `fn(*args)` yields in a pool worker as a streamed download."""
    return _attachment(stream_pooled(fn, *args), filename, mimetype)


def pooled_file(fn: Callable[..., Any], args: tuple[Any, ...], filename: str, mimetype: str,
                headers: Callable[[Any], dict[str, str]] | None = None) -> Response:
    """Answer a file `fn(path, *args)` writes in a pool worker: waited for with `GET`
    (`headers(result)` adds response headers), started as a job with `POST`."""
    if request.method == "POST":
        job_id = start_job(_database(), fn, args, filename, mimetype)
        return jsonify(_state_json(job_state(_database(), job_id) or {})), 202
    folder = jobs_folder(_database())
    folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, suffix=".out")
    os.close(handle)
    path = Path(name)
    try:
        result = run_pooled(fn, name, *args, long=True)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return _attachment(_file_pieces(path, remove=True), filename, mimetype,
                       headers(result) if headers else None)


def job_answer(fn: Callable[..., Any], args: tuple[Any, ...], after: str) -> Response:
    """Start `fn(path, *args)` as a job whose page goes to `after` when it has ended (its
    JOB_ID stands for the job's id)."""
    job_id = start_job(_database(), fn, args, "", "", after=after)
    state = job_state(_database(), job_id) or {}
    return jsonify(_state_json(state)), 202


def wants_job() -> bool:
    """Whether a form's page asked for a job (it sends `Accept: application/json`)."""
    return request.accept_mimetypes.best == "application/json"


def _state_json(state: dict[str, Any]) -> dict[str, Any]:
    """The job's state as the page shows it: numbers, a sentence, where to go next."""
    status, done, total = state.get("status"), state.get("done", 0), state.get("total", 0)
    if status == DONE:
        text = _("Done: the download starts.")
    elif status == CANCELLED:
        text = _("Cancelled.")
    elif status == FAILED:
        text = _("This did not work. Please try again.")
    elif total:
        text = _("Working: %(done)s of %(total)s done.", done=f"{done:,}", total=f"{total:,}")
    else:
        text = _("Working…")
    job_id = state.get("id", "")
    after = state.get("after")
    return {"id": job_id, "status": status, "done": done, "total": total, "text": text,
            "url": url_for("jobs.status", job_id=job_id),
            "file": url_for("jobs.download", job_id=job_id)
            if status == DONE and not after else None,
            # Where the page goes once the job has ended (an import's result), if anywhere.
            "after": after if status != RUNNING else None,
            "cancel": _("Cancel")}


def status(job_id: str) -> Any:
    """A job's progress (JSON); 404 for an id that is not a job of this event."""
    state = job_state(_database(), job_id)
    if state is None:
        abort(404)
    if state["status"] == FAILED:
        current_app.logger.warning("job %s failed: %s", job_id, state.get("error"))
    return jsonify(_state_json(state)), 200, NO_STORE


def download(job_id: str) -> Any:
    """Download a finished job's output (it stays until cancelled or swept)."""
    found = job_output(_database(), job_id)
    if found is None:
        abort(404)
    path, state = found
    return _attachment(_file_pieces(path, remove=False), state["filename"], state["mimetype"])


def cancel(job_id: str) -> Any:
    """Cancel a running job (its worker is stopped) or forget a finished one and its file."""
    state = cancel_job(_database(), job_id)
    if state is None:
        abort(404)
    return jsonify(_state_json(state)), 200, NO_STORE
