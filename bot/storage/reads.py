"""Read-only queries for the commands (latest, search, story, why, missed, completions).

Each takes a session and returns values from ``bot.core.models``; nothing here writes, and
nothing here decides what to say: the core renders the values.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig, TopicConfig
from bot.core.models import (
    ChannelRef,
    ItemFate,
    ItemHit,
    SourceLink,
    StoredEvidence,
    StoryDetail,
    StoryView,
)
from bot.storage import subscriptions as subs_repo
from bot.storage.search import search_ids
from bot.storage.tables import (
    DeliveryRow,
    FeedRow,
    ItemRow,
    MatchRow,
    StoryItemRow,
    StoryRow,
    TopicRow,
)


def topics(session: Session, cfg: AppConfig) -> list[TopicConfig]:
    """The live topics in their listed order; before the first seed, the config's."""
    rows = list(session.scalars(select(TopicRow)))
    if not rows:
        return list(cfg.topics)
    rows.sort(key=lambda r: (int((r.extra or {}).get("position", 999)), r.id))
    return [
        TopicConfig(id=r.id, name=r.name, description=r.description, terms=list(r.terms),
                    actors=list((r.extra or {}).get("actors", [])), threshold=r.threshold)
        for r in rows
    ]  # fmt: skip


def latest_stories(session: Session, topic: str | None, n: int) -> list[StoryView]:
    rows = session.scalars(select(StoryRow).order_by(StoryRow.last_item_at.desc()).limit(500))
    picked = [r for r in rows if topic is None or topic in r.topics][:n]
    return [_story_view(session, r) for r in picked]


def _story_view(session: Session, story: StoryRow) -> StoryView:
    items = _story_items(session, story.id)
    first = items[0] if items else None
    link = SourceLink(first.source, first.title, first.url, first.published_at) if first else None
    return StoryView(
        story.key, story.headline, tuple(story.topics), len(items), story.first_seen_at, link
    )


def _story_items(session: Session, story_id: int) -> list[ItemRow]:
    rows = session.scalars(
        select(ItemRow)
        .join(StoryItemRow, StoryItemRow.item_id == ItemRow.id)
        .where(StoryItemRow.story_id == story_id)
    ).all()
    return sorted(rows, key=lambda r: (r.published_at or r.first_seen_at, r.id))


def search_items(session: Session, words: list[str], limit: int) -> list[ItemHit]:
    """Items whose title or summary holds every word (whole words, any inflection) or quoted
    phrase, best match first, by the database's full-text index."""
    ids = search_ids(session, " ".join(_quoted(w) for w in words), limit)
    rows = {r.id: r for r in session.scalars(select(ItemRow).where(ItemRow.id.in_(ids)))}
    return [_hit(session, rows[i]) for i in ids if i in rows]


def _quoted(word: str) -> str:
    # The words came split already (a quoted phrase as one word): keep a phrase a phrase.
    return f'"{word}"' if " " in word else word


def _hit(session: Session, row: ItemRow) -> ItemHit:
    match = session.get(MatchRow, row.id)
    link = SourceLink(row.source, row.title, row.url, row.published_at)
    relevant = None if match is None else match.relevant
    return ItemHit(row.id, row.title, row.source, row.first_seen_at, link, relevant,
                   _story_key_of(session, row.id))  # fmt: skip


def _story_key_of(session: Session, item_id: int) -> str | None:
    return session.scalar(
        select(StoryRow.key)
        .join(StoryItemRow, StoryItemRow.story_id == StoryRow.id)
        .where(StoryItemRow.item_id == item_id)
    )


def _story_by_key(session: Session, key: str) -> StoryRow | None:
    key = key.strip().strip("`")
    row = session.scalars(select(StoryRow).where(StoryRow.key == key)).one_or_none()
    if row is None and key.lower() != key:
        row = session.scalars(select(StoryRow).where(StoryRow.key == key.lower())).one_or_none()
    return row


