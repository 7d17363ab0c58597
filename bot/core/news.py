"""Read-only views of the stored news for commands: latest, search, story, why, missed.

Each function takes a session and returns small frozen views that know how to show
themselves as Reply fields; nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.core.evidence import evidence_sentences
from bot.core.freshness import stale_reason
from bot.core.models import ChannelRef, ReplyField, SourceLink
from bot.storage import subscriptions as subs_repo
from bot.storage.tables import (
    DeliveryRow,
    FeedRow,
    ItemRow,
    MatchRow,
    StoryItemRow,
    StoryRow,
)

MAX_REPORTS_SHOWN = 15


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "undated"


def _one_line(text: str, limit: int = 160) -> str:
    # Feed text is untrusted: keep it on one line so it cannot break the reply's layout.
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


@dataclass(frozen=True)
class StoryView:
    key: str
    headline: str
    topics: tuple[str, ...]
    reports: int
    first_seen: datetime
    link: SourceLink | None

    def field(self) -> ReplyField:
        outlets = f"{self.reports} report{'s' if self.reports != 1 else ''}"
        url = f"\n{self.link.url}" if self.link and self.link.url else ""
        return ReplyField(
            f"`{self.key}` {_one_line(self.headline)}",
            f"{', '.join(self.topics)} · {outlets} · first seen {_when(self.first_seen)}{url}",
        )


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


@dataclass(frozen=True)
class ItemHit:
    id: int
    title: str
    source: str
    seen: datetime
    link: SourceLink | None
    relevant: bool | None
    story_key: str | None

    def field(self) -> ReplyField:
        verdict = {None: "not matched yet", True: "relevant", False: "not relevant"}[self.relevant]
        story = f" · story `{self.story_key}`" if self.story_key else ""
        url = f"\n{self.link.url}" if self.link and self.link.url else ""
        return ReplyField(
            f"#{self.id} {_one_line(self.title)}",
            f"{self.source} · {_when(self.seen)} · {verdict}{story}{url}",
        )


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_items(session: Session, words: list[str], limit: int) -> list[ItemHit]:
    """Items whose title or summary contains every word (case-insensitive), newest first."""
    conditions = [
        or_(
            ItemRow.title.ilike(f"%{_escape_like(w)}%", escape="\\"),
            ItemRow.summary.ilike(f"%{_escape_like(w)}%", escape="\\"),
        )
        for w in words
    ]
    rows = session.scalars(
        select(ItemRow).where(and_(*conditions)).order_by(ItemRow.first_seen_at.desc()).limit(limit)
    ).all()
    return [_hit(session, r) for r in rows]


def _hit(session: Session, row: ItemRow) -> ItemHit:
    match = session.get(MatchRow, row.id)
    story_key = session.scalar(
        select(StoryRow.key)
        .join(StoryItemRow, StoryItemRow.story_id == StoryRow.id)
        .where(StoryItemRow.item_id == row.id)
    )
    link = SourceLink(row.source, row.title, row.url, row.published_at)
    return ItemHit(
        row.id,
        row.title,
        row.source,
        row.first_seen_at,
        link,
        None if match is None else match.relevant,
        story_key,
    )


def story_by_key(session: Session, key: str) -> StoryRow | None:
    key = key.strip().strip("`")
    row = session.scalars(select(StoryRow).where(StoryRow.key == key)).one_or_none()
    if row is None and key.lower() != key:
        row = session.scalars(select(StoryRow).where(StoryRow.key == key.lower())).one_or_none()
    return row


def recent_story_keys(session: Session, n: int) -> list[str]:
    return list(session.scalars(select(StoryRow.key).order_by(StoryRow.id.desc()).limit(n)))


@dataclass(frozen=True)
class StoryDetail:
    key: str
    headline: str
    topics: tuple[str, ...]
    reports: tuple[ItemHit, ...]
    linked: str | None
    followed_by: tuple[str, ...]

    def text(self) -> str:
        lines = [
            f"Story `{self.key}`: {_one_line(self.headline, 300)}",
            f"topics: {', '.join(self.topics)} · {len(self.reports)} report(s), oldest first",
        ]
        if self.linked:
            lines.append(f"follows story `{self.linked}`")
        if self.followed_by:
            lines.append("followed by: " + ", ".join(f"`{k}`" for k in self.followed_by))
        return "\n".join(lines)

    def fields(self) -> tuple[ReplyField, ...]:
        return tuple(r.field() for r in self.reports[:MAX_REPORTS_SHOWN])

    @property
    def links(self) -> tuple[SourceLink, ...]:
        return tuple(r.link for r in self.reports[:MAX_REPORTS_SHOWN] if r.link)


def story_detail(session: Session, key: str) -> StoryDetail | None:
    story = story_by_key(session, key)
    if story is None:
        return None
    reports = tuple(_hit(session, r) for r in _story_items(session, story.id))
    linked = session.get(StoryRow, story.linked_story_id) if story.linked_story_id else None
    followers = session.scalars(
        select(StoryRow.key).where(StoryRow.linked_story_id == story.id).order_by(StoryRow.id)
    ).all()
    return StoryDetail(
        story.key,
        story.headline,
        tuple(story.topics),
        reports,
        linked.key if linked else None,
        tuple(followers),
    )


@dataclass(frozen=True)
class Evidence:
    item_id: int
    title: str
    relevant: bool
    score: float
    topics: tuple[str, ...]
    why: str
    evidence: str

    def field(self) -> ReplyField:
        verdict = "relevant" if self.relevant else "not relevant"
        topics = ", ".join(self.topics) or "no topic"
        return ReplyField(
            f"#{self.item_id} {_one_line(self.title)}",
            f"{verdict} (score {self.score:.2f}; {topics})\n{self.why}\n{self.evidence}",
        )


def evidence(session: Session, ref: str) -> list[Evidence] | None:
    """The matcher's stored evidence for an item (id or key), or every report of a story."""
    ref = ref.strip().lstrip("#")
    rows: list[ItemRow] = []
    if ref.isdigit() and (item := session.get(ItemRow, int(ref))) is not None:
        rows = [item]
    elif (story := story_by_key(session, ref)) is not None:
        rows = _story_items(session, story.id)
    elif (item := session.scalars(select(ItemRow).where(ItemRow.key == ref)).first()) is not None:
        rows = [item]
    else:
        return None
    out = []
    for row in rows[:MAX_REPORTS_SHOWN]:
        match = session.get(MatchRow, row.id)
        if match is not None:
            details = " ".join(evidence_sentences(match.evidence or {}))
            out.append(
                Evidence(
                    row.id,
                    row.title,
                    match.relevant,
                    match.score,
                    tuple(match.topics),
                    match.why,
                    _one_line(details, 700),
                )
            )
    return out


