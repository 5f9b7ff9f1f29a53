"""The organisers' overview's numbers, read in a pool worker rather than on the door's loop.

At 5,000 people the numbers, alerts and excursions take about 60 ms together; the overview
re-fetches its parts after every push, so on the loop each busy minute would hold the door
for that long again and again.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from checkin.core.db import with_database
from checkin.desk import walk_in_count
from checkin.excursions import all_excursion_states
from checkin.live import stats
from checkin.live.alerts import alerts
from checkin.scans import headcounts

#: The overview's parts, each fetched on its own after a push.
PARTS = ("numbers", "alerts", "excursions", "missing")


def overview_data(db_path: str, q: str, part: str | None = None) -> dict[str, Any]:
    """Return what the overview's parts show (all, or only `part`) for the event at `db_path`."""
    return with_database(db_path, _data, q, part)


def _data(db: Database, q: str, part: str | None) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if part in (None, "numbers"):
        counts = headcounts(db)
        context["numbers"] = stats.overview_numbers(db)
        context["walk_ins"] = walk_in_count(db)
        context["venue"] = next((c for c in counts["checkpoints"] if c["kind"] == "entrance"),
                                None)
    if part in (None, "alerts"):
        context["alerts"] = alerts(db)
    if part in (None, "excursions"):
        context["excursions"] = all_excursion_states(db)
    if part in (None, "missing"):
        context["missing"], context["missing_total"] = stats.not_arrived(db, q)
    return context
