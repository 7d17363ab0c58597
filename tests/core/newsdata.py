"""Test data for command tests: stored items, matches and stories written as the pipeline would."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import count

from sqlalchemy.orm import Session

from bot.storage.tables import ItemRow, MatchRow, StoryItemRow, StoryRow

_keys = count(1)


def add_item(
    s: Session,
    title: str,
    *,
    seen: datetime,
    source: str = "The Hindu",
    summary: str = "",
    relevant: bool | None = None,
    topics: Sequence[str] = (),
    why: str = "",
    alertable: bool = True,
) -> ItemRow:
    n = next(_keys)
    item = ItemRow(key=f"item-{n:04d}", url=f"https://news.example.org/{n}", title=title,
                   summary=summary, source=source, published_at=seen, first_seen_at=seen,
                   alertable=alertable)  # fmt: skip
    s.add(item)
    s.flush()
    if relevant is not None:
        s.add(MatchRow(item_id=item.id, relevant=relevant, score=1.0 if relevant else 0.1,
                       topics=list(topics), why=why or ("Relevant" if relevant else "Not relevant"),
                       evidence=evidence(relevant), matched_at=seen))  # fmt: skip
    return item


def evidence(relevant: bool) -> dict[str, object]:
    """What the matcher stores for a report naming "US" and "India" (the shape, not a match)."""
    return {"rule": "relevant" if relevant else "weak",
            "actors": {"us": ["US"], "india": ["India"], "both": [], "third": [], "in_lists": []},
            "decided_by": {"us": "US (country)", "india": "India (country)"},
            "side_weight": {"us": 3.0, "india": 3.0}}  # fmt: skip


def add_story(
    s: Session,
    key: str,
    headline: str,
    topics: Sequence[str],
    items: Sequence[ItemRow],
    *,
    linked: StoryRow | None = None,
) -> StoryRow:
    first = min(i.first_seen_at for i in items)
    last = max(i.first_seen_at for i in items)
    story = StoryRow(key=key, headline=headline, topics=list(topics), first_seen_at=first,
                     last_item_at=last, linked_story_id=linked.id if linked else None,
                     signature={})  # fmt: skip
    s.add(story)
    s.flush()
    for item in items:
        s.add(StoryItemRow(item_id=item.id, story_id=story.id, added_at=item.first_seen_at))
    s.flush()
    return story
