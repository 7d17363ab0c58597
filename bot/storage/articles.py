"""Article leads cached by address, and the title-only items a cycle may fetch them for."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.core.models import ArticleLead, Feed, Item
from bot.storage.items import IN_CHUNK, item_from_row
from bot.storage.tables import ArticleRow, FeedRow, ItemRow, MatchRow


def unrelevant_items(session: Session, ids: Sequence[int]) -> list[tuple[Item, Feed | None]]:
    """Of the items ``ids``, those matched not relevant that may alert, with their feed, in the
    order of ``ids``: the ones whose article might change the verdict."""
    found: dict[int, tuple[Item, Feed | None]] = {}
    for start in range(0, len(ids), IN_CHUNK):
        chunk = ids[start : start + IN_CHUNK]
        rows = session.execute(
            select(ItemRow, FeedRow)
            .join(MatchRow, MatchRow.item_id == ItemRow.id)
            .outerjoin(FeedRow, FeedRow.id == ItemRow.feed_id)
            .where(ItemRow.id.in_(chunk), MatchRow.relevant.is_(False), ItemRow.alertable)
        )
        for item, feed in rows:
            found[item.id] = (item_from_row(item), _feed(feed) if feed is not None else None)
    return [found[i] for i in ids if i in found]


# A summary longer than its headline and outlet by this much says something of its own: the
# item is not title-only, whatever its words (a cheap bound the database can apply).
TITLE_ONLY_SLACK = 400


def waiting_for_articles(session: Session, since: datetime, limit: int) -> list[int]:
    """Items stored since ``since``, matched not relevant, that may alert, whose article was
    never fetched and whose summary is short enough to be title-only: what a cycle's article
    budget left for later, oldest first."""
    room = func.length(ItemRow.title) + func.length(ItemRow.source) + TITLE_ONLY_SLACK
    rows = session.scalars(
        select(ItemRow.id)
        .join(MatchRow, MatchRow.item_id == ItemRow.id)
        .outerjoin(ArticleRow, ArticleRow.url == ItemRow.url)
        .where(
            ItemRow.first_seen_at >= since,
            MatchRow.relevant.is_(False),
            ItemRow.alertable,
            ItemRow.url.is_not(None),
            ArticleRow.url.is_(None),
            func.length(ItemRow.summary) <= room,
        )
        .order_by(ItemRow.first_seen_at, ItemRow.id)
        .limit(limit)
    )
    return list(rows)


def _feed(row: FeedRow) -> Feed:
    return Feed(id=row.id, url=row.url, name=row.name, allow_private=bool(row.allow_private))


def cached_articles(session: Session, urls: Sequence[str]) -> dict[str, ArticleLead]:
    found: dict[str, ArticleLead] = {}
    for start in range(0, len(urls), IN_CHUNK):
        chunk = urls[start : start + IN_CHUNK]
        for row in session.scalars(select(ArticleRow).where(ArticleRow.url.in_(chunk))):
            found[row.url] = ArticleLead(row.lead, row.error)
    return found


def save_articles(session: Session, articles: Mapping[str, ArticleLead], *, now: datetime) -> None:
    """Cache each article's lead (or why there is none). An address another process cached
    meanwhile is overwritten, not an error: both fetched the same page."""
    if not articles:
        return
    rows = [{"url": url, "lead": a.lead, "error": a.error, "fetched_at": now}
            for url, a in articles.items()]  # fmt: skip
    table = ArticleRow.metadata.tables[ArticleRow.__tablename__]
    dialect = session.get_bind().dialect.name
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:  # pragma: no cover - the two dialects the bot supports
        for row in rows:
            session.merge(ArticleRow(**row))
        return
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.url],
        set_={"lead": stmt.excluded.lead, "error": stmt.excluded.error,
              "fetched_at": stmt.excluded.fetched_at},
    )  # fmt: skip
    session.execute(stmt, rows)


def set_summaries(session: Session, summaries: Mapping[int, str]) -> None:
    """Give items the summary their article's lead makes."""
    for item_id, summary in summaries.items():
        session.execute(update(ItemRow).where(ItemRow.id == item_id).values(summary=summary))
