"""Every projection of the read model recomputed from the log: the log stays the truth.

`rebuild_projections` is what `checkin rebuild` and a bulk import of the log call; each
projection kept current on write adds its own rebuild here.
"""

from __future__ import annotations

from sqlite_utils import Database

from checkin.core.db import writing
from checkin.scans.presence import rebuild_locations


def rebuild_projections(db: Database) -> dict[str, int]:
    """Recompute every projection from the log in one transaction; return rows per table."""
    with writing(db):
        return {"location": rebuild_locations(db)}
