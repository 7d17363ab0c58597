"""The outbox: one machine that posts what a planner claimed, settles it and pauses a channel.

Alerts (``core.alerts``), digests and held alerts released together (``core.digests``) all
go through it. A planner claims due rows in one transaction and hands back ``Message`` values,
one per chat call; the outbox makes each call outside any transaction, holding the rows'
claims meanwhile (renewed), and settles them in the transaction that records the outcome:

* posted: ``sent`` (a held alert ``released``), with the message it made;
* ``ChannelUnavailable``: the subscription is paused, its admins told, the rows left due;
* ``AdapterStopped``: the platform leaves the live registry, the rows wait for it;
* any other ``DeliveryError``: retried after a backoff (``storage.outbox.retry_later``).

A row is written before its chat call, and adapters make a retried post idempotent with the
delivery id, so a crash neither loses nor doubles a message. ``adapters`` is the composition
root's one registry of connected adapters: it is shared, never copied, so a platform dropped
here (or by ``Connections``) is dropped for every kind of message at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from bot import metrics
from bot.core.chat import AdapterStopped, ChannelUnavailable, ChatAdapter, DeliveryError
from bot.core.feedleases import default_owner
from bot.core.models import ChannelRef, MessageRef, SourceLink, StoryCard
from bot.core.workleases import Renewal, keep_renewed
from bot.storage import outbox as rows
from bot.storage.db import Database, Tx
from bot.storage.subscriptions import subscribed_workspaces

logger = logging.getLogger(__name__)

CLAIM_SECONDS = 120  # a claimed row's lease when no other is given (renewed while flushing)


class Outcome(StrEnum):
    POSTED = "posted"
    UPDATED = "updated"
    FAILED = "failed"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class FlushReport:
    posted: int = 0
    updated: int = 0
    failed: int = 0
    paused: int = 0

    @property
    def messages(self) -> int:
        """Chat calls attempted."""
        return self.posted + self.updated + self.failed + self.paused


@dataclass(frozen=True, slots=True)
class Message:
    """One chat call for claimed outbox rows: a story's alert, its edit, or a grouped post."""

    delivery_ids: tuple[int, ...]  # the rows it settles; the first makes a retry idempotent
    subscription_id: int
    channel: ChannelRef
    cards: tuple[StoryCard, ...]
    title: str | None = None  # a grouped message's title (digest, held release)
    edit: MessageRef | None = None  # an alert's post to edit rather than post anew
    replies: tuple[SourceLink, ...] = ()  # later reports replied in the edited post's thread
    items_total: int | None = None  # the reports an alert shows; None: each row's own count
    shown: list[str] | None = None  # the articles an alert shows (its follow-ups skip them)


@dataclass(frozen=True, slots=True)
class Claim:
    """What a planner claims under: the live platforms, the time, and whose lease."""

    platforms: tuple[str, ...]
    now: datetime
    owner: str
    lease: timedelta


Planner = Callable[[Tx, Claim], Sequence[Message]]


def _now() -> datetime:
    return datetime.now(UTC)


