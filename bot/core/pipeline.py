"""One poll cycle, end to end: fetch → parse → store → match → group → summarise → deliver."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from bot import metrics
from bot.config import AppConfig
from bot.core.alerts import Alerts
from bot.core.enrichment import enrich_title_only
from bot.core.feedleases import default_owner, release_stale
from bot.core.feedstate import FeedOutcome, FeedStatus
from bot.core.fetch import Resolver
from bot.core.ingest import NewItem, Poller, PollResult
from bot.core.matching import Matcher
from bot.core.models import Item
from bot.core.outbox import FlushReport
from bot.core.stories import StoryGrouper
from bot.core.workleases import ItemLeases
from bot.storage.configstore import load_runtime
from bot.storage.db import Database, Tx
from bot.storage.items import load_items
from bot.storage.stories import save_matches
from bot.storage.work import claim_overdue_items, claim_overdue_stories, plan_due, take_items

logger = logging.getLogger(__name__)

MATCH_CHUNK = 1000  # items matched and grouped per transaction
# Work whose lease ran out (its process died, or stopped cleanly) taken up per resume pass.
RESUME_BATCH = 5000


@dataclass(frozen=True, slots=True)
class CycleReport:
    outcomes: tuple[FeedOutcome, ...]
    new_items: int
    relevant: int
    stories: tuple[int, ...]
    flush: FlushReport = field(default_factory=FlushReport)
    seconds: float = 0.0

    @property
    def next_retry(self) -> datetime | None:
        """When the first feed that failed this cycle is due again, if any failed."""
        return min((o.next_fetch_at for o in self.outcomes if o.status == "failed"), default=None)


def _now() -> datetime:
    return datetime.now(UTC)


class Pipeline:
    """Runs poll cycles. The live config is read from the database at each cycle's start, so
    an admin's edit (topics, thresholds, feeds) applies from the next cycle on."""

    def __init__(
        self,
        db: Database,
        alerts: Alerts,
        *,
        clock: Callable[[], datetime] = _now,
        resolver: Resolver | None = None,
    ) -> None:
        self.db = db
        self.alerts = alerts
        self.clock = clock
        self.resolver = resolver  # the DNS feeds are fetched through; None: the system's
        self.owner = default_owner()
        self._leases_checked = False
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        """A clean stop begins: the cycle in progress cuts its fetches short and gives their
        feeds back at once, then matches, plans and delivers what it stored, and ends."""
        self.stopping.set()

    async def tick(self) -> datetime | None:
        """The scheduler's poll job: one cycle; returns when a failed feed should be retried."""
        return (await self.run_cycle()).next_retry

    async def run_cycle(self, *, force: bool = False) -> CycleReport:
        started = time.perf_counter()
        now = self.clock()
        cfg = await self.db.run(load_runtime)
        if not self._leases_checked:
            # Feeds and items an earlier life of this process (or a dead neighbour on this
            # host) had claimed are taken up in this first cycle, not after their leases end.
            await release_stale(self.db)
            self._leases_checked = True
        leases = self._item_leases(cfg)
        renewer = asyncio.create_task(leases.keep_alive())
        try:
            result, relevant, story_ids = await self._poll_and_match(cfg, now, force, leases)
        except asyncio.CancelledError:
            await leases.give_back()
            raise
        finally:
            renewer.cancel()
        more_relevant, more_stories = await self._resume(cfg, leases)
        relevant += more_relevant
        story_ids = list(dict.fromkeys([*story_ids, *more_stories]))
        await self.alerts.plan(story_ids)
        flushed = await self.alerts.flush()
        # After the first alerts are out: a slow article site delays only its own items.
        late_relevant, late_stories, late_flush = await self._title_only(cfg, result.new_items)
        if late_stories:
            relevant += late_relevant
            story_ids = list(dict.fromkeys([*story_ids, *late_stories]))
            flushed = _sum(flushed, late_flush)
        report = CycleReport(
            outcomes=tuple(result.outcomes),
            new_items=len(result.new_items),
            relevant=relevant,
            stories=tuple(story_ids),
            flush=flushed,
            seconds=time.perf_counter() - started,
        )
        metrics.cycle_done(report)
        logger.info(
            "cycle: %d feeds, %d new items, %d relevant, %d stories touched, %d posted, "
            "%d updated in %.2fs",
            len(report.outcomes),
            report.new_items,
            report.relevant,
            len(report.stories),
            flushed.posted,
            flushed.updated,
            report.seconds,
        )
        return report

    def _item_leases(self, cfg: AppConfig) -> ItemLeases:
        return ItemLeases(self.db, self.owner, timedelta(seconds=cfg.poll.lease), self.clock)

    async def _poll_and_match(
        self, cfg: AppConfig, now: datetime, force: bool, leases: ItemLeases
    ) -> tuple[PollResult, int, list[int]]:
        poller = Poller(
            self.db,
            cfg.poll,
            clock=self.clock,
            resolver=self.resolver,
            item_leases=leases,
            stopping=self.stopping,
        )
        result = await poller.poll_due(now, force=force)
        for outcome in result.outcomes:
            _log_outcome(outcome)
        await self._tell_admins_of_feed_health(result.outcomes)
        relevant, story_ids = await self._match_and_group(cfg, result.new_items, leases=leases)
        return result, relevant, story_ids

    async def resume(self) -> FlushReport:
        """The resume job: take up work whose lease ran out (a process killed between storing
        and matching, or between grouping and planning), and flush the outbox. Runs every
        third of a lease period, so nothing waits for the next poll cycle."""
        cfg = await self.db.run(load_runtime)
        _, stories = await self._resume(cfg, self._item_leases(cfg))
        if stories:
            await self.alerts.plan(stories)
        # Alerts another worker planned, or a dead chat leader left, go out from the process
        # holding the connection now, not at its next cycle (without one: nothing to do).
        return await self.alerts.flush()

    async def _resume(self, cfg: AppConfig, leases: ItemLeases) -> tuple[int, list[int]]:
        """Claim and match overdue items, and claim overdue stories for planning; returns
        (relevant count, stories to plan). A failure is logged and left for the next pass."""
        now = self.clock()
        until = leases.until()
        claim = partial(
            claim_overdue_items, owner=self.owner, now=now, until=until, limit=RESUME_BATCH
        )
        try:
            left = await self.db.run(claim)
            relevant, stories = 0, list[int]()
            if left:
                logger.warning(
                    "matching %d item(s) whose matching was cut short (a process stopped or "
                    "died); their alerts come late",
                    len(left),
                )
                leases.add(row_id for row_id, _ in left)
                relevant, stories = await self._match_and_group(
                    cfg, [NewItem(row_id, at) for row_id, at in left], leases=leases
                )
            due = partial(claim_overdue_stories, now=now, until=until, limit=RESUME_BATCH)
            overdue = await self.db.run(due)
            if overdue:
                logger.warning("planning the alerts of %d story(ies) left unplanned", len(overdue))
            return relevant, list(dict.fromkeys([*stories, *overdue]))
        except Exception:
            logger.exception("taking up work earlier cycles left unfinished failed")
            return 0, []

    async def _tell_admins_of_feed_health(self, outcomes: Sequence[FeedOutcome]) -> None:
        """Pushed, not only shown on request: a feed gone (410), one that starts failing, and
        one that works again after its admins were told."""
        for outcome in outcomes:
            text = (
                f"newsbot: {outcome.message}"
                if outcome.status is FeedStatus.GONE
                else outcome.admins_told
            )
            if text is None:
                continue
            try:
                await self.alerts.notify_all_admins(text)
            except Exception:  # telling admins must not cost the cycle its alerts
                logger.exception("could not tell the admins about feed %s", outcome.feed_id)

    async def _title_only(
        self, cfg: AppConfig, new_items: Sequence[NewItem]
    ) -> tuple[int, list[int], FlushReport]:
        """Title-only items matched again on their article's lead; the ones it makes relevant
        are grouped and delivered. A failure here is logged: the cycle's alerts are out."""
        try:
            enriched = await enrich_title_only(
                self.db, cfg, [n.id for n in new_items], now=self.clock, resolver=self.resolver
            )
            if not enriched:
                return 0, [], FlushReport()
            count, stories = await self._match_and_group(cfg, enriched, isolate_failures=True)
            if not stories:
                return count, [], FlushReport()
            await self.alerts.plan(stories)
            return count, stories, await self.alerts.flush()
        except Exception:
            logger.exception("giving title-only items their article's text failed")
            return 0, [], FlushReport()

    async def _match_and_group(
        self,
        cfg: AppConfig,
        new_items: Sequence[NewItem],
        *,
        leases: ItemLeases | None = None,
        isolate_failures: bool = False,
    ) -> tuple[int, list[int]]:
        """Match and group in chunks, each read back from the database: a new feed's backlog
        can be thousands of items, and holding them all at once would hold all their memory.

        With ``leases``, only the items this process still holds are matched (their leases come
        off in the same transaction), and each touched story is due for planning within a
        lease period. With ``isolate_failures`` (always, with ``leases``), a chunk that fails
        is tried again one item at a time, so one item the matcher cannot handle holds back
        only itself (its lease runs out and a later pass tries again).
        """
        isolate_failures = isolate_failures or leases is not None
        ordered = [n.id for n in sorted(new_items, key=lambda n: (n.at, n.id))]
        matcher = Matcher.from_config(cfg)
        grouper = StoryGrouper(cfg)
        relevant = 0
        touched: dict[int, None] = {}
        chunks = [ordered[i : i + MATCH_CHUNK] for i in range(0, len(ordered), MATCH_CHUNK)]
        while chunks:
            chunk = chunks.pop(0)
            step = partial(
                match_and_group_stored,
                matcher=matcher,
                grouper=grouper,
                ids=chunk,
                owner=leases.owner if leases else None,
                plan_by=leases.until() if leases else None,
            )
            try:
                count, stories = await self.db.run(step)
            except Exception:
                if not isolate_failures:
                    raise
                if len(chunk) > 1:
                    chunks[:0] = [[row_id] for row_id in chunk]
                else:
                    logger.exception("item %d could not be matched; next cycle tries again", *chunk)
                continue
            if leases is not None:
                leases.done(chunk)
            relevant += count
            touched.update(dict.fromkeys(stories))
        return relevant, list(touched)