def story_key(session: Session, text: str) -> str | None:
    """The stored story key ``text`` names (backticks and case forgiven), or None."""
    row = _story_by_key(session, text)
    return row.key if row else None


def recent_story_keys(session: Session, n: int) -> list[str]:
    return list(session.scalars(select(StoryRow.key).order_by(StoryRow.id.desc()).limit(n)))


def story_detail(session: Session, key: str) -> StoryDetail | None:
    story = _story_by_key(session, key)
    if story is None:
        return None
    reports = tuple(_hit(session, r) for r in _story_items(session, story.id))
    linked = session.get(StoryRow, story.linked_story_id) if story.linked_story_id else None
    followers = session.scalars(
        select(StoryRow.key).where(StoryRow.linked_story_id == story.id).order_by(StoryRow.id)
    ).all()
    return StoryDetail(story.key, story.headline, tuple(story.topics), reports,
                       linked.key if linked else None, tuple(followers))  # fmt: skip


def evidence(session: Session, ref: str, limit: int) -> list[StoredEvidence] | None:
    """The matcher's stored evidence for an item (id or key), or the first ``limit`` reports
    of a story; None when ``ref`` names neither."""
    ref = ref.strip().lstrip("#")
    rows: list[ItemRow] = []
    if ref.isdigit() and (item := session.get(ItemRow, int(ref))) is not None:
        rows = [item]
    elif (story := _story_by_key(session, ref)) is not None:
        rows = _story_items(session, story.id)
    elif (item := session.scalars(select(ItemRow).where(ItemRow.key == ref)).first()) is not None:
        rows = [item]
    else:
        return None
    out = []
    for row in rows[:limit]:
        match = session.get(MatchRow, row.id)
        if match is not None:
            out.append(StoredEvidence(row.id, row.title, match.relevant, match.score,
                                      tuple(match.topics), match.why,
                                      dict(match.evidence or {})))  # fmt: skip
    return out


def known_sources(session: Session) -> list[str]:
    outlets = session.scalars(select(ItemRow.source).distinct().limit(2000)).all()
    feeds = session.scalars(select(FeedRow.name)).all()
    return sorted({s for s in (*outlets, *feeds) if s})


def item_fates(session: Session, channel: ChannelRef, since: datetime) -> list[ItemFate]:
    """Every item first seen since ``since``, newest first, with what happened on its way to
    ``channel`` (its match, its story, this channel's delivery of that story)."""
    sub = subs_repo.find(session, channel)
    rows = session.scalars(
        select(ItemRow).where(ItemRow.first_seen_at >= since).order_by(ItemRow.first_seen_at.desc())
    ).all()
    return [_fate(session, row, sub.id if sub else None) for row in rows]


def _fate(session: Session, item: ItemRow, subscription_id: int | None) -> ItemFate:
    match = session.get(MatchRow, item.id)
    story = session.scalars(
        select(StoryRow)
        .join(StoryItemRow, StoryItemRow.story_id == StoryRow.id)
        .where(StoryItemRow.item_id == item.id)
    ).first()
    delivery = None
    if story is not None and subscription_id is not None:
        delivery = session.scalars(
            select(DeliveryRow)
            .where(DeliveryRow.subscription_id == subscription_id,
                   DeliveryRow.story_id == story.id)
            .order_by(DeliveryRow.id)
        ).first()  # fmt: skip
    first = _story_items(session, story.id)[:1] if story is not None else []
    return ItemFate(
        item_id=item.id, title=item.title, source=item.source, seen=item.first_seen_at,
        published=item.published_at, alertable=item.alertable,
        relevant=None if match is None else match.relevant,
        why=match.why if match else "", topics=tuple(match.topics) if match else (),
        story_key=story.key if story else None,
        story_first_seen=story.first_seen_at if story else None,
        first_report=bool(first) and first[0].id == item.id,
        delivery_status=delivery.status if delivery else None,
        delivery_kind=delivery.kind if delivery else None,
        delivery_reason=(delivery.reason or delivery.last_error or "") if delivery else "",
    )  # fmt: skip
