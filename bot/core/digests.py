"""Grouped messages: digests, and held alerts released together; and the digest schedule.

* ``Digests.run(subscription_id)``: the stories on the channel's topics since its last digest,
  as one message (a digest-kind outbox row is written, and claimed, before the chat call).
* ``Digests.release_held()``: alerts held by quiet hours or the hourly cap whose time has
  come, claimed and posted per channel as one story-grouped message.
* ``DigestJobs``: one APScheduler job per subscription with a digest, in the channel's time
  zone; rebuilt from the database at start and after each ``/news digest`` change.

The outbox (``core.outbox``) posts and settles both, as it does alerts.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.cards import load_card
from bot.core.models import DeliveryMode, StoryMaterial, Subscription
from bot.core.outbox import Claim, Message, Outbox
from bot.core.policy import words_in
from bot.core.schedule import BotScheduler, missed_digest
from bot.storage import outbox as rows
from bot.storage import storyfacts
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Tx

logger = logging.getLogger(__name__)

MAX_DIGEST_STORIES = 25
PERIOD = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def _stories(n: int) -> str:
    return f"{n} stor" + ("y" if n == 1 else "ies")


def in_digest(sub: Subscription, story: StoryMaterial) -> bool:
    """On the channel's topics, not muted, with an alertable report, passing its words."""
    if not set(story.topics) & set(sub.topics) or story.key in sub.muted_stories:
        return False
    if not any(r.alertable for r in story.reports):
        return False  # a new feed's backlog never reaches a channel
    muted_sources = {m.lower() for m in sub.muted_sources}
    if story.reports and all(r.source.lower() in muted_sources for r in story.reports):
        return False
    text = story.headline + "\n" + "\n".join(r.title for r in story.reports)
    if words_in(text, sub.exclude_words):
        return False
    return not sub.include_words or bool(words_in(text, sub.include_words))


def claim_digest(tx: Tx, claim: Claim, subscription_id: int) -> list[Message]:
    """The channel's digest: its stories first seen since the last one (and since it
    subscribed), oldest first, at most MAX_DIGEST_STORIES; the window moves even when empty."""
    sub = subs_repo.get(tx, subscription_id)
    if sub is None or sub.paused or not sub.digest or sub.mode == DeliveryMode.REALTIME:
        return []
    period = PERIOD.get(str(sub.digest.get("every")), timedelta(days=1))
    since = max(sub.last_digest_at or claim.now - period, sub.since)
    picked = [s.id for s in storyfacts.first_seen_after(tx, since) if in_digest(sub, s)]
    picked = picked[-MAX_DIGEST_STORIES:]
    # The digest's window moves even when it is empty, so a story is in one digest only.
    subs_repo.digest_window_moved(tx, sub.id, claim.now)
    if not picked:
        return []
    row = rows.add_digest(tx, sub.id, len(picked), claim.now, claim.owner, claim.lease)
    title = f"Your {sub.digest.get('every', 'daily')} newsbot digest: {_stories(len(picked))}"
    cards = tuple(load_card(tx, story_id) for story_id in picked)
    return [Message((row,), sub.id, sub.channel, cards, title=title)]


def claim_held(tx: Tx, claim: Claim) -> list[Message]:
    """Each channel's held alerts whose time has come, as one message per channel."""
    messages = []
    held = rows.claim_held(tx, claim.platforms, claim.now, claim.owner, claim.lease)
    for sub_id, claimed in held.items():
        quiet = any(r.reason == "quiet hours" for r in claimed)
        story_ids = [r.story_id for r in claimed if r.story_id is not None]
        title = f"Held during {'quiet hours' if quiet else 'the hourly cap'}: " + _stories(
            len(story_ids)
        )
        cards = tuple(load_card(tx, story_id) for story_id in story_ids)
        ids = tuple(r.delivery_id for r in claimed)
        messages.append(Message(ids, sub_id, claimed[0].channel, cards, title=title))
    return messages


class Digests:
    """Posts digests and releases held alerts through the outbox."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def run(self, subscription_id: int) -> int:
        """Post one subscription's digest now; returns the number of stories in it."""
        posted: list[int] = []

        def claim(tx: Tx, at: Claim) -> list[Message]:
            messages = claim_digest(tx, at, subscription_id)
            posted.extend(len(m.cards) for m in messages)
            return messages

        await self.outbox.deliver(claim)
        return sum(posted)

    async def release_held(self) -> int:
        """Post each channel's due held alerts as one message; returns the messages tried."""
        return (await self.outbox.deliver(claim_held)).messages


class DigestJobs:
    """Keeps one scheduler job per subscription digest, in step with the database."""

    def __init__(self, scheduler: BotScheduler, digests: Digests) -> None:
        self.db = digests.outbox.db
        self.scheduler = scheduler
        self.digests = digests

    async def rebuild(self) -> int:
        """Add a job for every subscription with a digest (at start: jobs live in memory)."""
        subs = await self.db.run(subs_repo.with_digest)
        now = self.digests.outbox.clock()
        for sub in subs:
            self.scheduler.set_digest(sub.id, dict(sub.digest), self.digests.run)
            missed = missed_digest(dict(sub.digest), sub.last_digest_at, now)
            if missed is not None and not sub.paused and sub.mode != DeliveryMode.REALTIME:
                logger.info("digest of subscription %s was due at %s while the bot was down; "
                            "sending it now", sub.id, f"{missed:%Y-%m-%d %H:%M %Z}")  # fmt: skip
                await self.digests.run(sub.id)
        logger.info("scheduled %d digest job(s)", len(subs))
        return len(subs)

    async def changed(self, subscription_id: int) -> None:
        """Follow one subscription's digest setting (added, moved or switched off)."""
        sub = await self.db.run(lambda s: subs_repo.get(s, subscription_id))
        if sub is None or not sub.digest or sub.paused or sub.mode == DeliveryMode.REALTIME:
            self.scheduler.remove_digest(subscription_id)
        else:
            self.scheduler.set_digest(subscription_id, dict(sub.digest), self.digests.run)


async def start_digests(outbox: Outbox, scheduler: BotScheduler) -> DigestJobs:
    """Schedule every digest and the held-alert release on a running bot's scheduler; the
    returned jobs follow `/news digest …` edits (``CommandHooks.follow_schedule``)."""
    jobs = DigestJobs(scheduler, Digests(outbox))
    scheduler.start_release(jobs.digests.release_held)
    await jobs.rebuild()
    return jobs
