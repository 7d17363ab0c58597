"""Outbox delivery: which channels get which story; post once, then edit as reports arrive.

A delivery row is written before the chat call and settled after it, so a crash never loses
an alert; adapters make a retried post idempotent with the delivery id, so none posts twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot import metrics
from bot.core.cards import follow_ups, load_card, shown_ids
from bot.core.chat import AdapterStopped, ChannelUnavailable, ChatAdapter, DeliveryError
from bot.core.feedleases import default_owner
from bot.core.models import (
    ChannelRef,
    DeliveryKind,
    DeliveryMode,
    DeliveryStatus,
    FollowUpStyle,
    MessageRef,
    StoryCard,
)
from bot.core.policy import Decision, decide
from bot.core.workleases import Renewal, keep_renewed
from bot.storage import outbox
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.subscriptions import subscribed_workspaces
from bot.storage.tables import (
    DeliveryRow,
    ItemRow,
    StoryItemRow,
    StoryRow,
    SubscriptionRow,
)
from bot.storage.work import planned

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120  # a claimed row's lease when no other is given (renewed while flushing)


@dataclass(frozen=True, slots=True)
class FlushReport:
    posted: int = 0
    updated: int = 0
    failed: int = 0
    paused: int = 0


@dataclass(frozen=True, slots=True)
class _Job:
    """A claimed delivery with everything needed to make the chat call outside a transaction."""

    delivery_id: int
    subscription_id: int
    channel: ChannelRef
    follow_ups: FollowUpStyle
    card: StoryCard
    message_id: str | None
    thread_id: str | None
    items_posted: int
    items_total: int
    shown: tuple[str, ...] | None = None  # the articles the post shows; None: not recorded


def _now() -> datetime:
    return datetime.now(UTC)


class Delivery:
    """Plans outbox rows for changed stories and flushes them through the chat adapters."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, ChatAdapter],
        *,
        clock: Callable[[], datetime] = _now,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=CLAIM_SECONDS),
    ) -> None:
        self.db = db
        self.adapters = dict(adapters)
        self.clock = clock
        self.owner = owner or default_owner()  # whose claims: a restart knows its dead self's
        self.lease = lease

    async def plan(self, story_ids: Iterable[int]) -> int:
        """Write or refresh one outbox row per (subscribed channel, story); returns rows touched."""
        ids = sorted(set(story_ids))
        if not ids:
            return 0
        now = self.clock()
        return await self.db.run(lambda s: plan_deliveries(s, ids, now))

    async def flush(self) -> FlushReport:
        """Post pending deliveries and edit posts whose story gained reports since."""
        now = self.clock()
        platforms = tuple(self.adapters)
        claim = partial(_claim, platforms=platforms, now=now, owner=self.owner, lease=self.lease)
        jobs = await self.db.run(claim)
        counts = {"posted": 0, "updated": 0, "failed": 0, "paused": 0}
        held = {job.delivery_id for job in jobs}
        renewer = asyncio.create_task(keep_renewed(self.db, "delivery claims", self._renew(held)))
        try:
            for job in jobs:
                counts[await self._send(job)] += 1
                held.discard(job.delivery_id)
        finally:
            renewer.cancel()
        return FlushReport(**counts)

    def _renew(self, held: set[int]) -> Renewal:
        def step() -> Callable[[Any], object] | None:
            until = self.clock() + self.lease
            return partial(outbox.renew_claims, owner=self.owner, ids=sorted(held), until=until)

        return Renewal(self.lease.total_seconds() / 3, step)

    async def _send(self, job: _Job) -> str:
        adapter = self.adapters.get(job.channel.platform)
        if adapter is None:
            return "failed"
        started = time.perf_counter()
        try:
            ref = await self._call(adapter, job)
        except ChannelUnavailable as exc:
            return await self._paused(adapter, job, exc.reason)
        except AdapterStopped as exc:
            logger.error(
                "%s adapter stopped (%s); its alerts wait in the outbox", adapter.platform, exc
            )
            self.adapters.pop(job.channel.platform, None)
            error = str(exc)
            await self.db.run(lambda s: outbox.release(s, job.delivery_id, error))
            return "failed"
        except DeliveryError as exc:
            logger.warning(
                "delivery %s to %s failed, will retry: %s",
                job.delivery_id,
                job.channel.channel,
                exc,
            )
            error = str(exc)
            await self.db.run(lambda s: outbox.retry_later(s, job.delivery_id, error, self.clock()))
            return "failed"
        shown = shown_ids(job.card.sources)
        settle = partial(outbox.settle_sent, delivery_id=job.delivery_id,
                         message_id=ref.message_id, thread_id=ref.thread_id, shown=shown,
                         items_total=job.items_total)  # fmt: skip
        await self.db.run(lambda s: settle(s, now=self.clock()))
        metrics.delivered(job.channel.platform, time.perf_counter() - started)
        return "posted" if job.message_id is None else "updated"

    async def _call(self, adapter: ChatAdapter, job: _Job) -> MessageRef:
        if job.message_id is None:
            return await adapter.post(job.channel, job.card, delivery_id=job.delivery_id)
        ref = MessageRef(job.channel, job.message_id, job.thread_id)
        await adapter.update(ref, job.card)
        if job.follow_ups == FollowUpStyle.THREAD:
            for source in follow_ups(job.card.sources, job.shown, job.items_posted):
                await adapter.reply_in_thread(ref, source)
        return ref

    async def _paused(self, adapter: ChatAdapter, job: _Job, reason: str) -> str:
        pause = partial(
            outbox.pause, subscription_id=job.subscription_id, delivery_id=job.delivery_id
        )
        await self.db.run(lambda s: pause(s, reason=reason, now=self.clock()))
        logger.warning(
            "paused subscription %s in channel %s: %s",
            job.subscription_id,
            job.channel.channel,
            reason,
        )
        await self._tell_admins(adapter, job, reason)
        return "paused"

    async def notify_all_admins(self, text: str) -> int:
        """Tell the admins of every workspace with a subscription (a feed concerns them all);
        returns how many workspaces were told."""
        places = await self.db.run(subscribed_workspaces)
        told = 0
        for platform, workspace in places:
            adapter = self.adapters.get(platform)
            if adapter is None:
                continue
            try:
                await adapter.notify_admins(workspace, text)
                told += 1
            except DeliveryError as exc:
                logger.warning("could not notify admins of %s: %s", workspace, exc)
        return told

    async def _tell_admins(self, adapter: ChatAdapter, job: _Job, reason: str) -> None:
        text = (
            f"newsbot paused alerts to {job.channel.name or job.channel.channel}: {reason}. "
            "Invite the bot back (or fix its permissions), then run `/news subscribe` there."
        )
        try:
            await adapter.notify_admins(job.channel.workspace, text)
        except DeliveryError as exc:
            logger.warning("could not notify admins of %s: %s", job.channel.workspace, exc)


