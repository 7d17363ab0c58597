"""How the read commands show stored news: values from ``bot.storage.reads`` as reply fields,
and why an item did not reach a channel (`/news missed`)."""

from __future__ import annotations

from datetime import datetime

from bot.core.evidence import evidence_sentences
from bot.core.freshness import stale_reason
from bot.core.models import (
    DeliveryKind,
    DeliveryStatus,
    ItemFate,
    ItemHit,
    ReplyField,
    SourceLink,
    StoredEvidence,
    StoryDetail,
    StoryView,
    Subscription,
)

MAX_REPORTS_SHOWN = 15


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "undated"


def one_line(text: str, limit: int = 160) -> str:
    # Feed text is untrusted: keep it on one line so it cannot break the reply's layout.
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def story_field(view: StoryView) -> ReplyField:
    outlets = f"{view.reports} report{'s' if view.reports != 1 else ''}"
    url = f"\n{view.link.url}" if view.link and view.link.url else ""
    return ReplyField(
        f"`{view.key}` {one_line(view.headline)}",
        f"{', '.join(view.topics)} · {outlets} · first seen {_when(view.first_seen)}{url}",
    )


def hit_field(hit: ItemHit) -> ReplyField:
    verdict = {None: "not matched yet", True: "relevant", False: "not relevant"}[hit.relevant]
    story = f" · story `{hit.story_key}`" if hit.story_key else ""
    url = f"\n{hit.link.url}" if hit.link and hit.link.url else ""
    return ReplyField(
        f"#{hit.id} {one_line(hit.title)}",
        f"{hit.source} · {_when(hit.seen)} · {verdict}{story}{url}",
    )


def detail_text(detail: StoryDetail) -> str:
    lines = [
        f"Story `{detail.key}`: {one_line(detail.headline, 300)}",
        f"topics: {', '.join(detail.topics)} · {len(detail.reports)} report(s), oldest first",
    ]
    if detail.linked:
        lines.append(f"follows story `{detail.linked}`")
    if detail.followed_by:
        lines.append("followed by: " + ", ".join(f"`{k}`" for k in detail.followed_by))
    return "\n".join(lines)


def detail_fields(detail: StoryDetail) -> tuple[ReplyField, ...]:
    return tuple(hit_field(r) for r in detail.reports[:MAX_REPORTS_SHOWN])


def detail_links(detail: StoryDetail) -> tuple[SourceLink, ...]:
    return tuple(r.link for r in detail.reports[:MAX_REPORTS_SHOWN] if r.link)


def evidence_field(found: StoredEvidence) -> ReplyField:
    verdict = "relevant" if found.relevant else "not relevant"
    topics = ", ".join(found.topics) or "no topic"
    details = one_line(" ".join(evidence_sentences(found.details)), 700)
    return ReplyField(
        f"#{found.item_id} {one_line(found.title)}",
        f"{verdict} (score {found.score:.2f}; {topics})\n{found.why}\n{details}",
    )


def missed_field(fate: ItemFate, reason: str) -> ReplyField:
    return ReplyField(
        f"#{fate.item_id} {one_line(fate.title)}",
        f"{fate.source} · {_when(fate.seen)} · {reason}",
    )


def missed_reason(
    fate: ItemFate, follows: Subscription | None, max_age: float | None = None
) -> str | None:
    """Why an item did not reach the channel; None when it did (its story was posted).

    ``max_age`` is the live ``poll.max_age``: the reason an old item was not alerted is
    derived from its dates, not stored.
    """
    if fate.relevant is None:
        return "not matched yet"
    if not fate.relevant:
        return f"not relevant: {one_line(fate.why, 120)}"
    if follows is None:
        return "this channel has no subscription"
    if not set(fate.topics) & set(follows.topics):
        return f"other topic ({', '.join(fate.topics)})"
    if fate.story_key is None or fate.story_first_seen is None:
        return "not grouped into a story yet"
    if fate.delivery_status is not None:
        return _delivery_reason(fate)
    if fate.story_key in follows.muted_stories:
        return f"muted (story `{fate.story_key}`)"
    if fate.source in follows.muted_sources:
        return f"muted (source {fate.source})"
    if not fate.alertable:
        stale = stale_reason(fate.published, fate.seen, max_age)
        return stale or "feed backlog (stored when the feed was added, never alerted)"
    if fate.story_first_seen < follows.since:
        return "before this channel subscribed"
    if follows.mode == "digest":
        return "digest only (in the next digest)"
    return "not planned yet (next poll)"


def _delivery_reason(fate: ItemFate) -> str | None:
    status, reason = fate.delivery_status, fate.delivery_reason
    if status in (DeliveryStatus.SENT, DeliveryStatus.RELEASED):
        if not fate.first_report:
            return f"duplicate: another report of story `{fate.story_key}`, shown in its post"
        return None
    if status == DeliveryStatus.HELD:
        return f"{reason or 'held'} (released later)"
    if status == DeliveryStatus.SKIPPED:
        return reason or "skipped"
    if status == DeliveryStatus.FAILED:
        return f"failed: {reason or 'unknown error'}"
    if fate.delivery_kind == DeliveryKind.DIGEST:
        return "in the next digest"
    return "waiting to be posted"
