"""The one way checkin copies an event database: SQLite's online backup, consistent even
while the server writes, private (0600), self-contained and written atomically.

`checkin backup`, the rolling backups, `restore` from a backup file, `reset --scans`' copy
and `simulate --copy` all call `backup`; the purge finds and shreds what they wrote
(checkin.continuity.backup.own_copies).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from sqlite_utils import Database


def backup(source: str | Path | Database, output: str | Path, replace: bool = True) -> Path:
    """Write a consistent copy of the database `source` (a file or an open one) to `output`.

    Raises FileNotFoundError for a missing source file, FileExistsError when `output`
    exists and `replace` is False.
    """
    output = Path(output)
    if not replace and output.exists():
        raise FileExistsError(f"{output} exists already")
    if not isinstance(source, Database) and not Path(source).is_file():
        raise FileNotFoundError(f"no event database at {source}")
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".part")
    tmp.unlink(missing_ok=True)
    # A read-write connection, though it only reads: a mode=ro connection that opens a WAL
    # database before the server has made its -shm file works without shared memory and
    # left the server's own connections with "disk I/O error" (seen under load).
    conn = source.conn if isinstance(source, Database) else sqlite3.connect(str(source),
                                                                             timeout=10)
    try:
        target = sqlite3.connect(str(tmp))
        try:
            # All pages in one step: the copy is one consistent moment, and the source's
            # writers wait at most the few milliseconds a copy of a day's event takes.
            conn.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            target.close()
        os.chmod(tmp, 0o600)  # the event's files are private
        os.replace(tmp, output)
    finally:
        if not isinstance(source, Database):
            conn.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return output
