"""Times as people write them: clock times, weekdays, durations, zones (names, abbreviations,
offsets), and the answer in the channel's zone; every refusal says what to write."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.timeparse import (
    ClockInZone,
    in_zone,
    parse_clock,
    parse_clock_in_zone,
    parse_span,
    parse_weekday,
    parse_zone,
)

KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.mark.parametrize(("text", "expected"), [
    ("8am", time(8)), ("8 a.m.", time(8)), ("8:30 PM", time(20, 30)), ("8.30pm", time(20, 30)),
    ("20:15", time(20, 15)), ("08:00", time(8)), ("noon", time(12)), ("midnight", time(0)),
    ("12am", time(0)), ("12pm", time(12)),
])  # fmt: skip
def test_clock_times(text: str, expected: time) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize("text", ["8", "soon", "25:00", "tomorrow", ""])
def test_what_is_not_a_clock_time_is_refused_with_examples(text: str) -> None:
    with pytest.raises(ValueError, match=r"write e\.g\. 8am, 20:15 or noon"):
        parse_clock(text)


@pytest.mark.parametrize(("text", "day"), [
    ("monday", 0), ("Mon", 0), ("tues", 1), ("Wednesday", 2), ("thu", 3), ("fridays", 4),
    ("SAT", 5), ("sunday", 6),
])  # fmt: skip
def test_weekdays(text: str, day: int) -> None:
    assert parse_weekday(text) == day


def test_a_non_day_is_refused() -> None:
    with pytest.raises(ValueError, match=r"not a day of the week; write e\.g\. monday"):
        parse_weekday("someday")


@pytest.mark.parametrize(("text", "expected"), [
    ("15 minutes", timedelta(minutes=15)), ("1 hour 30 minutes", timedelta(minutes=90)),
    ("a day", timedelta(days=1)), ("2 weeks", timedelta(days=14)),
    ("90 seconds", timedelta(seconds=90)), ("15m", timedelta(minutes=15)),
    ("2h", timedelta(hours=2)),
])  # fmt: skip
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_span(text) == expected


@pytest.mark.parametrize("text", ["soon", "monday", "8am", ""])
def test_what_is_not_a_duration_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a duration; write e\.g\. 15 minutes"):
        parse_span(text)


@pytest.mark.parametrize(("text", "offset_hours"), [
    ("IST", 5.5), ("ist", 5.5), ("Asia/Kolkata", 5.5), ("asia/kolkata", 5.5),
    ("UTC", 0), ("UTC+5:30", 5.5), ("GMT-4", -4), ("+0530", 5.5),
])  # fmt: skip
def test_zones(text: str, offset_hours: float) -> None:
    when = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    offset = when.astimezone(parse_zone(text)).utcoffset()
    assert offset == timedelta(hours=offset_hours)


def test_an_abbreviation_follows_daylight_saving() -> None:
    eastern = parse_zone("ET")
    assert datetime(2026, 1, 15, 12, tzinfo=UTC).astimezone(eastern).utcoffset() == timedelta(
        hours=-5
    )
    assert datetime(2026, 7, 15, 12, tzinfo=UTC).astimezone(eastern).utcoffset() == timedelta(
        hours=-4
    )


def test_a_misspelt_zone_gets_a_suggestion() -> None:
    with pytest.raises(ValueError, match="did you mean `Asia/Kolkata`"):
        parse_zone("Asia/Kolkatta")
    with pytest.raises(ValueError, match="unknown time zone `Mars/Base`"):
        parse_zone("Mars/Base")


def test_a_time_with_or_without_its_zone() -> None:
    assert parse_clock_in_zone("08:00 Asia/Kolkata") == ClockInZone(time(8), KOLKATA)
    assert parse_clock_in_zone("8am IST") == ClockInZone(time(8), KOLKATA)
    assert parse_clock_in_zone("8:30 pm") == ClockInZone(time(20, 30), None)
    with pytest.raises(ValueError, match="not a time of day"):
        parse_clock_in_zone("eight Asia/Kolkata")


def test_answers_are_in_the_channels_zone() -> None:
    when = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert in_zone(when, KOLKATA) == "2026-11-24 14:30 IST"
    assert in_zone(when, parse_zone("UTC+5:30")) == "2026-11-24 14:30 UTC+05:30"
    assert in_zone(when, parse_zone("ET")) == "2026-11-24 04:00 EST"
    assert in_zone(datetime(2026, 11, 24, 9, 0), parse_zone("UTC")) == "2026-11-24 09:00 UTC"
