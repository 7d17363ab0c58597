"""What the charts draw, read from the database: a story's reports (when, which outlet) and
the relevant reports a day per topic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.tables import ItemRow, MatchRow, StoryItemRow, StoryRow


def story_reports(session: Session, key: str) -> tuple[str, list[tuple[datetime, str]]] | None:
    """A story's headline and its reports as (published, else first seen; outlet); None when
    no story has that key."""
    story = session.scalars(select(StoryRow).where(StoryRow.key == key)).one_or_none()
    if story is None:
        return None
    rows = session.execute(
        select(ItemRow.published_at, ItemRow.first_seen_at, ItemRow.source)
        .join(StoryItemRow, StoryItemRow.item_id == ItemRow.id)
        .where(StoryItemRow.story_id == story.id)
    )
    return story.headline, [(pub or seen, source or "unknown outlet") for pub, seen, source in rows]


def topic_days(session: Session, since: date, until: date) -> dict[str, list[tuple[date, int]]]:
    """Relevant reports first seen each day from ``since`` to ``until`` (inclusive), per topic;
    every day listed (0 when none), topics with no report left out. Days are UTC days."""
    start = datetime.combine(since, time.min, tzinfo=UTC)
    rows = session.execute(
        select(MatchRow.topics, ItemRow.first_seen_at)
        .join(ItemRow, ItemRow.id == MatchRow.item_id)
        .where(MatchRow.relevant.is_(True), ItemRow.first_seen_at >= start)
    )
    counts: Counter[tuple[str, date]] = Counter()
    for topics, seen in rows:
        day = seen.astimezone(UTC).date()
        if since <= day <= until:
            counts.update((str(t), day) for t in topics)
    days = [since + timedelta(days=n) for n in range((until - since).days + 1)]
    topics = sorted({t for t, _ in counts})
    return {t: [(d, counts[(t, d)]) for d in days] for t in topics}
