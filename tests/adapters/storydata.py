"""Stored stories for the adapter tests: a story row with one item per outlet's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.storage.db import Database
from bot.storage.tables import ItemRow, MatchRow, StoryItemRow, StoryRow

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def add_story(
    db: Database,
    *,
    key: str = "s7",
    headline: str = "India and US sign 10-year defence framework",
    topics: tuple[str, ...] = ("framework-agreement",),
    reports: tuple[tuple[str, str, str], ...] = (
        ("The Hindu", "India, US sign defence framework", "https://www.thehindu.com/a"),
    ),
    at: datetime = NOW,
    relevant: bool = False,
) -> int:
    """A stored story with one item per report; returns the story id. ``relevant`` stores the
    matcher's yes for each report too (what the topics' volume chart counts)."""

    def write(s: Any) -> int:
        story = StoryRow(key=key, headline=headline, topics=list(topics), first_seen_at=at,
                         last_item_at=at, signature={})  # fmt: skip
        s.add(story)
        s.flush()
        for i, (outlet, title, url) in enumerate(reports):
            item_id = add_report(s, story.id, outlet, title, url, at + timedelta(minutes=i))
            if relevant:
                s.add(MatchRow(item_id=item_id, relevant=True, score=1.0, topics=list(topics),
                               matched_at=at))  # fmt: skip
        return int(story.id)

    return db.transaction(write)


def add_report(s: Any, story_id: int, outlet: str, title: str, url: str, at: datetime) -> int:
    item = ItemRow(key=f"k{story_id}-{url}"[:64], url=url, title=title, summary=title,
                   source=outlet, published_at=at, first_seen_at=at, alertable=True)  # fmt: skip
    s.add(item)
    s.flush()
    s.add(StoryItemRow(item_id=item.id, story_id=story_id, similarity=1.0, added_at=at))
    return int(item.id)