class Outbox:
    """Posts claimed messages through the live chat adapters and settles their rows."""

    def __init__(
        self,
        db: Database,
        adapters: MutableMapping[str, ChatAdapter],
        *,
        clock: Callable[[], datetime] = _now,
        owner: str | None = None,
        lease: timedelta = timedelta(seconds=CLAIM_SECONDS),
    ) -> None:
        self.db = db
        self.adapters = adapters  # the live registry, shared with the composition root
        self.clock = clock
        self.owner = owner or default_owner()  # whose claims: a restart knows its dead self's
        self.lease = lease

    async def deliver(self, planner: Planner) -> FlushReport:
        """Claim with ``planner``, then make each message's chat call and settle it."""
        claim = Claim(tuple(self.adapters), self.clock(), self.owner, self.lease)
        messages = await self.db.run(lambda s: planner(s, claim))
        counts: Counter[Outcome] = Counter()
        held = {i for message in messages for i in message.delivery_ids}
        renewer = asyncio.create_task(keep_renewed(self.db, "delivery claims", self._renew(held)))
        try:
            for message in messages:
                counts[await self._send(message)] += 1
                held.difference_update(message.delivery_ids)
        finally:
            renewer.cancel()
        return FlushReport(**{str(outcome): n for outcome, n in counts.items()})

    def _renew(self, held: set[int]) -> Renewal:
        def step() -> Callable[[Any], object] | None:
            until = self.clock() + self.lease
            return partial(rows.renew_claims, owner=self.owner, ids=sorted(held), until=until)

        return Renewal(self.lease.total_seconds() / 3, step)

    async def _send(self, message: Message) -> Outcome:
        ids, platform = message.delivery_ids, message.channel.platform
        adapter = self.adapters.get(platform)
        if adapter is None:  # stopped since the claim: the rows wait for it
            await self.db.run(lambda s: rows.release(s, ids, f"no {platform} adapter running"))
            return Outcome.FAILED
        started = time.perf_counter()
        try:
            ref = await self._call(adapter, message)
        except ChannelUnavailable as exc:
            return await self._paused(adapter, message, exc.reason)
        except AdapterStopped as exc:
            logger.error("%s adapter stopped (%s); its messages wait in the outbox", platform, exc)
            if self.adapters.get(platform) is adapter:
                self.adapters.pop(platform)
            error = str(exc)
            await self.db.run(lambda s: rows.release(s, ids, error))
            return Outcome.FAILED
        except DeliveryError as exc:
            logger.warning("delivery %s to %s failed, will retry: %s", ids[0],
                           message.channel.channel, exc)  # fmt: skip
            error = str(exc)
            await self.db.run(lambda s: rows.retry_later(s, ids, error, self.clock()))
            return Outcome.FAILED
        settle = partial(rows.settle_sent, ids=ids, message_id=ref.message_id,
                         thread_id=ref.thread_id, shown=message.shown,
                         items_total=message.items_total)  # fmt: skip
        await self.db.run(lambda s: settle(s, now=self.clock()))
        metrics.delivered(platform, time.perf_counter() - started)
        return Outcome.POSTED if message.edit is None else Outcome.UPDATED

    @staticmethod
    async def _call(adapter: ChatAdapter, message: Message) -> MessageRef:
        first = message.delivery_ids[0]
        if message.title is not None:
            return await adapter.post_digest(
                message.channel, message.title, message.cards, delivery_id=first
            )
        if message.edit is None:
            return await adapter.post(message.channel, message.cards[0], delivery_id=first)
        await adapter.update(message.edit, message.cards[0])
        for source in message.replies:
            await adapter.reply_in_thread(message.edit, source)
        return message.edit

    async def _paused(self, adapter: ChatAdapter, message: Message, reason: str) -> Outcome:
        pause = partial(rows.pause, subscription_id=message.subscription_id,
                        ids=message.delivery_ids)  # fmt: skip
        await self.db.run(lambda s: pause(s, reason=reason, now=self.clock()))
        channel = message.channel
        logger.warning("paused subscription %s in channel %s: %s", message.subscription_id,
                       channel.channel, reason)  # fmt: skip
        text = (
            f"newsbot paused alerts to {channel.name or channel.channel}: {reason}. "
            "Invite the bot back (or fix its permissions), then run `/news subscribe` there."
        )
        await self._tell(adapter, channel.workspace, text)
        return Outcome.PAUSED

    async def notify_all_admins(self, text: str) -> int:
        """Tell the admins of every workspace with a subscription (a feed concerns them all);
        returns how many workspaces were told."""
        places = await self.db.run(subscribed_workspaces)
        told = 0
        for platform, workspace in places:
            adapter = self.adapters.get(platform)
            if adapter is not None and await self._tell(adapter, workspace, text):
                told += 1
        return told

    @staticmethod
    async def _tell(adapter: ChatAdapter, workspace: str, text: str) -> bool:
        try:
            await adapter.notify_admins(workspace, text)
        except DeliveryError as exc:
            logger.warning("could not notify admins of %s: %s", workspace, exc)
            return False
        return True
