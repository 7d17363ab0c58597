"""Feeds, the items read from them, and the matcher's decision on an item."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class FeedHealth(StrEnum):
    NEW = "new"  # never fetched yet
    OK = "ok"
    FAILING = "failing"  # last fetch failed; backing off
    PAUSED = "paused"  # an admin paused it
    GONE = "gone"  # the site answered 410 Gone: paused until an admin resumes it


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as the poller sees it: where to fetch and what the last fetch left behind."""

    id: int
    url: str
    name: str
    etag: str | None = None
    last_modified: str | None = None
    # None until the first successful fetch: that poll stores its backlog without alerting.
    first_polled_at: datetime | None = None
    failures: int = 0
    next_fetch_at: datetime | None = None
    health: FeedHealth = FeedHealth.NEW
    alert_on_first_poll: bool = False
    # Its own host may be a private or loopback address; redirects elsewhere stay guarded.
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class FeedListing:
    """A feed as admins see it listed: its state as stored, paused or not, and its last error."""

    id: int
    url: str
    name: str
    health: FeedHealth
    paused: bool
    allow_private: bool
    last_success_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One entry of a feed after parsing: clean text, UTC date, canonical link, stable key."""

    key: str
    title: str
    summary: str
    url: str | None
    published: datetime | None
    source: str
    guid: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A stored item. ``id`` is the database row id; ``key`` is the stable identity."""

    id: int
    key: str
    feed_id: int | None
    title: str
    summary: str
    url: str | None
    source: str
    published: datetime | None
    first_seen: datetime
    # False for a new feed's backlog: stored and matched, never alerted.
    alertable: bool = True


@dataclass(frozen=True, slots=True)
class ArticleLead:
    """The opening text of an item's article page, or why there is none (one line)."""

    lead: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """The matcher's decision on one item, with the evidence that ``/news why`` shows."""

    item_id: int
    relevant: bool
    score: float
    topics: tuple[str, ...]
    why: str  # one line
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceLink:
    outlet: str
    title: str
    url: str | None
    published: datetime | None = None
