"""Work still to do on stored items and stories, leased so it is resumed, never lost.

An item is stored with a lease on its matching (``items.work_owner``/``work_until``) in the
same transaction; the transaction that saves its match takes the lease off. A story that
gained a report is due for delivery planning (``stories.plan_due_at``) from the transaction
that grouped the report until the one that writes its delivery rows. Whatever is past its
lease — its process was killed, or lost the database — is claimed by the next worker that
looks, with the same conditional UPDATE on SQLite and PostgreSQL, so two never take one item.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import Table, and_, select, update
from sqlalchemy.orm import Session

from bot.storage.items import ITEMS
from bot.storage.tables import StoryRow

STORIES: Table = StoryRow.__table__  # type: ignore[assignment]
IN_CHUNK = 500  # ids per IN (...) list


def renew_items(session: Session, owner: str, ids: Sequence[int], until: datetime) -> int:
    """Extend ``owner``'s leases on these items while its cycle still works on them."""
    renewed = 0
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        result = session.execute(
            update(ITEMS)
            .where(ITEMS.c.id.in_(chunk), ITEMS.c.work_owner == owner)
            .values(work_until=until)
        )
        renewed += _count(result)
    return renewed


def take_items(session: Session, owner: str, ids: Sequence[int]) -> set[int]:
    """Of these items, the ones ``owner`` still holds, their leases taken off: call it in the
    transaction that saves their matches. An item another worker took over (the lease ran
    out) is left to it."""
    taken: set[int] = set()
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        result = session.execute(
            update(ITEMS)
            .where(ITEMS.c.id.in_(chunk), ITEMS.c.work_owner == owner)
            .values(work_owner=None, work_until=None)
            .returning(ITEMS.c.id)
        )
        taken.update(result.scalars())
    return taken


def claim_overdue_items(
    session: Session, owner: str, now: datetime, until: datetime, limit: int
) -> list[tuple[int, datetime]]:
    """Claim up to ``limit`` items whose matching lease ran out; (id, published else first
    seen) of each, oldest first. The lease is checked again in the UPDATE itself, so of two
    workers claiming at once only one gets an item."""
    overdue = (
        select(ITEMS.c.id)
        .where(ITEMS.c.work_until < now)
        .order_by(ITEMS.c.work_until, ITEMS.c.id)
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(
        update(ITEMS)
        .where(ITEMS.c.id.in_(overdue), ITEMS.c.work_until < now)
        .values(work_owner=owner, work_until=until)
        .returning(ITEMS.c.id, ITEMS.c.published_at, ITEMS.c.first_seen_at)
    )
    rows = [(row.id, row.published_at or row.first_seen_at) for row in result]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def expire_item_leases(session: Session, owners: Collection[str], now: datetime) -> int:
    """Leases held by processes known to be gone run out now, for the next claim to take."""
    if not owners:
        return 0
    result = session.execute(
        update(ITEMS)
        .where(ITEMS.c.work_owner.in_(list(owners)), ITEMS.c.work_until.is_not(None))
        .values(work_until=now)
    )
    return _count(result)


def item_lease_owners(session: Session, prefix: str) -> list[str]:
    """The owners holding item leases whose name starts with ``prefix``."""
    query = select(ITEMS.c.work_owner).distinct().where(ITEMS.c.work_owner.like(f"{prefix}%"))
    return [owner for owner in session.scalars(query) if owner]


def plan_due(session: Session, story_ids: Collection[int], by: datetime) -> None:
    """These stories gained reports: their deliveries are to be planned by ``by``. A story
    already due keeps its earlier time."""
    ids = sorted(story_ids)
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        session.execute(
            update(STORIES)
            .where(STORIES.c.id.in_(chunk), STORIES.c.plan_due_at.is_(None))
            .values(plan_due_at=by)
        )


def planned(session: Session, story_ids: Collection[int]) -> None:
    """Their delivery rows are written in this transaction: nothing is due any more."""
    ids = sorted(story_ids)
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        session.execute(update(STORIES).where(STORIES.c.id.in_(chunk)).values(plan_due_at=None))


def claim_overdue_stories(
    session: Session, now: datetime, until: datetime, limit: int
) -> list[int]:
    """Stories whose planning is overdue (the process that grouped their report died before
    planning), each pushed back to ``until`` so one worker plans it at a time."""
    overdue = (
        select(STORIES.c.id)
        .where(STORIES.c.plan_due_at < now)
        .order_by(STORIES.c.plan_due_at, STORIES.c.id)
        .limit(limit)
        .scalar_subquery()
    )
    result = session.execute(
        update(STORIES)
        .where(and_(STORIES.c.id.in_(overdue), STORIES.c.plan_due_at < now))
        .values(plan_due_at=until)
        .returning(STORIES.c.id)
    )
    return sorted(result.scalars())


def _count(result: object) -> int:
    # An UPDATE's result is a CursorResult; its rowcount is the rows it matched.
    return int(getattr(result, "rowcount", 0) or 0)