def plan_deliveries(session: Session, story_ids: list[int], now: datetime) -> int:
    """Every active subscription sharing a topic with a story gets one alert row for it.

    An existing row only learns the story's new report count; ``flush`` edits the post.
    The stories are no longer due for planning from this transaction on (``storage.work``).
    """
    planned(session, story_ids)
    stories = session.scalars(select(StoryRow).where(StoryRow.id.in_(story_ids))).all()
    subs = session.scalars(select(SubscriptionRow).where(SubscriptionRow.paused.is_(False))).all()
    if not stories or not subs:
        return 0
    ids = [s.id for s in stories]
    totals = _report_counts(session, ids)
    latest_alertable = _latest_alertable(session, ids)
    existing = {
        (d.subscription_id, d.story_id): d
        for d in session.scalars(
            select(DeliveryRow).where(
                DeliveryRow.story_id.in_(ids), DeliveryRow.kind == DeliveryKind.ALERT
            )
        )
    }
    touched = 0
    recent = _alerts_last_hour(session, now)
    for story in stories:
        for sub in subs:
            if not wants_alert(sub, story):
                continue
            row = existing.get((sub.id, story.id))
            if row is not None:
                if row.items_total != totals.get(story.id, 0):
                    row.items_total = totals.get(story.id, 0)
                    touched += 1
                continue
            # A feed's backlog, and stories from before a channel subscribed, never reach it.
            seen = latest_alertable.get(story.id)
            if seen is None or seen < sub.since:
                continue
            # The channel's policy: mutes, include/exclude words, quiet hours, hourly cap.
            decision = _policy(session, sub, story, now, recent)
            session.add(
                DeliveryRow(
                    subscription_id=sub.id,
                    story_id=story.id,
                    kind=DeliveryKind.ALERT,
                    status=decision.status,
                    reason=decision.reason,
                    items_total=totals.get(story.id, 0),
                    created_at=now,
                    due_at=decision.due_at or now,
                )
            )
            if decision.status == DeliveryStatus.PENDING:
                recent[sub.id] = recent.get(sub.id, 0) + 1
            touched += 1
    return touched


