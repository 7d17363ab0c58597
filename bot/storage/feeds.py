"""Feed fetch state in the database: add a feed, claim the due ones, record what a fetch left."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from bot.core.models import Feed, FeedHealth
from bot.storage.tables import FeedRow

logger = logging.getLogger(__name__)

FEEDS: Table = FeedRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class FeedState:
    """All that one fetch changes on its feed row; written in the transaction with its items."""

    feed_id: int
    fetched_at: datetime
    next_fetch_at: datetime
    health: FeedHealth
    failures: int
    last_status: int | None
    last_error: str | None
    etag: str | None
    last_modified: str | None
    first_polled_at: datetime | None
    succeeded: bool
    moved_to: str | None = None  # a permanent redirect's target: the feed's new address
    # False when etag, last_modified and first_polled_at are what the row already holds.
    validators_changed: bool = True
    stop: bool = False  # the feed is gone (410): pause it until an admin resumes it


def feed_from_row(row: FeedRow) -> Feed:
    feed = _feed_from_columns(row)
    return replace(feed, health=FeedHealth.PAUSED) if row.paused else feed


def add_feed(
    session: Session,
    url: str,
    name: str,
    *,
    now: datetime,
    alert_on_first_poll: bool = False,
    allow_private: bool = False,
    added_by: str = "config",
) -> Feed:
    row = FeedRow(
        url=url,
        name=name,
        added_at=now,
        added_by=added_by,
        alert_on_first_poll=alert_on_first_poll,
        allow_private=allow_private,
        failures=0,
        health=FeedHealth.NEW.value,
    )
    session.add(row)
    session.flush()
    return feed_from_row(row)


def get_feed(session: Session, feed_id: int) -> Feed | None:
    row = session.get(FeedRow, feed_id)
    return feed_from_row(row) if row else None


def claim_due_feeds(
    session: Session,
    now: datetime,
    *,
    owner: str,
    lease: timedelta,
    force: bool = False,
    limit: int | None = None,
    tolerance: timedelta = timedelta(0),
    leased_at: datetime | None = None,
) -> list[Feed]:
    """The feeds to poll now, leased to ``owner`` so another process skips them.

    ``now`` is the cycle's time, which decides what is due; ``leased_at`` (default ``now``)
    the clock at this claim, which decides whose leases have run out and when the new ones
    do: a cycle claims for minutes, and judged by its start it would never see a dead
    worker's leases run out, and would write leases already run out itself.

    Due: not paused, next_fetch_at unset or past (``force`` ignores it), and no live lease.
    A healthy feed due within ``tolerance`` of ``now`` is due too: its next time was set from
    the previous cycle's clock, which a tick can run a few ms ahead of, and waiting for the
    next tick would double its interval. A failing feed waits its full backoff (a site's
    Retry-After is not to be undercut).
    On PostgreSQL the rows are locked with FOR UPDATE SKIP LOCKED while the lease is written,
    so several pollers sharing the database never claim the same feed; SQLite has one writer
    at a time, and a row is leased only where its lease is still free when written.
    A worker claims a batch at a time (``limit``), so several split the due feeds.
    """
    at = leased_at or now
    conditions = [
        FeedRow.paused.is_(False),
        or_(FeedRow.lease_until.is_(None), FeedRow.lease_until <= at),
    ]
    if not force:
        conditions.append(
            or_(
                FeedRow.next_fetch_at.is_(None),
                FeedRow.next_fetch_at <= now,
                and_(FeedRow.failures == 0, FeedRow.next_fetch_at <= now + tolerance),
            )
        )
    # Plain columns, not ORM objects: a poll tick may claim thousands of feeds.
    query = (
        select(*_FEED_COLUMNS).where(and_(*conditions)).order_by(FeedRow.next_fetch_at, FeedRow.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claimed: list[Feed] = []
    # A row another worker leased between our read and our write is lost to us; read again
    # (a few times) so a worker that lost a race still gets its share.
    for _attempt in range(5):
        want = None if limit is None else limit - len(claimed)
        if want == 0:
            break
        feeds = [_feed_from_columns(row) for row in session.execute(query.limit(want))]
        got = _lease(session, feeds, owner, at, lease)
        claimed += got
        if len(got) == len(feeds):
            break
    return claimed


def _lease(
    session: Session, feeds: Sequence[Feed], owner: str, now: datetime, lease: timedelta
) -> list[Feed]:
    """Lease these feeds to ``owner`` where their lease is still free when written (SQLite's
    driver reads outside the write transaction, so two workers can select the same rows;
    the later UPDATE then finds them leased and takes none of them)."""
    ids = [f.id for f in feeds]
    free = or_(FEEDS.c.lease_until.is_(None), FEEDS.c.lease_until <= now)
    taken: set[int] = set()
    for start in range(0, len(ids), 1000):
        result = session.execute(
            update(FEEDS)
            .where(FEEDS.c.id.in_(ids[start : start + 1000]), free)
            .values(lease_owner=owner, lease_until=now + lease)
            .returning(FEEDS.c.id)
        )
        taken.update(result.scalars())
    return [f for f in feeds if f.id in taken]


def renew_leases(session: Session, owner: str, ids: Sequence[int], until: datetime) -> int:
    """Extend ``owner``'s leases on these feeds (work still running); returns how many."""
    renewed = 0
    for start in range(0, len(ids), 1000):
        result = session.execute(
            update(FEEDS)
            .where(FEEDS.c.id.in_(ids[start : start + 1000]), FEEDS.c.lease_owner == owner)
            .values(lease_until=until)
        )
        renewed += _count(result)
    return renewed


