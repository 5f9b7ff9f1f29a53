"""The one read model of the day: every number in checkin is computed here from the logs.

The logs are append-only: `scans` (what devices saw), `corrections` (an organiser voids a
scan or moves it to another checkpoint) and `excursion_events` (departures, returns and
walk-ons). The plan is `participants` (from the event file and the CSV). Definitions:

- effective scan log: scans that are not rejected, belong to a person and were not voided,
  each at the checkpoint its latest 'move' correction gave it (else where it was made), with
  that checkpoint's `kind` and `ref` joined from `checkpoints`. Ordered by (sort_at, seq).
- assigned excursion: the latest walk-on of the person (a day event), else the plan's
  `participants.excursion`. The day always wins over the plan.
- where a person is: their latest effective scan. entrance in -> in the venue; room X in ->
  in room X; room X out -> in the venue, in no room; entrance out -> left; excursion X in ->
  on excursion X until X returns, then back from it (not in the venue until scanned there).
- arrived: has at least one effective scan; arrival time: the earliest one.
- excursion: expected = assigned to it; confirmed = expected and their latest effective scan
  at its checkpoint is 'in'; missing = expected - confirmed; not_on_list = latest scan there
  'in' but not expected (never counted as confirmed); walk_ons = expected through a walk-on.
  On the excursion now = confirmed while it has not returned.
- working group attended: an 'in' scan in the group's room whose stay (until the person's
  next effective scan) overlaps the group's time; without times, any 'in' scan there.

See docs/counting.md. The rules are applied when something is written: the projections
(checkin.scans.projections) keep per person `location` (where they are), `attendance`
(arrival, group attended), `aboard` (excursion checkpoints whose latest scan is 'in') and
`counted` (the tally keys they count in), `person_days` and `venue_steps` (the day over
time, checkin.scans.dayline), and `tallies` (how many count in each key: the headcounts,
excursion and group totals, the summary's numbers). Every scan, correction,
undo, walk-on and import of the plan recomputes its person's rows from their own log in its
transaction; `checkin rebuild` (checkin.scans.rebuild) recomputes all of them from the log.
The reads here (headcounts, rosters, arrivals, group attendance, the day over time) read
the projections; the effective log is read per person by the writes, and whole only by the
rebuild and the list of the (few) scans outside the shown day.

The model lives in one module per question, and its public names are importable from here:
checkin.scans.log (the effective log), .day (plan and day: walk-ons, departures, returns),
.excursion (an excursion's state), .counts (headcounts, where a person is now), .timeline
(arrivals, the shown day, group attendance), .people (the people view), .scanlist (scans as
organisers list them). Code outside checkin/scans/ never reads the log's tables itself
(tests/test_architecture.py).
"""

from checkin.scans.counts import (
    checkpoint_headcount,
    expected,
    headcounts,
    inside,
    venue_count,
    where_now,
)
from checkin.scans.day import (
    ASSIGNED_EXCURSION,
    assigned_excursion,
    assignments,
    day_assignments,
    day_conflicts,
    excursion_members,
    excursion_statuses,
)
from checkin.scans.excursion import (
    all_excursion_states,
    excursion_counts,
    excursion_outcome,
    excursion_outcomes,
    excursion_state,
)
from checkin.scans.log import (
    AT_CHECKPOINT,
    MOVED_TO,
    VOIDED,
    checkpoint_of_excursion,
    checkpoints,
    correction_state,
    effective_scans,
    effective_sql,
    history_before,
    in_venue,
    latest_scan,
    latest_scans_at,
    timelines,
)
from checkin.scans.timeline import (
    arrival_times,
    arrivals_by_person,
    attended_group,
    day_window,
    group_attendance,
    outside_day,
    split_by_day,
)

__all__ = [
    "ASSIGNED_EXCURSION", "AT_CHECKPOINT", "MOVED_TO", "VOIDED", "all_excursion_states",
    "arrival_times", "arrivals_by_person", "assigned_excursion", "assignments",
    "attended_group", "checkpoint_headcount", "checkpoint_of_excursion", "checkpoints",
    "correction_state", "day_assignments", "day_conflicts", "day_window", "effective_scans",
    "effective_sql", "excursion_counts", "excursion_members", "excursion_outcome",
    "excursion_outcomes", "excursion_state",
    "excursion_statuses", "expected", "group_attendance", "headcounts", "history_before",
    "in_venue", "inside", "latest_scan", "latest_scans_at", "outside_day", "split_by_day",
    "timelines", "venue_count", "where_now",
]
