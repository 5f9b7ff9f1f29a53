"""Faults with a clear answer: a damaged database at start, and a full disk while serving."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from checkin.core.errors import DomainError, say

# Devices treat 503 as "try again later" and keep the scan in their queue.
RETRY_AFTER_SECONDS = 10


def quick_check(db_path: str | Path) -> list[str]:
    """Return SQLite's quick_check problems of the database at `db_path` (empty when sound)."""
    path = Path(db_path)
    if not path.exists():
        return []
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed", ...
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def damage_message(db_path: str | Path, problems: list[str], restore_from: str | None) -> str:
    """Return what `serve` says about a damaged database: what is wrong and the restore command."""
    # SQLite's own findings stay as it words them; the sentence around them is the reader's.
    shown = "; ".join(problems[:3]) + (" " + str(say("serve.damaged_more", n=len(problems) - 3))
                                       if len(problems) > 3 else "")
    return str(say("serve.damaged", path=str(db_path), problems=shown,
                   source=restore_from or "REPLICA-OR-BACKUP"))


def is_disk_full(exc: BaseException) -> bool:
    """Say whether an exception is SQLite's or the system's "disk is full"."""
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL \
            or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno == 28  # ENOSPC


def _disk_full(exc: Exception) -> Any:
    if not is_disk_full(exc):
        raise exc
    full = DomainError("disk_full")
    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        response = jsonify({"error": {"code": full.code, "message": full.message}})
    else:
        response = Response(full.message, mimetype="text/plain")
    response.status_code = full.status
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    """Answer a full disk with 503 disk_full instead of a 500, wherever it happens."""
    app.register_error_handler(sqlite3.OperationalError, _disk_full)
    app.register_error_handler(OSError, _disk_full)
