"""One poll cycle's ingest: fetch the due feeds, parse them, store what is new, say which."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bot.config import PollConfig
from bot.core import feedstate
from bot.core.backlog import Backlog
from bot.core.feedleases import FeedLeases, default_owner
from bot.core.feedstate import FeedOutcome, FeedStatus, Polled, next_state, with_count
from bot.core.fetch import Fetcher, FetchResult, FetchStatus, Resolver
from bot.core.models import Feed, Item
from bot.core.parse import ParsedFeed, parse_many, parse_safely
from bot.core.schedule import due_tolerance
from bot.core.workleases import ItemLeases
from bot.storage.db import Database, StorageError
from bot.storage.feeds import claim_due_feeds, release_leases, save_states
from bot.storage.items import known_keys, store_polled

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item this cycle stored for the first time: its row, and the time it is ordered by.

    Only this much is kept per item: a new feed's backlog can be tens of thousands of items,
    and holding their text until the cycle ends would hold all its memory too. The next
    stage reads the items back from the database, a chunk at a time.
    """

    id: int
    at: datetime  # published, else first seen


@dataclass(frozen=True, slots=True)
class PollResult:
    outcomes: list[FeedOutcome] = field(default_factory=list)
    new_items: list[NewItem] = field(default_factory=list)  # only items never stored before

    @property
    def failed(self) -> list[FeedOutcome]:
        return [o for o in self.outcomes if o.status is FeedStatus.FAILED]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Poller:
    """Fetch → parse → store for the feeds that are due.

    Fetches run concurrently on the event loop (at most ``poll.concurrency`` at once). As
    responses arrive they are parsed and stored in batches: every response that came in while
    the previous batch was being handled goes into the next one, so one thread hop and one
    transaction serve many feeds. Each feed's state is written in the same transaction as its
    items, so a crash mid-cycle leaves no feed with items stored but state unwritten.
    """

    def __init__(
        self,
        db: Database,
        poll: PollConfig,
        *,
        clock: Callable[[], datetime] = _utcnow,
        owner: str | None = None,
        batch_linger: float = 0.05,
        max_batch: int = 200,
        max_batch_bytes: int = 512 * 1024,
        max_pending_bytes: int = 3 * 10**6,
        parse_pool: Executor | None = None,
        parse_workers: int = 1,
        resolver: Resolver | None = None,
        item_leases: ItemLeases | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.db = db
        # Set on a clean stop: fetches still running are cut short and their feeds given
        # back at once, for the next process; what was fetched is stored and flows on.
        self.stopping = stopping
        self.resolver = resolver  # the DNS the fetcher asks; None: the system's
        # The new items' matching is leased to this holder as they are stored (None: no
        # lease, for callers that match what they store themselves, at once).
        self.item_leases = item_leases
        # After the first response of a batch arrives, wait this long for more to join it:
        # each batch costs a thread hop and a commit, and a few ms matter to no reader.
        self.batch_linger = batch_linger
        self.max_batch = max_batch
        # A batch's parsed items and their rows are all in memory at once: cap it by body size
        # (about 25 typical feeds), not count, so a burst of tiny 304s still shares one commit.
        self.max_batch_bytes = max_batch_bytes
        # Feed bodies fetched but not parsed yet: when parsing falls behind (a first poll of
        # many feeds), new fetches wait rather than pile bodies up in memory.
        self.max_pending_bytes = max_pending_bytes
        # Optional: a process pool (owned by the caller, living as long as the app) to parse
        # in, so a big first poll uses more than one core. Without it parsing runs in the
        # storing thread, which is plenty for routine cycles.
        self.parse_pool = parse_pool
        self.parse_workers = max(1, parse_workers)
        self.poll = poll
        self.clock = clock
        self.owner = owner or (item_leases.owner if item_leases else default_owner())
        # Short, so a crashed worker's feeds are soon taken over; renewed while fetches run.
        self.lease = timedelta(seconds=poll.lease)
        # Feeds claimed at a time: what this worker can have in flight, so the others get
        # the rest of the due feeds.
        self.batch = poll.concurrency

    async def poll_due(self, now: datetime | None = None, *, force: bool = False) -> PollResult:
        """Poll the due feeds (``force``: every unpaused feed) and return the new items.

        Feeds are claimed a batch at a time (the fetch concurrency), and more as fetches
        finish, so several workers sharing a database split the due feeds between them.
        """
        now = now or self.clock()
        leases = FeedLeases(self.db, self.owner, self.lease, self.clock)
        seen: set[int] = set()
        started = time.monotonic()
        feeds, more = await self._claim(now, force, self.batch, seen, started)
        if not feeds:
            return PollResult()
        leases.add(f.id for f in feeds)
        outcomes: list[FeedOutcome] = []
        new_items: list[NewItem] = []
        queue: asyncio.Queue[FetchResult | None] = asyncio.Queue()
        backlog = Backlog(self.max_pending_bytes)
        polled = len(feeds)
        claim_more = partial(self._claim, now, force, seen=seen, started=started) if more else None
        renewer = asyncio.create_task(leases.keep_alive())
        try:
            async with Fetcher(self.poll, resolver=self.resolver) as fetcher:
                consumer = asyncio.create_task(
                    self._consume(queue, backlog, now, outcomes, new_items, leases)
                )
                try:
                    polled += await self._fetch_all(
                        fetcher, feeds, queue, backlog, leases, claim_more
                    )
                finally:
                    queue.put_nowait(None)
                    await consumer
        finally:
            renewer.cancel()
            await leases.give_back()
        failed = sum(o.status is FeedStatus.FAILED for o in outcomes)
        logger.info("polled %d feeds: %d new items, %d failed", polled, len(new_items), failed)
        return PollResult(outcomes, new_items)

    async def _claim(
        self, now: datetime, force: bool, limit: int, seen: set[int], started: float
    ) -> tuple[list[Feed], bool]:
        """Claim up to ``limit`` due feeds this cycle has not fetched yet; also whether more
        may be waiting. A feed fetched earlier in the cycle (a forced cycle reaches those
        last, as they are due last) is given back at once and ends the claiming.

        What is due is judged at the cycle's ``now``; leases at ``now`` plus the time the
        cycle has run, so a dead worker's leases that ran out mid-cycle are taken up in it."""
        tolerance = due_tolerance(self.poll.interval)
        leased_at = now + timedelta(seconds=time.monotonic() - started)
        feeds = await self.db.run(
            lambda s: claim_due_feeds(
                s,
                now,
                owner=self.owner,
                lease=self.lease,
                force=force,
                tolerance=tolerance,
                limit=limit,
                leased_at=leased_at,
            )
        )
        again = [f.id for f in feeds if f.id in seen]
        if again:
            await self.db.run(partial(release_leases, owner=self.owner, ids=again))
        fresh = [f for f in feeds if f.id not in seen]
        seen.update(f.id for f in fresh)
        return fresh, len(feeds) >= limit and not again

    async def _fetch_all(
        self,
        fetcher: Fetcher,
        first: Sequence[Feed],
        queue: asyncio.Queue[FetchResult | None],
        backlog: Backlog,
        leases: FeedLeases,
        claim: Callable[[int], Awaitable[tuple[list[Feed], bool]]] | None,
    ) -> int:
        """Fetch the claimed feeds, claiming more as slots free up; returns how many more."""

        async def fetch_one(feed: Feed) -> None:
            await backlog.room()
            result = await fetcher.fetch(feed)
            backlog.add(len(result.body))
            queue.put_nowait(result)

        running = {asyncio.create_task(fetch_one(f)) for f in first}
        stop = asyncio.create_task(self.stopping.wait()) if self.stopping else None
        claimed = 0
        try:
            while running:
                waiting = running | ({stop} if stop else set())
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                running -= done
                for task in done - {stop}:
                    task.result()
                if stop in done:
                    logger.info(
                        "stopping: %d fetches cut short, their feeds given back", len(running)
                    )
                    break
                room = self.batch - len(running)
                # Claim in chunks, not one feed per finished fetch: each claim is a transaction.
                if claim is not None and room >= max(1, self.batch // 4):
                    feeds, more = await claim(room)
                    claim = claim if more else None
                    leases.add(f.id for f in feeds)
                    claimed += len(feeds)
                    running |= {asyncio.create_task(fetch_one(f)) for f in feeds}
        finally:
            if stop is not None:
                stop.cancel()
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        return claimed

    async def _consume(
        self,
        queue: asyncio.Queue[FetchResult | None],
        backlog: Backlog,
        now: datetime,
        outcomes: list[FeedOutcome],
        new_items: list[NewItem],
        leases: FeedLeases,
    ) -> None:
        try:
            await self._consume_batches(queue, backlog, now, outcomes, new_items, leases)
        finally:
            backlog.close()  # a failed consumer must not leave fetches waiting for room

    async def _consume_batches(
        self,
        queue: asyncio.Queue[FetchResult | None],
        backlog: Backlog,
        now: datetime,
        outcomes: list[FeedOutcome],
        new_items: list[NewItem],
        leases: FeedLeases,
    ) -> None:
        done = False
        while not done:
            first = await queue.get()
            if first is None:
                return
            batch = [first]
            size = len(first.body)
            if self.batch_linger and backlog.bytes < self.max_batch_bytes:
                # A full batch is already waiting when parsing is behind; lingering then
                # would only leave the storing thread idle.
                await asyncio.sleep(self.batch_linger)
            while not queue.empty() and len(batch) < self.max_batch and size < self.max_batch_bytes:
                nxt = queue.get_nowait()
                if nxt is None:
                    done = True
                    break
                batch.append(nxt)
                size += len(nxt.body)
            parsed = await self._parse_in_pool(batch)
            got_outcomes, got_items = await asyncio.to_thread(
                self._handle_batch, batch, now, parsed
            )
            backlog.done(size)
            leases.done(o.feed_id for o in got_outcomes)
            outcomes.extend(got_outcomes)
            new_items.extend(NewItem(i.id, i.published or i.first_seen) for i in got_items)
            if self.item_leases is not None:
                self.item_leases.add(i.id for i in got_items)

    async def _parse_in_pool(self, batch: Sequence[FetchResult]) -> dict[int, ParsedFeed] | None:
        """With a parse pool, parse the batch's bodies there, spread over its workers."""
        if self.parse_pool is None:
            return None
        todo = [(i, r) for i, r in enumerate(batch) if r.status is FetchStatus.OK]
        if not todo:
            return None
        loop = asyncio.get_running_loop()
        parts = [todo[k :: self.parse_workers] for k in range(self.parse_workers)]
        jobs = [
            loop.run_in_executor(
                self.parse_pool, parse_many, [(r.body, r.feed, r.content_type) for _, r in part]
            )
            for part in parts
            if part
        ]
        results = await asyncio.gather(*jobs)
        return {
            i: feed_result
            for part, parsed in zip((p for p in parts if p), results, strict=True)
            for (i, _), feed_result in zip(part, parsed, strict=True)
        }

    def _handle_batch(
        self,
        results: Sequence[FetchResult],
        now: datetime,
        parsed: Mapping[int, ParsedFeed] | None = None,
    ) -> tuple[list[FeedOutcome], list[Item]]:
        """Parse a batch (unless ``parsed`` has it, by position) and store it in one
        transaction. Runs in a worker thread."""
        done = parsed or {}
        handled = [self._handle(r, now, done.get(i)) for i, r in enumerate(results)]
        lease = (self.item_leases.owner, self.item_leases.until()) if self.item_leases else None
        try:
            items = self.db.transaction(partial(_store, polled=handled, now=now, lease=lease))
        except StorageError:
            # One feed's bad row must not cost the others theirs: retry one by one.
            logger.exception(
                "storing a batch of %d feeds failed; retrying one by one", len(handled)
            )
            items = []
            for i, h in enumerate(handled):
                try:
                    store = partial(_store, polled=[h], now=now, lease=lease)
                    items.extend(self.db.transaction(store))
                except StorageError as exc:
                    handled[i] = self._store_failed(h, exc, now)
        per_feed = Counter(item.feed_id for item in items)
        outcomes = [with_count(h, per_feed.get(h.feed.id, 0)) for h in handled]
        return outcomes, items

    def _known_keys(self, keys: Sequence[str]) -> Collection[str]:
        """Which of these keys are stored; none, if the database cannot say right now (the
        store step checks again, so a failure here costs only time)."""
        try:
            return self.db.transaction(lambda s: known_keys(s, keys))
        except StorageError as exc:
            logger.warning("checking for known items failed (%s)", exc.__class__.__name__)
            return ()

    def _store_failed(self, h: Polled, exc: StorageError, now: datetime) -> Polled:
        error = f"its items could not be stored ({exc.__class__.__name__})"
        failed = feedstate.failed(h.feed, now, error, h.state.last_status, None, self.poll)
        try:
            self.db.transaction(lambda s: save_states(s, [failed.state]))
        except StorageError:
            logger.exception("could not record the failure of feed %s", h.feed.id)
        return failed

    def _handle(
        self, result: FetchResult, now: datetime, parsed: ParsedFeed | None = None
    ) -> Polled:
        if result.status is FetchStatus.OK and parsed is None:
            # A feed polled before mostly repeats items we have: skip cleaning those.
            known = self._known_keys if result.feed.first_polled_at is not None else None
            parsed = parse_safely(result.body, result.feed, result.content_type, known)
        polled = next_state(result, parsed, now, self.poll)
        # Failures and the rest are the caller's to log (the pipeline does); an empty feed is
        # worth one line here because it is easy to miss otherwise.
        log = logger.info if polled.outcome.status is FeedStatus.EMPTY else logger.debug
        log("%s", polled.outcome.message)
        return polled


def _store(
    session: Any, polled: Sequence[Polled], now: datetime, lease: tuple[str, datetime] | None
) -> list[Item]:
    batches = [p.items for p in polled if p.items is not None]
    return store_polled(session, batches, [p.state for p in polled], now=now, lease=lease)
