"""What the read commands show: storage builds these values, the core renders them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.models.feeds import Item, SourceLink


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story in a list (`/news latest`)."""

    key: str
    headline: str
    topics: tuple[str, ...]
    reports: int
    first_seen: datetime
    link: SourceLink | None


@dataclass(frozen=True, slots=True)
class ItemHit:
    """A stored item in a list (`/news search`, a story's reports)."""

    id: int
    title: str
    source: str
    seen: datetime
    link: SourceLink | None
    relevant: bool | None  # None: not matched yet
    story_key: str | None


@dataclass(frozen=True, slots=True)
class StoryDetail:
    """One story with every report, oldest first, and the stories it links to."""

    key: str
    headline: str
    topics: tuple[str, ...]
    reports: tuple[ItemHit, ...]
    linked: str | None
    followed_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    """The matcher's stored decision on one item (`/news why`)."""

    item_id: int
    title: str
    relevant: bool
    score: float
    topics: tuple[str, ...]
    why: str
    details: dict[str, object]


@dataclass(frozen=True, slots=True)
class ItemFate:
    """What storage knows of an item's way to one channel; the core says why it did not arrive."""

    item_id: int
    title: str
    source: str
    seen: datetime
    published: datetime | None
    alertable: bool
    relevant: bool | None  # None: not matched yet
    why: str
    topics: tuple[str, ...]
    story_key: str | None  # None: not grouped yet
    story_first_seen: datetime | None
    first_report: bool  # the item its story's post shows first
    delivery_status: str | None  # None: no delivery row for this channel yet
    delivery_kind: str | None
    delivery_reason: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin change as the trail shows it: who, when, what, before and after."""

    id: int
    at: datetime
    platform: str
    user_id: str
    user_name: str
    action: str  # e.g. "feeds.add", "topics.edit", "channel.mute"
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reverts_id: int | None = None


@dataclass(frozen=True, slots=True)
class FlaggedReport:
    """One report of a flagged story and what the matcher stored when it let it through."""

    item: Item
    score: float
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FlaggedStory:
    """A story readers flagged: how many people, when last, and its reports (oldest first)."""

    story_id: int
    key: str
    headline: str
    flaggers: int
    last_flagged: datetime
    reports: tuple[FlaggedReport, ...]