def match_and_group_stored(
    session: Tx,
    matcher: Matcher,
    grouper: StoryGrouper,
    ids: Sequence[int],
    *,
    owner: str | None = None,
    plan_by: datetime | None = None,
) -> tuple[int, list[int]]:
    """``match_and_group`` for stored items, read in the order of ``ids``. With ``owner``,
    only the items it still holds a lease on, and the leases taken off in this transaction;
    the stories touched are due for planning by ``plan_by``."""
    if owner is not None:
        held = take_items(session, owner, ids)
        ids = [i for i in ids if i in held]
    count, stories = match_and_group(session, matcher, grouper, load_items(session, ids))
    if plan_by is not None and stories:
        plan_due(session, stories, plan_by)
    return count, stories


def match_and_group(
    session: Tx, matcher: Matcher, grouper: StoryGrouper, items: Sequence[Item]
) -> tuple[int, list[int]]:
    """Match new items and group the relevant ones; returns (relevant count, stories touched).

    Items come in publication order so a story's first report is the earliest one. Matches and
    story items are written in bulk.
    """
    if not items:
        return 0, []
    matches = [matcher.match(item) for item in items]
    save_matches(session, matches)
    pairs = [(item, m) for item, m in zip(items, matches, strict=True) if m.relevant]
    assigned = grouper.assign_many(session, pairs)
    touched = list(dict.fromkeys(a.story_id for a in assigned))
    return len(pairs), touched


def _sum(a: FlushReport, b: FlushReport) -> FlushReport:
    return FlushReport(
        a.posted + b.posted, a.updated + b.updated, a.failed + b.failed, a.paused + b.paused
    )


def _log_outcome(outcome: FeedOutcome) -> None:
    if outcome.status in ("failed", "gone"):
        logger.warning("%s", outcome.message)
    else:
        logger.debug("%s", outcome.message)
