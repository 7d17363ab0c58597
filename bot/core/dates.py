"""Feed dates → UTC datetimes, and only the ones that can be a news item's publication date.

Feeds send the epoch (1970-01-01, a zero timestamp), placeholder years and clocks set far
ahead. Such a date shown as "published" misleads the reader and sorts the item wrongly, so
it counts as no date at all.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from feedparser.datetimes import _parse_date as feedparser_date

# No web feed predates RSS 0.9 (1999) by much; anything before 1995 is a placeholder.
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
# Time zones and clock skew: a day ahead is still believable, more is a mistake.
FUTURE_SLACK = timedelta(days=1)
ENTRY_DATE_FIELDS = ("published_parsed", "updated_parsed", "created_parsed")


def plausible(when: datetime | None, now: datetime) -> datetime | None:
    """``when`` if it can be a publication date seen at ``now``, else None."""
    if when is None or when < EARLIEST or when > now + FUTURE_SLACK:
        return None
    return when


def entry_date(entry: dict[str, Any], now: datetime) -> datetime | None:
    """The first plausible of an entry's published, updated and created dates (UTC)."""
    # feedparser's *_parsed structs are already normalised to UTC.
    for name in ENTRY_DATE_FIELDS:
        value = dict.get(entry, name)
        if isinstance(value, time.struct_time):
            try:
                when = datetime(*value[:6], tzinfo=UTC)
            except (OverflowError, ValueError):
                continue
            if plausible(when, now) is not None:
                return when
    return None


def parse_date(value: object) -> time.struct_time | None:
    """An RFC 3339 (or any feed-style) date string → a UTC struct_time, as feedparser gives.

    ``datetime.fromisoformat`` reads RFC 3339 as JSON Feed sends it; feedparser's own date
    handlers take what it cannot (RFC 822, W3C-DTF variants, lowercase separators).
    """
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        when = datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        parsed: time.struct_time | None = feedparser_date(text)
        return parsed
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # RFC 3339 requires an offset; UTC is the best guess
    try:
        return when.astimezone(UTC).timetuple()
    except (OverflowError, ValueError):
        return None
