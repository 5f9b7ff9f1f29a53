"""Every projection of the read model recomputed from the log: the log stays the truth.

`rebuild_projections` is what `checkin rebuild`, the migration that created the projections
and a bulk import of the log call; it recomputes `location`, `attendance`, `aboard`,
`counted` and `tallies` (checkin.scans.projections) with the same rules every write uses.
"""

from __future__ import annotations

from sqlite_utils import Database

from checkin.core.db import writing
from checkin.scans.projections import rebuild_people


def rebuild_projections(db: Database) -> dict[str, int]:
    """Recompute every projection from the log in one transaction; return rows per table."""
    with writing(db):
        return rebuild_people(db)


def rebuild_locations(db: Database) -> int:
    """Recompute every projection from the log (after writing scans straight into it);
    return how many people `location` places."""
    return rebuild_projections(db)["location"]
