"""Stored items: one bulk insert that keeps only what is new, and reads by key or id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.core.models import Item, ParsedItem
from bot.storage import twins
from bot.storage.feeds import FeedState, save_states
from bot.storage.tables import ItemRow, StoryItemRow

logger = logging.getLogger(__name__)

ITEMS: Table = ItemRow.__table__  # type: ignore[assignment]
# Bound parameters per IN (...) query: well under SQLite's and PostgreSQL's limits, and big
# enough that a whole cycle's items need a handful of queries, not one per item.
IN_CHUNK = 2000
MAX_URL = 2048
FUTURE_SLACK = timedelta(days=1)


def _always(published: datetime | None, first_seen: datetime) -> bool:
    return True


@dataclass(frozen=True, slots=True)
class FeedItems:
    """One feed's parsed items on their way into the database."""

    feed_id: int | None
    items: Sequence[ParsedItem]
    alertable: bool = True
    # Is an item published then, first seen now, still news? The core's rule (max_age); an
    # item that is not is kept but not alertable. By default every item is.
    fresh: Callable[[datetime | None, datetime], bool] = _always


def store_new_items(
    session: Session,
    batches: Sequence[FeedItems],
    *,
    now: datetime,
    lease: tuple[str, datetime] | None = None,
) -> list[Item]:
    """Insert the items not stored before and return them; everything else is skipped.
    ``lease`` (owner, until): each new item is stored with its matching leased to that owner
    (``bot.storage.work``), so a crash before the match leaves work another worker resumes.

    An item is already known when its key or its canonical URL is in the table, so the same
    article under two feeds' GUIDs, or seen again in a later poll, is stored once. Within the
    batch the first occurrence wins. An article Google News linked to without its address
    is matched to the outlet's own item by outlet and headline (``twins``).

    Both are unique in the schema, so the insert itself is the "is it new?" check: it skips
    what is stored already (or what another process stores at the same moment) and returns
    the rows it added, with no query on the items beforehand (only a primary-key lookup of
    the undecoded Google items waiting for their outlet's own copy).
    """
    candidates = twins.drop_twins(session, _unique_within(batches), now)
    candidates = twins.adopt_direct(session, candidates, now)
    if not candidates:
        return []
    owner, until = lease if lease is not None else (None, None)
    rows = [_row(fi, p, now) | {"work_owner": owner, "work_until": until} for fi, p in candidates]
    ids = _insert(session, rows)
    stored = [
        Item(
            id=ids[row["key"]],
            key=row["key"],
            feed_id=row["feed_id"],
            title=row["title"],
            summary=row["summary"],
            url=row["url"],
            source=row["source"],
            published=row["published_at"],
            first_seen=now,
            alertable=row["alertable"],
        )
        for row in rows
        if row["key"] in ids
    ]
    twins.remember(session, stored, now)
    return stored


def store_polled(
    session: Session,
    batches: Sequence[FeedItems],
    states: Sequence[FeedState],
    *,
    now: datetime,
    lease: tuple[str, datetime] | None = None,
) -> list[Item]:
    """A batch of polled feeds: their new items (with their work leased, see
    ``store_new_items``) and their states, in the caller's one transaction, so a crash never
    leaves a feed with items stored but its state unwritten, nor an item with no one to
    match it."""
    items = store_new_items(session, batches, now=now, lease=lease)
    save_states(session, states)
    return items


def _unique_within(batches: Iterable[FeedItems]) -> list[tuple[FeedItems, ParsedItem]]:
    seen_keys: set[str] = set()
    seen_urls: set[str] = set()
    out: list[tuple[FeedItems, ParsedItem]] = []
    for batch in batches:
        for item in batch.items:
            if item.key in seen_keys or (item.url and item.url in seen_urls):
                continue
            seen_keys.add(item.key)
            if item.url:
                seen_urls.add(item.url)
            out.append((batch, item))
    return out


def known_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The keys among these that are stored already."""
    found: set[str] = set()
    for start in range(0, len(keys), IN_CHUNK):
        chunk = keys[start : start + IN_CHUNK]
        found.update(session.scalars(select(ITEMS.c.key).where(ITEMS.c.key.in_(chunk))))
    return found


def _insert(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Bulk insert (executemany with RETURNING) that skips rows whose key or link is stored."""
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(ITEMS).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(ITEMS).on_conflict_do_nothing()
    else:
        stmt = insert(ITEMS)
    result = session.execute(stmt.returning(ITEMS.c.id, ITEMS.c.key), rows)
    return {key: row_id for row_id, key in result}


def _row(fi: FeedItems, p: ParsedItem, now: datetime) -> dict[str, Any]:
    published = _published(p, now)
    return {
        "key": p.key,
        "url": _url(p.url),
        "guid": p.guid[:MAX_URL] if p.guid else None,
        "feed_id": fi.feed_id,
        "title": p.title,
        "summary": p.summary,
        "source": p.source[:200],
        "published_at": published,
        "first_seen_at": now,
        "alertable": fi.alertable and fi.fresh(published, now),
    }


def _published(p: ParsedItem, now: datetime) -> datetime | None:
    # A date beyond tomorrow is a feed's clock or time-zone mistake; it would pin the item
    # to the top of every "latest" list, so the time we first saw it stands in for it.
    if p.published is not None and p.published > now + FUTURE_SLACK:
        return now
    return p.published


def _url(url: str | None) -> str | None:
    # Cutting a link short would make it point somewhere else; a monster URL is dropped.
    # The limit is in bytes too: PostgreSQL cannot index a longer value (2,704 bytes at
    # most) and would refuse the whole batch.
    if not url or len(url) > MAX_URL:
        return None
    if not url.isascii() and len(url.encode("utf-8", "surrogatepass")) > MAX_URL:
        return None
    return url


def load_items(session: Session, ids: Sequence[int]) -> list[Item]:
    """The stored items with these ids, in the order given (ids not stored are left out)."""
    found: dict[int, Item] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        rows = session.scalars(select(ItemRow).where(ItemRow.id.in_(chunk)))
        found.update((row.id, item_from_row(row)) for row in rows)
    return [found[i] for i in ids if i in found]


def item_from_row(row: ItemRow) -> Item:
    """The stored item as the pipeline's value type."""
    return Item(
        id=row.id,
        key=row.key,
        feed_id=row.feed_id,
        title=row.title,
        summary=row.summary,
        url=row.url,
        source=row.source,
        published=row.published_at,
        first_seen=row.first_seen_at,
        alertable=row.alertable,
    )


def items_since(session: Session, since: datetime) -> list[Item]:
    """Every item first seen since ``since``, in the order they were seen (dry runs)."""
    stmt = (
        select(ItemRow)
        .where(ItemRow.first_seen_at >= since)
        .order_by(ItemRow.first_seen_at, ItemRow.id)
    )
    return [item_from_row(row) for row in session.scalars(stmt)]


def stories_of(session: Session, item_ids: Sequence[int]) -> dict[int, int]:
    """The story each of these items was grouped into (items in none are left out)."""
    out: dict[int, int] = {}
    for k in range(0, len(item_ids), IN_CHUNK):
        chunk = list(item_ids[k : k + IN_CHUNK])
        stmt = select(StoryItemRow.item_id, StoryItemRow.story_id).where(
            StoryItemRow.item_id.in_(chunk)
        )
        out.update({int(i): int(st) for i, st in session.execute(stmt)})
    return out
