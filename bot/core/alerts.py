"""Alerts: which channels get which story, and which chat call each due alert becomes.

``plan_deliveries`` writes one outbox row per (subscribed channel, story) as stories change,
after the channel's policy (``core.policy``); ``claim_alerts`` turns the due rows into
messages: a new post, or an edit of the post (with thread replies for the reports it does
not show yet) when the story has grown. The outbox (``core.outbox``) posts and settles them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from bot.core.cards import follow_ups, load_card, shown_ids
from bot.core.models import (
    DeliveryMode,
    DeliveryStatus,
    FollowUpStyle,
    MessageRef,
    StoryCard,
    StoryMaterial,
    Subscription,
)
from bot.core.outbox import Claim, FlushReport, Message, Outbox
from bot.core.policy import decide
from bot.storage import outbox as rows
from bot.storage import storyfacts
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Tx
from bot.storage.outbox import Claimed
from bot.storage.work import planned


class Alerts:
    """Plans alerts for changed stories and flushes the due ones through the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def plan(self, story_ids: Iterable[int]) -> int:
        """Write or refresh one outbox row per (subscribed channel, story); returns rows touched."""
        ids = sorted(set(story_ids))
        if not ids:
            return 0
        now = self.outbox.clock()
        return await self.outbox.db.run(lambda s: plan_deliveries(s, ids, now))

    async def flush(self) -> FlushReport:
        """Post pending alerts and edit posts whose story gained reports since."""
        return await self.outbox.deliver(claim_alerts)

    async def notify_all_admins(self, text: str) -> int:
        return await self.outbox.notify_all_admins(text)


def wants_alert(sub: Subscription, story: StoryMaterial) -> bool:
    """Real-time alerts for the channel's topics (digest-only channels get digests instead)."""
    return sub.mode != DeliveryMode.DIGEST and bool(set(sub.topics) & set(story.topics))


def plan_deliveries(tx: Tx, story_ids: list[int], now: datetime) -> int:
    """Every active subscription sharing a topic with a story gets one alert row for it.

    An existing row only learns the story's new report count; the flush edits the post.
    The stories are no longer due for planning from this transaction on (``storage.work``).
    """
    planned(tx, story_ids)
    stories = storyfacts.stories(tx, story_ids)
    subs = subs_repo.unpaused(tx)
    if not stories or not subs:
        return 0
    existing = rows.alert_totals(tx, [story.id for story in stories])
    recent = rows.alerts_last_hour(tx, now)
    touched = 0
    for story in stories:
        total, seen = len(story.reports), story.latest_alertable()
        text = "\n".join(f"{r.title}\n{r.summary}" for r in story.reports)
        sources = [r.source for r in story.reports if r.source]
        for sub in subs:
            if not wants_alert(sub, story):
                continue
            known = existing.get((sub.id, story.id))
            if known is not None:
                if known != total:
                    rows.set_alert_total(tx, sub.id, story.id, total)
                    touched += 1
                continue
            # A feed's backlog, and stories from before a channel subscribed, never reach it.
            if seen is None or seen < sub.since:
                continue
            # The channel's policy: mutes, include/exclude words, quiet hours, hourly cap.
            decision = decide(sub, story.key, story.headline, now, sources=sources, text=text,
                              sent_last_hour=recent.get(sub.id, 0))  # fmt: skip
            rows.add_alert(tx, sub.id, story.id, decision.status, decision.reason, total,
                           decision.due_at or now, now)  # fmt: skip
            if decision.status == DeliveryStatus.PENDING:
                recent[sub.id] = recent.get(sub.id, 0) + 1
            touched += 1
    return touched


def claim_alerts(tx: Tx, claim: Claim) -> list[Message]:
    """The due alerts, claimed: a post for a new one, an edit for one whose story grew."""
    claimed = rows.claim_alerts(tx, claim.platforms, claim.now, claim.owner, claim.lease)
    cards: dict[int, StoryCard] = {}
    for row in claimed:
        assert row.story_id is not None
        if row.story_id not in cards:
            cards[row.story_id] = load_card(tx, row.story_id)
    return [_message(row, cards[row.story_id or 0]) for row in claimed]


def _message(row: Claimed, card: StoryCard) -> Message:
    shown = shown_ids(card.sources)
    if row.message_id is None:
        return Message((row.delivery_id,), row.subscription_id, row.channel, (card,),
                       items_total=row.items_total, shown=shown)  # fmt: skip
    edit = MessageRef(row.channel, row.message_id, row.thread_id)
    replies = (
        tuple(follow_ups(card.sources, row.shown, row.items_posted))
        if row.follow_ups == FollowUpStyle.THREAD
        else ()
    )
    return Message((row.delivery_id,), row.subscription_id, row.channel, (card,), edit=edit,
                   replies=replies, items_total=row.items_total, shown=shown)  # fmt: skip
