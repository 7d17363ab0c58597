"""Times as people write them, for quiet hours, digest times and durations: "8am", "20:15",
"noon", "monday", "15 minutes", "IST", "08:00 Asia/Kolkata". Clock times, weekdays and
durations are read by dateparser; zones are IANA names (any case), a few common
abbreviations, or a UTC offset. Answers are given in the channel's own zone.

Every refusal is a ``ValueError`` whose message says what to write instead.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import dateparser

from bot.config import parse_duration

# Abbreviations people type for the zones this bot's readers work in. Several are ambiguous
# worldwide (IST is also Israel's and Ireland's); each maps to the zone a US–India newsroom
# means, and the reply names the zone it used, so a wrong guess shows at once.
ABBREVIATIONS = {
    "ist": "Asia/Kolkata",
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "et": "America/New_York",
    "est": "America/New_York",
    "edt": "America/New_York",
    "ct": "America/Chicago",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "pt": "America/Los_Angeles",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "bst": "Europe/London",
    "cet": "Europe/Paris",
    "cest": "Europe/Paris",
    "jst": "Asia/Tokyo",
    "sgt": "Asia/Singapore",
    "aest": "Australia/Sydney",
    "pkt": "Asia/Karachi",
    "npt": "Asia/Kathmandu",
}
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
_CLOCK = re.compile(
    r"^(\d{1,2}([:.]\d{2})?\s*([ap]\.?m\.?)|\d{1,2}[:.]\d{2}|noon|midday|midnight)$", re.IGNORECASE
)
_WEEKDAY = re.compile(
    r"^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(day)?s?\.?$|^(tuesday|wednesday|thursday|"
    r"saturday)s?$",
    re.IGNORECASE,
)
_DURATION_WORDS = re.compile(r"\b(sec|second|min|minute|hour|hr|day|week)s?\b", re.IGNORECASE)
_BASE = datetime(2026, 1, 5, 12, 0)  # a Monday noon: relative phrases are read against it
_SETTINGS = {"RELATIVE_BASE": _BASE, "PREFER_DATES_FROM": "future", "TIMEZONE": "UTC",
             "RETURN_AS_TIMEZONE_AWARE": False}  # fmt: skip
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class ClockInZone:
    """A time of day, and the zone typed with it (None: the channel's own)."""

    at: time
    zone: tzinfo | None


@lru_cache(maxsize=1)
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(text: str) -> tzinfo:
    """``Asia/Kolkata``, ``asia/kolkata``, ``IST``, ``UTC+5:30`` → a time zone."""
    key = text.strip().lower()
    if not key:
        raise ValueError("a time zone is missing; write e.g. Asia/Kolkata, IST or UTC")
    if key in ABBREVIATIONS:
        return ZoneInfo(ABBREVIATIONS[key])
    if key in _zones():
        try:
            return ZoneInfo(_zones()[key])
        except ZoneInfoNotFoundError:  # listed but not loadable: fall through to the hint
            pass
    m = _OFFSET.match(key)
    if m:
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        if hours <= 14 and minutes < 60:
            sign = -1 if m.group(1) == "-" else 1
            return timezone(sign * timedelta(hours=hours, minutes=minutes))
    near = difflib.get_close_matches(key, [*_zones(), *ABBREVIATIONS], n=1, cutoff=0.75)
    hint = f"; did you mean `{_zones().get(near[0], near[0].upper())}`?" if near else ""
    raise ValueError(f"unknown time zone `{text.strip()}`{hint} (write e.g. Asia/Kolkata or IST)")


def parse_clock(text: str) -> time:
    """``8am``, ``8:30 pm``, ``20:15``, ``noon``, ``midnight`` → a time of day."""
    cleaned = " ".join(text.split())
    if not _CLOCK.match(cleaned):
        raise ValueError(f"`{cleaned}` is not a time of day; write e.g. 8am, 20:15 or noon")
    # "8.30" is how some write 8:30; "a.m." how others write am.
    normal = re.sub(r"(\d)\.(\d{2})", r"\1:\2", cleaned).replace(".", "")
    parsed = dateparser.parse(normal, languages=["en"], settings=_SETTINGS)
    if parsed is None:
        raise ValueError(f"`{cleaned}` is not a time of day; write e.g. 8am, 20:15 or noon")
    return parsed.time().replace(second=0, microsecond=0)


def parse_clock_in_zone(text: str) -> ClockInZone:
    """``08:00 Asia/Kolkata``, ``8am IST``, ``8am`` → the time, and the zone if one was typed."""
    words = text.split()
    if len(words) > 1:
        try:
            zone = parse_zone(words[-1])
        except ValueError:
            zone = None
        if zone is not None:
            return ClockInZone(parse_clock(" ".join(words[:-1])), zone)
    return ClockInZone(parse_clock(text), None)


def parse_weekday(text: str) -> int:
    """``monday``, ``Mon``, ``fridays`` → 0 (Monday) … 6 (Sunday)."""
    cleaned = text.strip()
    if _WEEKDAY.match(cleaned):
        parsed = dateparser.parse(cleaned.rstrip(".").removesuffix("s") or cleaned,
                                  languages=["en"], settings=_SETTINGS)  # fmt: skip
        if parsed is not None:
            return parsed.weekday()
    raise ValueError(f"`{cleaned}` is not a day of the week; write e.g. monday or fri")


def parse_span(text: str) -> timedelta:
    """``15 minutes``, ``1 hour 30 minutes``, ``a day``, ``15m``, ``2h`` → a duration."""
    cleaned = " ".join(text.split())
    try:
        return timedelta(seconds=parse_duration(cleaned))
    except ValueError:
        pass
    if _DURATION_WORDS.search(cleaned):
        phrase = cleaned if cleaned.lower().startswith("in ") else f"in {cleaned}"
        parsed = dateparser.parse(phrase, languages=["en"], settings=_SETTINGS)
        if parsed is not None and parsed > _BASE:
            return parsed - _BASE
    raise ValueError(f"`{cleaned}` is not a duration; write e.g. 15 minutes, 2h or 1 day")


def in_zone(when: datetime, zone: tzinfo) -> str:
    """An instant as the channel reads it: ``2026-11-24 14:30 IST`` (the zone's own
    abbreviation, else its UTC offset)."""
    local = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(zone)
    name = local.tzname() or ""
    if not name or name[0] in "+-":
        name = "UTC" + local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    return f"{local:%Y-%m-%d %H:%M} {name}"
