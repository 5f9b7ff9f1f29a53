"""The one clock: now, reading times from devices and files, and writing them for machines
(the log's UTC ISO form) and for people (the event's time zone, the reader's language).

Every module that reads or writes a time calls these functions; `tests/test_architecture.py`
keeps it so. Tests freeze `now()` in their own process (time-machine), never a server's.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date as _babel_date
from babel.dates import format_time as _babel_time

#: The longest time string a device or file may send (longer is not a time, and not parsed).
MAX_LENGTH = 64
#: Device times outside these years are refused: a wrong clock, and far years cannot even
#: be moved to UTC (year 1 at +01:00, year 9999 at -01:00).
YEARS = (2000, 9998)


def now() -> datetime:
    """Return the present moment as an aware UTC datetime."""
    return datetime.now(UTC)


def now_iso(moment: datetime | None = None, timespec: str = "milliseconds") -> str:
    """Return `moment` (default: now) as a sortable UTC ISO 8601 string (the log's form)."""
    moment = moment or now()
    return moment.astimezone(UTC).isoformat(timespec=timespec)


def stamp(moment: datetime | None = None, fmt: str = "%Y%m%dT%H%M%SZ") -> str:
    """Return `moment` (default: now) in UTC as a compact stamp for file names."""
    return (moment or now()).astimezone(UTC).strftime(fmt)


def zone(name: str | None) -> ZoneInfo:
    """Return the time zone of an IANA name (UTC for none or an unknown one)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return ZoneInfo("UTC")


def known_zone(name: Any) -> bool:
    """Say whether `name` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def parse(value: Any) -> datetime | None:
    """Return a stored or exported ISO 8601 time (a trailing Z allowed) as an aware datetime.

    None for anything else, and for a time without a zone (its moment is unknown).
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def to_utc(value: str | datetime) -> datetime:
    """Return one of the log's stored times (or an aware moment) in UTC (ValueError if none)."""
    moment = parse(value) if isinstance(value, str) else value
    if moment is None:
        raise ValueError(f"not a time with a zone: {value!r}")
    return moment.astimezone(UTC)


def parse_device(value: Any) -> datetime | None:
    """Return a time a device sent, by the API's rules, as an aware UTC datetime, or None.

    The rules: ISO 8601 with a zone, at most MAX_LENGTH characters, a year within YEARS.
    """
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        return None
    moment = parse(value)
    if moment is None:
        return None
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return None
    return moment if YEARS[0] <= moment.year <= YEARS[1] else None


def device_iso(value: Any) -> str | None:
    """Return a time a device sent (parse_device's rules) in the log's form, or None."""
    moment = parse_device(value)
    return now_iso(moment) if moment is not None else None


def parse_day(value: Any) -> date | None:
    """Return an ISO calendar day (2019-11-12) as a date, or None if it is not one."""
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_wall_time(value: Any) -> time | None:
    """Return a wall-clock time such as 09:30 as a time, or None if it is not one."""
    try:
        return time.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def at(day: date, wall: time, where: ZoneInfo) -> datetime:
    """Return the moment a wall clock in `where` shows `wall` on `day`."""
    return datetime.combine(day, wall, tzinfo=where)


def day_span(day: date, where: ZoneInfo) -> tuple[datetime, datetime]:
    """Return a calendar day in a time zone as its [start, end) moments."""
    start = at(day, time(0), where)
    return start, at(day + timedelta(days=1), time(0), where)


def local(value: str | datetime | None, where: ZoneInfo | None) -> datetime | None:
    """Return a stored time (or a moment) on the wall clock of `where` (None: the moment's
    own zone), None if there is no time."""
    moment = parse(value) if isinstance(value, str) else value
    if moment is None or where is None:
        return moment
    return moment.astimezone(where)


def clock_text(value: str | datetime | None, where: ZoneInfo | None,
               fmt: str = "%H:%M") -> str:
    """Return a stored time as the wall-clock text of `where` (HH:MM), '' when there is none."""
    moment = local(value, where)
    return moment.strftime(fmt) if moment is not None else ""


def local_iso(value: str | datetime | None, where: ZoneInfo) -> str | None:
    """Return a stored time as ISO 8601 on the wall clock of `where`, with its offset."""
    moment = local(value, where)
    return moment.isoformat(timespec="seconds") if moment is not None else None


def wall_clock(value: str | datetime | None, where: ZoneInfo) -> datetime | None:
    """Return a stored time as a naive wall-clock datetime of `where` (for Excel cells)."""
    moment = local(value, where)
    return moment.replace(tzinfo=None, microsecond=0) if moment is not None else None


def _babel_locale(language: str) -> str:
    # British English: day before month, as the rest of Europe writes it.
    return "en_GB" if language == "en" else language


def date_text(day: str | date | None, language: str) -> str:
    """Return a calendar day in the reader's language, e.g. '12. November 2019' ('' if none)."""
    parsed = parse_day(day) if isinstance(day, str) else day
    if parsed is None:
        return ""
    return _babel_date(parsed, format="long", locale=_babel_locale(language))


def time_text(value: str | datetime | None, where: ZoneInfo, language: str) -> str:
    """Return a stored time as the reader's short wall-clock time in `where` ('' if none)."""
    moment = local(value, where)
    if moment is None:
        return ""
    return _babel_time(moment, "short", locale=_babel_locale(language))


def event_zone_of(info: dict[str, Any] | None) -> ZoneInfo:
    """Return the time zone an event's stored info names (UTC if none or unknown)."""
    return zone((info or {}).get("timezone"))


def event_day_of(info: dict[str, Any] | None) -> date | None:
    """Return the day an event's stored info names, or None."""
    return parse_day((info or {}).get("date"))
