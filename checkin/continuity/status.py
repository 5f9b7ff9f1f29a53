"""What organisers see about the event's safety copies: the replica's age, or the last backup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from checkin.continuity.backup import latest_backup
from checkin.continuity.replication import status_path
from checkin.core import clock

# A replica not confirmed current for this long is an alert (Litestream confirms every 100 ms).
STALE_SECONDS = 30


def continuity_status(db_path: str | Path, now: datetime | None = None) -> dict[str, Any]:
    """Return the replication state of the database: mode, state, last update, age and alert."""
    now = now or clock.now()
    try:
        data = json.loads(status_path(db_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        data = None
    if not isinstance(data, dict):
        copy = latest_backup(db_path)
        at = datetime.fromtimestamp(copy.stat().st_mtime, UTC) if copy else None
        return {"mode": "backup", "state": "backup" if at else "none", "alert": False,
                "last_updated": at, "age_seconds": (now - at).total_seconds() if at else None,
                "destination": str(copy.parent) if copy else None, "error": None}
    synced = clock.parse(data.get("last_synced"))
    age = (now - synced).total_seconds() if synced else None
    if not data.get("running"):
        state = "stopped"
    elif synced is None:
        # Just started: not yet an alert, unless it has been trying for a while.
        started = clock.parse(data.get("started"))
        late = started is None or (now - started).total_seconds() > STALE_SECONDS
        state = "stale" if late else "starting"
    elif age is not None and age > STALE_SECONDS:
        state = "stale"
    else:
        state = "ok"
    return {"mode": "replica", "state": state, "alert": state in ("stopped", "stale"),
            "last_updated": synced, "age_seconds": age,
            "destination": data.get("destination"), "error": data.get("last_error")}