def release_leases(session: Session, owner: str, ids: Sequence[int]) -> int:
    """Give back ``owner``'s leases on feeds it will not fetch after all (a clean stop), so
    another worker can take them at once rather than after the lease runs out."""
    released = 0
    for start in range(0, len(ids), 1000):
        result = session.execute(
            update(FEEDS)
            .where(FEEDS.c.id.in_(ids[start : start + 1000]), FEEDS.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
        )
        released += _count(result)
    return released


def lease_owners(session: Session, prefix: str) -> list[str]:
    """The owners holding live or stale feed leases whose name starts with ``prefix``."""
    query = select(FeedRow.lease_owner).distinct().where(FeedRow.lease_owner.like(f"{prefix}%"))
    return [owner for owner in session.scalars(query) if owner]


def release_owner(session: Session, owner: str) -> int:
    """Drop every lease ``owner`` holds: it is known to be gone (a process that died)."""
    result = session.execute(
        update(FEEDS).where(FEEDS.c.lease_owner == owner).values(lease_owner=None, lease_until=None)
    )
    return _count(result)


def _count(result: object) -> int:
    # An UPDATE's result is a CursorResult; its rowcount is the rows it matched.
    return int(getattr(result, "rowcount", 0) or 0)


_FEED_COLUMNS = (FeedRow.id, FeedRow.url, FeedRow.name, FeedRow.etag, FeedRow.last_modified,
                 FeedRow.first_polled_at, FeedRow.failures, FeedRow.next_fetch_at,
                 FeedRow.health, FeedRow.alert_on_first_poll,
                 FeedRow.allow_private)  # fmt: skip


def _feed_from_columns(row: Any) -> Feed:
    return Feed(
        id=row.id,
        url=row.url,
        name=row.name,
        etag=row.etag,
        last_modified=row.last_modified,
        first_polled_at=row.first_polled_at,
        failures=row.failures or 0,
        next_fetch_at=row.next_fetch_at,
        health=FeedHealth(row.health),
        alert_on_first_poll=bool(row.alert_on_first_poll),
        allow_private=bool(row.allow_private),
    )


def save_states(session: Session, states: Sequence[FeedState]) -> None:
    """Write many feeds' fetch state and release their leases, in a few statements.

    In a quiet cycle most feeds answer 304 and end in the same state (same times, OK, no
    error), so feeds are grouped by that state and each group is one UPDATE … WHERE id IN;
    ETag / Last-Modified are written only for the feeds whose validators changed.
    """
    groups: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for s in states:
        groups[_common(s)].append(s.feed_id)
    for common, ids in groups.items():
        values = dict(zip(_COMMON_FIELDS, common, strict=True))
        if values.pop("succeeded"):
            values["last_success_at"] = values["last_fetched_at"]
        for start in range(0, len(ids), 1000):
            session.execute(
                update(FEEDS)
                .where(FEEDS.c.id.in_(ids[start : start + 1000]))
                .values(lease_owner=None, lease_until=None, **values)
            )
    changed = [_validators(s) for s in states if s.validators_changed]
    if changed:
        session.execute(
            update(FEEDS)
            .where(FEEDS.c.id == bindparam("b_id"))
            .values(
                etag=bindparam("b_etag"),
                last_modified=bindparam("b_modified"),
                first_polled_at=bindparam("b_first"),
            ),
            changed,
        )
    stopped = [s.feed_id for s in states if s.stop]
    if stopped:
        session.execute(update(FEEDS).where(FEEDS.c.id.in_(stopped)).values(paused=True))
    for state in states:
        if state.moved_to:
            move_feed(session, state.feed_id, state.moved_to)


_COMMON_FIELDS = ("last_fetched_at", "next_fetch_at", "health", "failures", "last_status",
                  "last_error", "succeeded")  # fmt: skip


def _common(s: FeedState) -> tuple[object, ...]:
    return (s.fetched_at, s.next_fetch_at, s.health.value, s.failures, s.last_status,
            s.last_error, s.succeeded)  # fmt: skip


def _validators(s: FeedState) -> dict[str, object]:
    return {
        "b_id": s.feed_id,
        "b_etag": s.etag[:500] if s.etag else None,
        "b_modified": s.last_modified[:100] if s.last_modified else None,
        "b_first": s.first_polled_at,
    }


def move_feed(session: Session, feed_id: int, url: str) -> bool:
    """Point a feed at its new address, unless another feed already has that address."""
    taken = session.scalar(select(FeedRow.id).where(FeedRow.url == url, FeedRow.id != feed_id))
    if taken is not None:
        logger.warning(
            "feed %s moved permanently to %s, which feed %s already polls; remove one of them",
            feed_id,
            url,
            taken,
        )
        return False
    session.execute(update(FEEDS).where(FEEDS.c.id == feed_id).values(url=url[:2048]))
    return True
