"""Per-channel delivery policy: whether, and when, a story reaches one subscribed channel.

``decide`` is pure: given the channel's settings, the story, the clock and how many alerts
the channel got in the last hour, it says post now, hold (quiet hours, cap) until a given
instant, leave it to the digest, or skip it with a reason that ``/news missed`` shows.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import snowballstemmer

from bot.core.models import DeliveryStatus, Subscription

PENDING, HELD, SKIPPED = DeliveryStatus.PENDING, DeliveryStatus.HELD, DeliveryStatus.SKIPPED


@dataclass(frozen=True, slots=True)
class Decision:
    status: DeliveryStatus
    reason: str | None = None
    due_at: datetime | None = None


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_until(sub: Subscription, now: datetime) -> datetime | None:
    """When the channel's quiet hours end, if ``now`` is inside them; else None.

    Computed in the channel's time zone, so a window like 22:00-07:00 stays at those local
    hours across daylight-saving changes.
    """
    if not sub.quiet_start or not sub.quiet_end:
        return None
    tz = zone(sub.timezone)
    local = now.astimezone(tz)
    start, end, clock = _hhmm(sub.quiet_start), _hhmm(sub.quiet_end), local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=tz).astimezone(now.tzinfo)


def words_in(text: str, words: Sequence[str]) -> list[str]:
    """The words (or phrases) that occur in ``text`` as whole words in any inflection
    ("tariff" finds "tariffs", "sanction" finds "sanctioned"), case-insensitive; a phrase's
    words in a row."""
    body = f" {' '.join(_stems(text))} "
    return [w for w in words if (stems := _stems(w)) and f" {' '.join(stems)} " in body]


_STEMMER = snowballstemmer.stemmer("english")


def _stems(text: str) -> list[str]:
    # Snowball's English stemmer: the same stem for a word's inflections, as search's index.
    return list(_STEMMER.stemWords(re.findall(r"\w+", text.lower())))


def decide(
    sub: Subscription,
    story_key: str,
    headline: str,
    now: datetime,
    *,
    sources: Sequence[str] = (),
    text: str = "",
    sent_last_hour: int = 0,
) -> Decision:
    """The policy for a first alert of a story (its key and headline) in ``sub``'s channel.

    ``sources`` are the outlets reporting the story, ``text`` its headline and reports' text
    (for include/exclude words), ``sent_last_hour`` the alerts the channel got in the last hour.
    """
    if story_key in sub.muted_stories:
        return Decision(SKIPPED, f"muted (story `{story_key}`)")
    muted = {m.lower() for m in sub.muted_sources}
    if sources and all(s.lower() in muted for s in sources):
        return Decision(SKIPPED, f"muted (source {', '.join(sorted(set(sources)))})")
    body = f"{headline}\n{text}"
    excluded = words_in(body, sub.exclude_words)
    if excluded:
        return Decision(SKIPPED, f"excluded word `{excluded[0]}`")
    if sub.include_words and not words_in(body, sub.include_words):
        return Decision(SKIPPED, "none of the include words")
    until = quiet_until(sub, now)
    if until is not None:
        return Decision(HELD, "quiet hours", until)
    if sub.hourly_cap is not None and sent_last_hour >= sub.hourly_cap:
        if sub.digest:
            return Decision(
                DeliveryStatus.SKIPPED, f"cap ({sub.hourly_cap}/hour): in the next digest"
            )
        return Decision(
            DeliveryStatus.HELD, f"cap ({sub.hourly_cap}/hour)", now + timedelta(hours=1)
        )
    return Decision(PENDING, None, now)