def known_sources(session: Session) -> list[str]:
    outlets = session.scalars(select(ItemRow.source).distinct().limit(2000)).all()
    feeds = session.scalars(select(FeedRow.name)).all()
    return sorted({s for s in (*outlets, *feeds) if s})


@dataclass(frozen=True)
class Missed:
    item_id: int
    title: str
    source: str
    seen: datetime
    reason: str

    def field(self) -> ReplyField:
        return ReplyField(
            f"#{self.item_id} {_one_line(self.title)}",
            f"{self.source} · {_when(self.seen)} · {self.reason}",
        )


def missed_items(
    session: Session, channel: ChannelRef, since: datetime, max_age: float | None = None
) -> list[Missed]:
    """Items first seen since ``since`` that this channel did not get, each with the reason.

    ``max_age`` is the live ``poll.max_age``: the reason an old item was not alerted is
    derived from its dates, not stored.
    """
    sub = subs_repo.find(session, channel)
    rows = session.scalars(
        select(ItemRow).where(ItemRow.first_seen_at >= since).order_by(ItemRow.first_seen_at.desc())
    ).all()
    out: list[Missed] = []
    for row in rows:
        reason = _missed_reason(session, row, sub, max_age)
        if reason is not None:
            out.append(Missed(row.id, row.title, row.source, row.first_seen_at, reason))
    return out


def _missed_reason(
    session: Session, item: ItemRow, sub: object, max_age: float | None = None
) -> str | None:
    """Why an item did not reach the channel; None when it did (its story was posted)."""
    from bot.storage.tables import SubscriptionRow

    match = session.get(MatchRow, item.id)
    if match is None:
        return "not matched yet"
    if not match.relevant:
        return f"not relevant: {_one_line(match.why, 120)}"
    if not isinstance(sub, SubscriptionRow):
        return "this channel has no subscription"
    if not set(match.topics) & set(sub.topics):
        return f"other topic ({', '.join(match.topics)})"
    story = session.scalars(
        select(StoryRow)
        .join(StoryItemRow, StoryItemRow.story_id == StoryRow.id)
        .where(StoryItemRow.item_id == item.id)
    ).first()
    if story is None:
        return "not grouped into a story yet"
    delivery = session.scalars(
        select(DeliveryRow)
        .where(DeliveryRow.subscription_id == sub.id, DeliveryRow.story_id == story.id)
        .order_by(DeliveryRow.id)
    ).first()
    if delivery is not None:
        return _delivery_reason(session, delivery, item, story)
    if story.key in sub.muted_stories:
        return f"muted (story `{story.key}`)"
    if item.source in sub.muted_sources:
        return f"muted (source {item.source})"
    if not item.alertable:
        stale = stale_reason(item.published_at, item.first_seen_at, max_age)
        return stale or "feed backlog (stored when the feed was added, never alerted)"
    if story.first_seen_at < sub.since:
        return "before this channel subscribed"
    if sub.mode == "digest":
        return "digest only (in the next digest)"
    return "not planned yet (next poll)"


def _delivery_reason(
    session: Session, delivery: DeliveryRow, item: ItemRow, story: StoryRow
) -> str | None:
    if delivery.status in ("sent", "released"):
        first = _story_items(session, story.id)
        if first and first[0].id != item.id:
            return f"duplicate: another report of story `{story.key}`, shown in its post"
        return None
    reason = delivery.reason or ""
    if delivery.status == "held":
        return f"{reason or 'held'} (released later)"
    if delivery.status == "skipped":
        return reason or "skipped"
    if delivery.status == "failed":
        return f"failed: {reason or delivery.last_error or 'unknown error'}"
    if delivery.kind == "digest":
        return "in the next digest"
    return "waiting to be posted"


def report_count(session: Session, story_id: int) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(StoryItemRow).where(StoryItemRow.story_id == story_id)
        )
        or 0
    )
