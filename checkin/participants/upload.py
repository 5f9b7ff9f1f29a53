"""Uploaded participant files: what importing one would do; keeping it until confirmed."""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from checkin.core.db import with_database
from checkin.core.errors import use_language
from checkin.participants.csvfile import read_file
from checkin.participants.records import save_rows

PREVIEW_ORDER = ("title", "first_name", "last_name", "organisation", "organisation_type", "city",
                 "email", "language", "working_group", "excursion", "role")
# An uploaded file waits this long for its "Import now"; older ones are deleted.
KEEP_SECONDS = 60 * 60
TOKEN = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
SUFFIX = ".csv.upload"
T = TypeVar("T")
SETTINGS = ".settings.json"  # beside a kept upload: the sheet and columns the organiser chose


def in_worker(language: str, db_path: str, fn: Callable[..., T], *args: Any) -> T:
    """Call `fn(db, *args)` on a connection of its own, its sentences in `language`: a pool
    worker (checkin.core.pool) has no request to take the reader's language from."""
    restore = use_language(language)
    try:
        return with_database(db_path, fn, *args)
    finally:
        restore()


def plan_import(db: Database, data: bytes, sheet: str | None = None,
                overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """Check a participants file and say what importing it would do, changing nothing.

    The plan holds the column mapping and the first rows as they will be imported.
    Raises FileError when the file cannot be read as a participants list at all.
    """
    reading = read_file(db, data, sheet, overrides)
    checked = reading.checked
    plan: dict[str, Any] = {"problems": checked.problems, "warnings": reading.warnings,
                            "rows": len(reading.table.rows), "mapping": reading.mapping,
                            "preview": reading.preview, "sheet": reading.table.sheet,
                            # The preview's columns: the fields any of its rows has a value for.
                            "preview_fields": [f for f in PREVIEW_ORDER if any(
                                row.get(f) for row in reading.preview)],
                            "sheets": reading.table.sheets,
                            "created": 0, "updated": 0, "unchanged": 0}
    if checked.problems:
        return plan
    # The real import's work, rolled back: the preview's counts are the import's counts.
    plan.update(save_rows(db, [row for _line, row in checked.rows], dry_run=True))
    return plan


def _path(folder: Path, token: str) -> Path | None:
    """Return where the file for `token` is kept, or None if the token is malformed."""
    return folder / (token + SUFFIX) if TOKEN.match(token or "") else None


def remove_stale(folder: Path, now: float | None = None) -> int:
    """Delete kept uploads older than KEEP_SECONDS; return how many were deleted."""
    now = time.time() if now is None else now
    removed = 0
    if not folder.is_dir():
        return 0
    for path in [*folder.glob("*" + SUFFIX), *folder.glob("*" + SETTINGS)]:
        try:
            if now - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another request removed it first
            pass
    return removed


def keep_upload(folder: Path, data: bytes) -> str:
    """Store uploaded bytes privately under a new random token and return the token."""
    folder.mkdir(parents=True, exist_ok=True)
    remove_stale(folder)
    token = secrets.token_urlsafe(24)
    path = _path(folder, token)
    assert path is not None
    # The file holds personal data: readable by the server's user only.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return token


def load_upload(folder: Path, token: str) -> bytes | None:
    """Return the bytes kept under `token`, or None if there are none (used, expired, bad)."""
    path = _path(folder, token)
    if path is None or not path.is_file():
        return None
    if time.time() - path.stat().st_mtime > KEEP_SECONDS:
        discard_upload(folder, token)
        return None
    return path.read_bytes()


def discard_upload(folder: Path, token: str) -> None:
    """Delete the file kept under `token`, and its settings, if any."""
    path = _path(folder, token)
    if path is not None:
        path.unlink(missing_ok=True)
        path.with_name(token + SETTINGS).unlink(missing_ok=True)


def keep_settings(folder: Path, token: str, sheet: str | None,
                  columns: dict[str, str]) -> None:
    """Remember the sheet and column assignments chosen for a kept upload.

    On disk beside the upload rather than in the session cookie: a wide workbook's
    assignments would not fit in a cookie's 4 KB.
    """
    path = _path(folder, token)
    if path is None or not path.is_file():
        return
    target = path.with_name(token + SETTINGS)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump({"sheet": sheet, "columns": columns}, out)


def load_settings(folder: Path, token: str) -> tuple[str | None, dict[str, str]]:
    """The sheet and column assignments chosen for a kept upload (none: first sheet, as found)."""
    path = _path(folder, token)
    if path is None:
        return None, {}
    try:
        found = json.loads(path.with_name(token + SETTINGS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    sheet = found.get("sheet") if isinstance(found.get("sheet"), str) else None
    columns = found.get("columns") if isinstance(found.get("columns"), dict) else {}
    return sheet, {str(k): str(v) for k, v in columns.items()}