def _policy(
    session: Session, sub: SubscriptionRow, story: StoryRow, now: datetime, recent: dict[int, int]
) -> Decision:
    reports = session.execute(
        select(ItemRow.source, ItemRow.title, ItemRow.summary)
        .join(StoryItemRow, StoryItemRow.item_id == ItemRow.id)
        .where(StoryItemRow.story_id == story.id)
    ).all()
    text = "\n".join(f"{title}\n{summary}" for _, title, summary in reports)
    sources = [source for source, _, _ in reports if source]
    return decide(subs_repo.value(sub), story.key, story.headline, now, sources=sources,
                  text=text, sent_last_hour=recent.get(sub.id, 0))  # fmt: skip


def _alerts_last_hour(session: Session, now: datetime) -> dict[int, int]:
    """Alerts each channel got (or is about to get) in the hour before ``now``: the cap's count."""
    rows = session.execute(
        select(DeliveryRow.subscription_id, func.count())
        .where(
            DeliveryRow.kind == DeliveryKind.ALERT,
            DeliveryRow.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENT)),
            DeliveryRow.created_at >= now - timedelta(hours=1),
        )
        .group_by(DeliveryRow.subscription_id)
    )
    return {sub_id: count for sub_id, count in rows}


def wants_alert(sub: SubscriptionRow, story: StoryRow) -> bool:
    """Real-time alerts for the channel's topics (digest-only channels get digests instead)."""
    return sub.mode != DeliveryMode.DIGEST and bool(set(sub.topics) & set(story.topics))


def _report_counts(session: Session, story_ids: list[int]) -> dict[int, int]:
    rows = session.execute(
        select(StoryItemRow.story_id, func.count())
        .where(StoryItemRow.story_id.in_(story_ids))
        .group_by(StoryItemRow.story_id)
    )
    return {story_id: count for story_id, count in rows}


def _latest_alertable(session: Session, story_ids: list[int]) -> dict[int, datetime]:
    rows = session.execute(
        select(StoryItemRow.story_id, func.max(ItemRow.first_seen_at))
        .join(ItemRow, ItemRow.id == StoryItemRow.item_id)
        .where(StoryItemRow.story_id.in_(story_ids), ItemRow.alertable.is_(True))
        .group_by(StoryItemRow.story_id)
    )
    return {story_id: _utc(seen) for story_id, seen in rows if seen is not None}


def _utc(value: datetime | str) -> datetime:
    # Aggregates bypass the column type, so SQLite hands back naive UTC (or even a string).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _claim(
    session: Session, platforms: tuple[str, ...], now: datetime, owner: str, lease: timedelta
) -> list[_Job]:
    """Take due rows (new posts, and posts whose story grew) under ``owner``'s short lease."""
    if not platforms:
        return []
    query = (
        select(DeliveryRow, SubscriptionRow)
        .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
        .where(
            SubscriptionRow.platform.in_(platforms),
            SubscriptionRow.paused.is_(False),
            DeliveryRow.kind == DeliveryKind.ALERT,
            DeliveryRow.due_at <= now,
            or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < now),
            or_(
                DeliveryRow.status == DeliveryStatus.PENDING,
                and_(
                    DeliveryRow.status == DeliveryStatus.SENT,
                    DeliveryRow.items_total > DeliveryRow.items_posted,
                ),
            ),
        )
        .order_by(DeliveryRow.id)
        .limit(200)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Several bot processes share the outbox: each row goes to exactly one of them.
        query = query.with_for_update(skip_locked=True, of=DeliveryRow)
    jobs: list[_Job] = []
    cards: dict[int, StoryCard] = {}
    for row, sub in session.execute(query).tuples():
        assert row.story_id is not None
        if sub.muted_stories and _muted_since_planned(session, row, sub):
            continue
        if row.story_id not in cards:
            cards[row.story_id] = load_card(session, row.story_id)
        row.claimed_until, row.claimed_by = now + lease, owner
        row.attempts += 1
        jobs.append(
            _Job(
                delivery_id=row.id,
                subscription_id=sub.id,
                channel=ChannelRef(sub.platform, sub.workspace, sub.channel, sub.channel_name),
                follow_ups=FollowUpStyle(sub.follow_ups),
                card=cards[row.story_id],
                message_id=row.message_id,
                thread_id=row.thread_id,
                items_posted=row.items_posted,
                items_total=row.items_total,
                shown=tuple(row.shown) if row.shown is not None else None,
            )
        )
    return jobs


def _muted_since_planned(session: Session, row: DeliveryRow, sub: SubscriptionRow) -> bool:
    """A story muted after its alert was planned: no post, and no more edits of the post."""
    story = session.get(StoryRow, row.story_id)
    if story is None or story.key not in sub.muted_stories:
        return False
    if row.message_id is None:
        row.status, row.reason = DeliveryStatus.SKIPPED, f"muted (story `{story.key}`)"
    else:
        row.items_posted = row.items_total
    return True
