"""Old news is not news: an item published long before the bot first saw it is not alerted.

A feed that starts carrying an archive page, a re-dated sitemap or a years-old item (after its
first poll, so the backlog rule does not catch it) would otherwise post it as live. Such an
item is still stored and matched, so searches and ``/news story`` find it; it is stored with
``alertable`` false, and ``/news missed`` derives why from its dates and ``poll.max_age``.
"""

from __future__ import annotations

from datetime import datetime, timedelta


def too_old(published: datetime | None, first_seen: datetime, max_age: float | None) -> bool:
    """True when ``published`` lies more than ``max_age`` seconds before ``first_seen``.

    An unknown publication time, or ``max_age`` 0/None (the guard switched off), is never too
    old: such items are alerted as before.
    """
    if published is None or not max_age:
        return False
    return first_seen - published > timedelta(seconds=max_age)


def is_news(published: datetime | None, first_seen: datetime, *, max_age: float | None) -> bool:
    """Not too old: what storage asks of each item it stores (``FeedItems.fresh``)."""
    return not too_old(published, first_seen, max_age)


def stale_reason(published: datetime | None, first_seen: datetime, max_age: float | None) -> str:
    """Why a too-old item was not alerted, in one line; empty when it is not too old."""
    if published is None or not too_old(published, first_seen, max_age):
        return ""
    days = (first_seen - published).days
    return (
        f"too old: published {published:%Y-%m-%d}, {days} day{'s' if days != 1 else ''} before "
        f"it was first seen: older than poll.max_age ({duration(max_age or 0)}), not alerted"
    )


def duration(seconds: float) -> str:
    """``259200`` → ``3d``; ``5400`` → ``90m``: the way the config file writes durations."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
