"""Stories: the material a card is built from, the card, and the grouper's plan."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.core.models.feeds import Item, SourceLink


@dataclass(frozen=True, slots=True)
class StoryMaterial:
    """A story as stored, with its reports oldest first: what its card is made of and what the
    outbox's planners decide on."""

    id: int
    key: str
    headline: str
    topics: tuple[str, ...]
    first_seen: datetime
    linked_key: str | None
    weights: dict[str, float]  # its signature's distinctive tokens and their weights
    reports: tuple[Item, ...]

    def latest_alertable(self) -> datetime | None:
        """When the story's newest alertable report was found, if it has one."""
        return max((r.first_seen for r in self.reports if r.alertable), default=None)


@dataclass(frozen=True, slots=True)
class StoryCard:
    """What an adapter renders for a story: platform-neutral, already plain text."""

    story_id: int
    story_key: str
    headline: str
    extract: str
    topics: tuple[str, ...]
    sources: tuple[SourceLink, ...]
    first_seen: datetime
    linked_story_key: str | None = None
    # When its first report says it was published; None when the feed gave no date.
    published: datetime | None = None

    @property
    def url(self) -> str | None:
        return self.sources[0].url if self.sources else None


# -- grouping: the grouper decides on these values; storage writes the plan ------------------


@dataclass(frozen=True, slots=True)
class StoryState:
    """A stored story a new report may join: what the grouper decides on, none of its reports."""

    id: int
    key: str
    topics: tuple[str, ...]
    first: datetime  # its event's date, else when it was first seen
    last: datetime  # its latest report's time
    linked_story_id: int | None
    signature: Mapping[str, Any]  # the grouper's features as JSON (bot/core/storystate.py)


@dataclass(frozen=True, slots=True)
class NewStory:
    """A story the grouper opens. ``ref`` is negative, unique within its plan, and stands for
    the story until storage inserts it and learns its id."""

    ref: int
    headline: str
    first_seen: datetime
    event_at: datetime | None
    linked_ref: int | None  # the earlier story it follows: a stored id or another new ref


@dataclass(frozen=True, slots=True)
class StoryUpdate:
    """A story's state once the plan's reports are in it (new stories and joined ones alike)."""

    ref: int  # a stored story's id, or a NewStory's ref
    last_item_at: datetime
    topics: tuple[str, ...]
    signature: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Placement:
    """One report put into a story."""

    item_id: int
    story_ref: int  # a stored story's id, or a NewStory's ref
    similarity: float
    added_at: datetime  # when the report was first seen
    created: bool  # the report opened the story


@dataclass(frozen=True, slots=True)
class GroupingPlan:
    """What one grouping call decided, in the order the reports came; storage persists it."""

    opened: tuple[NewStory, ...]
    updates: tuple[StoryUpdate, ...]
    placements: tuple[Placement, ...]
