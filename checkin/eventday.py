"""The one day a chart of the event shows: the event's date, or the day of the latest scans."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def chart_day(times: list[datetime], zone: ZoneInfo, event_date: str | None) -> date | None:
    """Return the local day to chart: the event's date when anything happened on it, else
    the day of the latest time (a database reused on another day, a test run), else None."""
    if not times:
        return None
    days = {t.astimezone(zone).date() for t in times}
    if event_date:
        try:
            wanted = date.fromisoformat(str(event_date)[:10])
        except ValueError:
            wanted = None
        if wanted in days:
            return wanted
    return max(times).astimezone(zone).date()


def on_chart_day(times: list[datetime], zone: ZoneInfo,
                 event_date: str | None) -> list[datetime]:
    """Return the times that fall on the charted day (the axis never spans several days)."""
    day = chart_day(times, zone, event_date)
    return [t for t in times if t.astimezone(zone).date() == day]
