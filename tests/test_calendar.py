"""The suite does not depend on the calendar: no test names a date that the clock can catch up with.

A test that sends a date near "today" to the server passes until the server's "a day off" rule
meets the real date, then fails for everyone (CI was red for days because of four such tests).
Tests use the event's own day (the demo's 2019-11-12, which the server accepts as the event day),
a time derived from the moment they run, or a clock frozen inside their own process.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

TESTS = Path(__file__).parent
ISO_DATE = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)(?!\d)")
# A literal date older than this cannot come near the clock again: the check passes on every
# later day, so it is not itself a test that depends on the calendar.
MARGIN = dt.timedelta(days=365)


def _literal_dates() -> list[tuple[str, int, dt.date]]:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        if "vendor" in path.parts:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in ISO_DATE.finditer(line):
                try:
                    day = dt.date(*map(int, match.groups()))
                except ValueError:
                    continue
                found.append((path.name, number, day))
    return found


def test_no_test_names_a_recent_or_future_date():
    limit = dt.datetime.now(dt.UTC).date() - MARGIN
    near = [f"{name}:{number}: {day}" for name, number, day in _literal_dates() if day > limit]
    assert not near, ("tests name a date the clock can reach; use the event's day or derive it "
                      "from now:\n" + "\n".join(near))


def test_the_check_sees_dates():
    # The scan above must find something to judge, or it passes by reading nothing.
    assert any(day.year == 2019 for _, _, day in _literal_dates())
