"""The one clock (checkin/core/clock.py): the present, a device's time by the API's rules,
and times for people on the event's wall clock in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from checkin.core import clock

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_the_present_is_one_place_a_test_can_freeze():
    moment = datetime(2019, 11, 12, 8, 30, 5, 250000, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        assert clock.now() == moment
        assert clock.now_iso() == "2019-11-12T08:30:05.250+00:00"
        assert clock.now_iso(timespec="seconds") == "2019-11-12T08:30:05+00:00"
        assert clock.stamp() == "20191112T083005Z"
    assert clock.now() - moment > timedelta(days=365)


@pytest.mark.parametrize("value", [
    "2019-11-12T08:30:00.000Z", "2019-11-12T09:30:00+01:00", "2019-11-12T08:30:00.000+00:00"])
def test_a_device_time_with_a_zone_is_read_as_utc(value):
    assert clock.parse_device(value) == datetime(2019, 11, 12, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "2019-11-12T09:30:00",  # no zone: the moment is unknown
    "1999-12-31T23:00:00Z", "9999-12-31T23:00:00-01:00",  # outside the years a clock shows
    "0001-01-01T00:30:00+01:00",  # cannot even be moved to UTC
    "2019-11-12T09:30:00Z" + " " * 60, "yesterday", "", None, 1573547400])
def test_anything_else_is_not_a_device_time(value):
    assert clock.parse_device(value) is None


def test_times_for_people_are_the_events_wall_clock():
    stored = "2019-11-12T08:30:00.000+00:00"
    assert clock.clock_text(stored, AMSTERDAM) == "09:30"
    assert clock.clock_text(stored, ZoneInfo("America/New_York")) == "03:30"
    assert clock.clock_text(None, AMSTERDAM) == ""
    assert clock.local_iso(stored, AMSTERDAM) == "2019-11-12T09:30:00+01:00"
    assert clock.wall_clock(stored, AMSTERDAM) == datetime(2019, 11, 12, 9, 30)
    assert [clock.time_text(stored, AMSTERDAM, lang) for lang in ("de", "nl", "en")] == \
        ["09:30", "09:30", "09:30"]


def test_dates_in_the_readers_language():
    assert [clock.date_text("2019-11-12", lang) for lang in ("de", "nl", "en")] == \
        ["12. November 2019", "12 november 2019", "12 November 2019"]
    assert clock.date_text("not a day", "de") == clock.date_text(None, "en") == ""


def test_a_day_is_its_wall_clock_day_even_when_the_clocks_change():
    start, end = clock.day_span(date(2019, 10, 27), AMSTERDAM)  # summer time ends
    assert (start.hour, end.hour) == (0, 0)
    assert clock.to_utc(end) - clock.to_utc(start) == timedelta(hours=25)


def test_the_events_zone_and_day():
    info = {"timezone": "Europe/Amsterdam", "date": "2019-11-12"}
    assert clock.event_zone_of(info) == AMSTERDAM
    assert clock.event_day_of(info) == date(2019, 11, 12)
    assert clock.event_zone_of({"timezone": "Mars/Olympus"}) == ZoneInfo("UTC")
    assert clock.event_zone_of(None) == ZoneInfo("UTC") and clock.event_day_of(None) is None
