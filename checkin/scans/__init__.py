"""The scan domain: recording scans exactly once, presence, headcounts, rosters.

Plain functions over the event database, without Flask; the API only translates to them.
"""

from checkin.scans.access import (
    Forbidden,
    may_scan,
    organiser_actor,
    visible_checkpoints,
)
from checkin.scans.presence import (
    checkpoint_headcount,
    headcounts,
    refresh_location,
)
from checkin.scans.rebuild import rebuild_locations
from checkin.scans.record import (
    Recorded,
    ScanInputError,
    correct_scan,
    get_scan,
    record_scans,
    undo_scan,
)
from checkin.scans.roster import find_people, roster, roster_json

__all__ = [
    "Forbidden", "Recorded", "ScanInputError", "checkpoint_headcount", "correct_scan",
    "find_people", "get_scan", "headcounts", "may_scan", "organiser_actor", "rebuild_locations",
    "record_scans", "refresh_location", "roster", "roster_json", "undo_scan", "visible_checkpoints",
]
