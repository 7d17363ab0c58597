"""Stories with their reports, as values: the outbox's planners (alerts and digests) and the
story card read them.

One query per call for the stories, one for the stories they follow, and one for all their
reports, not one per story and channel: the planners decide per channel over these values
without going back to storage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.models import Item, StoryMaterial
from bot.storage.items import item_from_row
from bot.storage.tables import ItemRow, StoryItemRow, StoryRow


def _with_reports(session: Session, rows: Sequence[StoryRow]) -> list[StoryMaterial]:
    reports: dict[int, list[Item]] = defaultdict(list)
    ids = [row.id for row in rows]
    if ids:
        query = (
            select(StoryItemRow.story_id, ItemRow)
            .join(StoryItemRow, StoryItemRow.item_id == ItemRow.id)
            .where(StoryItemRow.story_id.in_(ids))
        )
        for story_id, item in session.execute(query).tuples():
            reports[story_id].append(item_from_row(item))
    linked_ids = {row.linked_story_id for row in rows if row.linked_story_id}
    linked = dict(
        session.execute(select(StoryRow.id, StoryRow.key).where(StoryRow.id.in_(linked_ids)))
        .tuples()
        .all()
    ) if linked_ids else {}  # fmt: skip
    return [_material(row, reports[row.id], linked) for row in rows]


def _material(row: StoryRow, reports: list[Item], linked: dict[int, str]) -> StoryMaterial:
    tokens = (row.signature or {}).get("tokens", {})
    weights = {str(k): float(v) for k, v in tokens.items()} if isinstance(tokens, dict) else {}
    reports.sort(key=lambda i: (i.published or i.first_seen, i.id))
    linked_key = linked.get(row.linked_story_id) if row.linked_story_id else None
    return StoryMaterial(row.id, row.key, row.headline, tuple(row.topics or ()),
                         row.first_seen_at, linked_key, weights, tuple(reports))  # fmt: skip


def stories(session: Session, story_ids: Collection[int]) -> list[StoryMaterial]:
    """These stories (by id, in id order), each with its reports oldest first."""
    query = select(StoryRow).where(StoryRow.id.in_(list(story_ids))).order_by(StoryRow.id)
    return _with_reports(session, session.scalars(query).all())


def story(session: Session, story_id: int) -> StoryMaterial | None:
    """One story with its reports (oldest first); None when it is gone."""
    found = stories(session, [story_id])
    return found[0] if found else None


def first_seen_after(session: Session, start: datetime) -> list[StoryMaterial]:
    """Stories first seen after ``start``, oldest first, with their reports."""
    query = select(StoryRow).where(StoryRow.first_seen_at > start)
    return _with_reports(session, session.scalars(query.order_by(StoryRow.first_seen_at)).all())
