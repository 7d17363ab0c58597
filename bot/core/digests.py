"""Digests and held alerts: several stories posted to a channel as one message.

* ``Digests.run(subscription_id)``: the stories on the channel's topics since its last digest,
  posted as one message (a digest-kind outbox row is written before the chat call).
* ``Digests.release_held()``: alerts held by quiet hours or the hourly cap whose time has
  come, posted per channel as one story-grouped message.
* ``DigestJobs``: one APScheduler job per subscription with a digest, in the channel's time
  zone; rebuilt from the database at start and after each ``/news digest`` change.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.chat import ChannelUnavailable, ChatAdapter, DeliveryError
from bot.core.models import ChannelRef, DeliveryKind, DeliveryMode, DeliveryStatus, StoryCard
from bot.core.policy import words_in
from bot.core.schedule import BotScheduler, missed_digest
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import (
    DeliveryRow,
    ItemRow,
    StoryItemRow,
    StoryRow,
    SubscriptionRow,
)

logger = logging.getLogger(__name__)

MAX_DIGEST_STORIES = 25
PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class _Batch:
    """Stories claimed for one grouped message, with the outbox rows that record it."""

    subscription_id: int
    channel: ChannelRef
    title: str
    cards: tuple[StoryCard, ...]
    delivery_ids: tuple[int, ...]


def _cards(session: Session, story_ids: list[int]) -> tuple[StoryCard, ...]:
    from bot.core.cards import load_card

    return tuple(load_card(session, story_id) for story_id in story_ids)


def digest_stories(session: Session, sub: SubscriptionRow, since: datetime) -> list[int]:
    """Story ids for a digest: on the channel's topics, first seen after ``since`` (and after
    the channel subscribed), not muted, passing its include/exclude words; oldest first."""
    start = max(since, sub.since)
    rows = session.scalars(
        select(StoryRow).where(StoryRow.first_seen_at > start).order_by(StoryRow.first_seen_at)
    ).all()
    picked: list[int] = []
    muted_sources = {m.lower() for m in sub.muted_sources}
    for story in rows:
        if not set(story.topics) & set(sub.topics) or story.key in sub.muted_stories:
            continue
        reports = session.execute(
            select(ItemRow.source, ItemRow.title, ItemRow.alertable)
            .join(StoryItemRow, StoryItemRow.item_id == ItemRow.id)
            .where(StoryItemRow.story_id == story.id)
        ).all()
        if not any(alertable for _, _, alertable in reports):
            continue  # a new feed's backlog never reaches a channel
        if reports and all(source.lower() in muted_sources for source, _, _ in reports):
            continue
        text = story.headline + "\n" + "\n".join(title for _, title, _ in reports)
        if words_in(text, sub.exclude_words):
            continue
        if sub.include_words and not words_in(text, sub.include_words):
            continue
        picked.append(story.id)
    return picked[-MAX_DIGEST_STORIES:]


class Digests:
    """Posts digests and releases held alerts through the chat adapters."""

    def __init__(
        self,
        db: Database,
        adapters: Mapping[str, ChatAdapter],
        *,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.db = db
        self.adapters = adapters
        self.clock = clock

    async def run(self, subscription_id: int) -> int:
        """Post one subscription's digest now; returns the number of stories in it."""
        now = self.clock()
        batch = await self.db.run(lambda s: self._claim_digest(s, subscription_id, now))
        if batch is None:
            return 0
        await self._post(batch, digest=True)
        return len(batch.cards)

    def _claim_digest(self, s: Session, subscription_id: int, now: datetime) -> _Batch | None:
        sub = s.get(SubscriptionRow, subscription_id)
        if sub is None or sub.paused or not sub.digest or sub.mode == DeliveryMode.REALTIME:
            return None
        period = PERIOD.get(str(sub.digest.get("every")), timedelta(days=1))
        since = sub.last_digest_at or now - period
        story_ids = digest_stories(s, sub, since)
        # The digest's window moves even when it is empty, so a story is in one digest only.
        sub.last_digest_at = now
        if not story_ids:
            return None
        row = DeliveryRow(subscription_id=sub.id, story_id=None, kind=DeliveryKind.DIGEST,
                          status=DeliveryStatus.PENDING, items_total=len(story_ids),
                          created_at=now, due_at=now, attempts=1)  # fmt: skip
        s.add(row)
        s.flush()
        every = sub.digest.get("every", "daily")
        title = f"Your {every} newsbot digest: {len(story_ids)} stor" + (
            "y" if len(story_ids) == 1 else "ies"
        )
        return _Batch(sub.id, subs_repo.channel_of(sub), title, _cards(s, story_ids), (row.id,))

    async def release_held(self) -> int:
        """Post each channel's due held alerts as one message; returns the messages posted."""
        now = self.clock()
        batches = await self.db.run(lambda s: _claim_held(s, now))
        for batch in batches:
            await self._post(batch, digest=False)
        return len(batches)

    async def _post(self, batch: _Batch, *, digest: bool) -> None:
        adapter = self.adapters.get(batch.channel.platform)
        if adapter is None:
            logger.warning("no %s adapter running; %s waits", batch.channel.platform, batch.title)
            await self.db.run(lambda s: _settle(s, batch, None, "no adapter running", self.clock()))
            return
        try:
            ref = await adapter.post_digest(batch.channel, batch.title, batch.cards,
                                            delivery_id=batch.delivery_ids[0])  # fmt: skip
        except ChannelUnavailable as exc:
            reason = exc.reason
            await self.db.run(lambda s: _pause(s, batch, reason))
            await adapter.notify_admins(
                batch.channel.workspace,
                f"newsbot paused {batch.channel.name or batch.channel.channel}: {reason}.",
            )
            return
        except DeliveryError as exc:
            logger.warning("grouped post to %s failed: %s", batch.channel.channel, exc)
            error = str(exc)
            await self.db.run(lambda s: _settle(s, batch, None, error, self.clock()))
            return
        await self.db.run(lambda s: _settle(s, batch, ref.message_id, None, self.clock()))


