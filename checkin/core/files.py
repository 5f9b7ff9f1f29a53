"""The event's files are private to the account that runs checkin (files 0600, folders 0700)."""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700
#: Set when a command starts: everything it creates (database, WAL, exports) is private.
UMASK = 0o077


def private_umask() -> None:
    """Make every file this process creates from now on readable by its own account only."""
    os.umask(UMASK)


def create_private(path: Path) -> None:
    """Create an empty database file 0600 (SQLite gives its -wal and -shm the same mode)."""
    path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    if not path.exists():
        # Another process may create it first: fine.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))


def event_files(db_path: Path) -> list[Path]:
    """Return the event's files and folders that exist: database, WAL, SHM, uploads, TLS."""
    found = [Path(f"{db_path}{suffix}") for suffix in ("", "-wal", "-shm")]
    for folder in (db_path.parent / "uploads", db_path.parent / "tls"):
        if folder.is_dir():
            found.append(folder)
            found.extend(p for p in folder.iterdir() if p.is_file())
    return [p for p in found if p.exists()]


def readable_by_others(path: Path) -> bool:
    """Say whether anyone but the owner may read (or enter) `path`."""
    return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def make_private(db_path: Path) -> list[Path]:
    """Warn about the event's files that others may read, and make them private; return them."""
    exposed = [p for p in event_files(db_path) if readable_by_others(p)]
    for path in exposed:
        print(f"warning: {path} was readable by other accounts on this machine; "
              "it is now private to this one.", file=sys.stderr)
        path.chmod(FOLDER_MODE if path.is_dir() else FILE_MODE)
    return exposed
