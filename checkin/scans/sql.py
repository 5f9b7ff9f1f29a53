"""Reading rows as dicts on the scan path, without sqlite-utils' per-query savepoint."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database


def rows(db: Database, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    """Run a read-only query and return its rows as dicts (3x cheaper than db.query here)."""
    cursor = db.conn.execute(sql, params)
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row, strict=True)) for row in cursor.fetchall()]