def _claim_held(session: Session, now: datetime) -> list[_Batch]:
    rows = session.execute(
        select(DeliveryRow, SubscriptionRow)
        .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
        .where(
            DeliveryRow.kind == DeliveryKind.ALERT,
            DeliveryRow.status == DeliveryStatus.HELD,
            DeliveryRow.due_at <= now,
            SubscriptionRow.paused.is_(False),
        )
        .order_by(DeliveryRow.id)
    ).tuples()
    grouped: dict[int, list[DeliveryRow]] = defaultdict(list)
    subs: dict[int, SubscriptionRow] = {}
    for row, sub in rows:
        grouped[sub.id].append(row)
        subs[sub.id] = sub
    batches = []
    for sub_id, held in grouped.items():
        reason = "quiet hours" if any(r.reason == "quiet hours" for r in held) else "the hourly cap"
        story_ids = [r.story_id for r in held if r.story_id is not None]
        for r in held:
            r.attempts += 1
        title = f"Held during {reason}: {len(story_ids)} stor" + (
            "y" if len(story_ids) == 1 else "ies"
        )
        batches.append(_Batch(sub_id, subs_repo.channel_of(subs[sub_id]), title,
                              _cards(session, story_ids), tuple(r.id for r in held)))  # fmt: skip
    return batches


def _settle(
    session: Session, batch: _Batch, message_id: str | None, error: str | None, now: datetime
) -> None:
    for delivery_id in batch.delivery_ids:
        row = session.get(DeliveryRow, delivery_id)
        if row is None:
            continue
        row.updated_at = now
        if error is not None:
            row.last_error = error
            if row.kind == DeliveryKind.DIGEST:
                row.status, row.reason = DeliveryStatus.FAILED, error
            else:  # held alerts stay held and are retried at the next release
                row.due_at = now + timedelta(minutes=5)
            continue
        row.status = (
            DeliveryStatus.SENT if row.kind == DeliveryKind.DIGEST else DeliveryStatus.RELEASED
        )
        row.message_id = message_id
        row.sent_at = now
        row.items_posted = row.items_total
        row.last_error = None


def _pause(session: Session, batch: _Batch, reason: str) -> None:
    sub = session.get(SubscriptionRow, batch.subscription_id)
    if sub is not None:
        sub.paused, sub.paused_reason = True, reason


class DigestJobs:
    """Keeps one scheduler job per subscription digest, in step with the database."""

    def __init__(self, db: Database, scheduler: BotScheduler, digests: Digests) -> None:
        self.db = db
        self.scheduler = scheduler
        self.digests = digests

    async def rebuild(self) -> int:
        """Add a job for every subscription with a digest (at start: jobs live in memory)."""
        rows = await self.db.run(subs_repo.with_digest)
        now = self.digests.clock()
        for row in rows:
            self.scheduler.set_digest(row.id, dict(row.digest), self.digests.run)
            missed = missed_digest(dict(row.digest), row.last_digest_at, now)
            if missed is not None and not row.paused and row.mode != DeliveryMode.REALTIME:
                logger.info("digest of subscription %s was due at %s while the bot was down; "
                            "sending it now", row.id, f"{missed:%Y-%m-%d %H:%M %Z}")  # fmt: skip
                await self.digests.run(row.id)
        logger.info("scheduled %d digest job(s)", len(rows))
        return len(rows)

    async def changed(self, subscription_id: int) -> None:
        """Follow one subscription's digest setting (added, moved or switched off)."""
        row = await self.db.run(lambda s: s.get(SubscriptionRow, subscription_id))
        if row is None or not row.digest or row.paused or row.mode == DeliveryMode.REALTIME:
            self.scheduler.remove_digest(subscription_id)
        else:
            self.scheduler.set_digest(subscription_id, dict(row.digest), self.digests.run)


async def start_digests(
    db: Database, scheduler: BotScheduler, adapters: Mapping[str, ChatAdapter]
) -> DigestJobs:
    """Schedule every digest and the held-alert release on a running bot's scheduler; the
    returned jobs follow `/news digest …` edits (``CommandHooks.follow_schedule``)."""
    digests = Digests(db, adapters)
    jobs = DigestJobs(db, scheduler, digests)
    scheduler.start_release(digests.release_held)
    await jobs.rebuild()
    return jobs
