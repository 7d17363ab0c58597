"""Stories with their reports, as the outbox's planners read them (alerts and digests).

One query per call for the stories and one for all their reports, not one per story and
channel: the planners decide per channel over these values without going back to storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.tables import ItemRow, StoryItemRow, StoryRow


@dataclass(frozen=True, slots=True)
class Report:
    source: str
    title: str
    summary: str
    alertable: bool  # False: a new feed's backlog, never alerted or digested
    first_seen_at: datetime


@dataclass(frozen=True, slots=True)
class StoryFacts:
    id: int
    key: str
    headline: str
    topics: tuple[str, ...]
    reports: tuple[Report, ...]

    def latest_alertable(self) -> datetime | None:
        """When the story's newest alertable report was found, if it has one."""
        return max((r.first_seen_at for r in self.reports if r.alertable), default=None)


def _with_reports(session: Session, rows: Sequence[StoryRow]) -> list[StoryFacts]:
    reports: dict[int, list[Report]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        query = (
            select(StoryItemRow.story_id, ItemRow.source, ItemRow.title, ItemRow.summary,
                   ItemRow.alertable, ItemRow.first_seen_at)
            .join(StoryItemRow, StoryItemRow.item_id == ItemRow.id)
            .where(StoryItemRow.story_id.in_(ids))
            .order_by(StoryItemRow.story_id, ItemRow.id)
        )  # fmt: skip
        for story_id, source, title, summary, alertable, seen in session.execute(query).tuples():
            reports[story_id].append(Report(source, title, summary, alertable, seen))
    return [
        StoryFacts(row.id, row.key, row.headline, tuple(row.topics), tuple(reports[row.id]))
        for row in rows
    ]


def stories(session: Session, story_ids: Collection[int]) -> list[StoryFacts]:
    """These stories (by id), with their reports."""
    query = select(StoryRow).where(StoryRow.id.in_(list(story_ids))).order_by(StoryRow.id)
    return _with_reports(session, session.scalars(query).all())


def first_seen_after(session: Session, start: datetime) -> list[StoryFacts]:
    """Stories first seen after ``start``, oldest first, with their reports."""
    query = select(StoryRow).where(StoryRow.first_seen_at > start)
    return _with_reports(session, session.scalars(query.order_by(StoryRow.first_seen_at)).all())
