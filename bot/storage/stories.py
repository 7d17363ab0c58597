"""Repository for matches, stories and story items: the rows the matcher and grouper write."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import orjson
from sqlalchemy import Text, bindparam, cast, insert, select, update
from sqlalchemy.orm import Session

from bot.core.models import GroupingPlan, Match, StoryState
from bot.storage.tables import MatchRow, StoryItemRow, StoryRow

STORIES = StoryRow.metadata.tables[StoryRow.__tablename__]
_KEY_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def save_match(session: Session, match: Match, now: datetime | None = None) -> MatchRow:
    """Insert or replace the matcher's decision on one item."""
    row = session.get(MatchRow, match.item_id)
    if row is None:
        row = MatchRow(item_id=match.item_id)
        session.add(row)
    row.relevant = match.relevant
    row.score = match.score
    row.topics = list(match.topics)
    row.why = match.why
    row.evidence = dict(match.evidence)
    row.matched_at = now or datetime.now(UTC)
    return row


def save_matches(session: Session, matches: Sequence[Match], now: datetime | None = None) -> None:
    """Save many decisions at once (one query to find existing rows, bulk insert for the rest)."""
    if not matches:
        return
    at = now or datetime.now(UTC)
    ids = [m.item_id for m in matches]
    existing = set(session.scalars(select(MatchRow.item_id).where(MatchRow.item_id.in_(ids))))
    fresh = []
    for m in matches:
        if m.item_id in existing:
            save_match(session, m, at)
            continue
        fresh.append({"item_id": m.item_id, "relevant": m.relevant, "score": m.score,
                      "topics": list(m.topics), "why": m.why, "evidence": dict(m.evidence),
                      "matched_at": at})  # fmt: skip
    if fresh:
        # Core insert: the ORM bulk path costs more than the rows for thousands of items.
        session.execute(insert(MatchRow.metadata.tables[MatchRow.__tablename__]), fresh)


def story_key_for(story_id: int) -> str:
    """A short key a person can type in ``/news why s-1k``: the row id in base 36."""
    digits = ""
    n = story_id
    while True:
        n, r = divmod(n, 36)
        digits = _KEY_DIGITS[r] + digits
        if n == 0:
            break
    return "s-" + digits.rjust(2, "0")


def stories_since(session: Session, since: datetime) -> list[StoryState]:
    """Stories with a report on or after ``since``: the candidates a new report may join."""
    stmt = (
        select(STORIES.c.id, STORIES.c.key, STORIES.c.topics, STORIES.c.event_at,
               STORIES.c.first_seen_at, STORIES.c.last_item_at, STORIES.c.linked_story_id,
               cast(STORIES.c.signature, Text))
        .where(STORIES.c.last_item_at >= since)
        .order_by(STORIES.c.id)
    )  # fmt: skip
    return [
        StoryState(sid, key, tuple(topics or ()), event_at or first, last, linked, _signature(sig))
        for sid, key, topics, event_at, first, last, linked, sig in session.execute(stmt)
    ]


@lru_cache(maxsize=8192)
def _signature(text: str | None) -> Mapping[str, Any]:
    """A stored signature, parsed once: every grouping call reads the open stories again, and
    most are unchanged since the last call. Read-only: the grouper copies what it changes."""
    return MappingProxyType(orjson.loads(text) if text else {})


def save_grouping(session: Session, plan: GroupingPlan) -> dict[int, tuple[int, str]]:
    """Write a grouping plan: insert its new stories (then give them their keys and links, which
    need their ids), update the stored stories it changed, add its story items. Returns each
    new story's ref → (id, key)."""
    stored = _insert_new(session, plan)

    def story_id(ref: int) -> int:  # a stored story's ref is its id
        return stored[ref][0] if ref < 0 else ref

    if stored:
        session.execute(
            update(STORIES).where(STORIES.c.id == bindparam("b_id")),
            [{"b_id": story_id(n.ref), "key": stored[n.ref][1],
              "linked_story_id": None if n.linked_ref is None else story_id(n.linked_ref)}
             for n in plan.opened],
        )  # fmt: skip
    changed = [u for u in plan.updates if u.ref > 0]
    if changed:
        session.execute(
            update(STORIES).where(STORIES.c.id == bindparam("b_id")),
            [{"b_id": u.ref, "last_item_at": u.last_item_at, "topics": list(u.topics),
              "signature": dict(u.signature)} for u in changed],
        )  # fmt: skip
    add_story_items(
        session,
        [(story_id(p.story_ref), p.item_id, p.similarity, p.added_at) for p in plan.placements],
    )
    # Story rows this session had loaded are stale now.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, StoryRow):
            session.expire(obj)
    return stored


def _insert_new(session: Session, plan: GroupingPlan) -> dict[int, tuple[int, str]]:
    """Insert the plan's new stories in their final state, each with a unique placeholder key
    until its id is known."""
    if not plan.opened:
        return {}
    final = {u.ref: u for u in plan.updates}
    rows: list[dict[str, Any]] = [
        {"key": "~" + uuid.uuid4().hex[:30], "headline": new.headline,
         "topics": list(final[new.ref].topics), "first_seen_at": new.first_seen,
         "last_item_at": final[new.ref].last_item_at, "event_at": new.event_at,
         "signature": dict(final[new.ref].signature)}
        for new in plan.opened
    ]  # fmt: skip
    stmt = insert(STORIES).returning(STORIES.c.id, sort_by_parameter_order=True)
    new_ids = [row_id for (row_id,) in session.execute(stmt, rows)]
    return {
        new.ref: (row_id, story_key_for(row_id))
        for new, row_id in zip(plan.opened, new_ids, strict=True)
    }


def add_story_items(session: Session, rows: Sequence[tuple[int, int, float, datetime]]) -> None:
    """Bulk insert (story_id, item_id, similarity, added_at) rows."""
    if rows:
        session.execute(
            insert(StoryItemRow.metadata.tables[StoryItemRow.__tablename__]),
            [{"story_id": s, "item_id": i, "similarity": sim, "added_at": at}
             for s, i, sim, at in rows],
        )  # fmt: skip


def grouped_items(
    session: Session, item_ids: Sequence[int]
) -> dict[int, tuple[int, str, int | None, float]]:
    """item id → (story id, story key, linked story id, similarity) for already grouped items."""
    if not item_ids:
        return {}
    stmt = (
        select(StoryItemRow.item_id, StoryRow.id, StoryRow.key, StoryRow.linked_story_id,
               StoryItemRow.similarity)
        .join(StoryRow, StoryRow.id == StoryItemRow.story_id)
        .where(StoryItemRow.item_id.in_(list(item_ids)))
    )  # fmt: skip
    return {item: (story, key, linked, float(sim))
            for item, story, key, linked, sim in session.execute(stmt)}  # fmt: skip
