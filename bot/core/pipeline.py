"""One poll cycle, end to end: fetch → parse → store → match → group → summarise → deliver."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.delivery import Delivery, FlushReport
from bot.core.enrichment import enrich_title_only
from bot.core.feedleases import release_stale
from bot.core.feedstate import FeedOutcome, FeedStatus
from bot.core.fetch import Resolver
from bot.core.ingest import NewItem, Poller
from bot.core.matching import Matcher
from bot.core.models import Item
from bot.core.stories import StoryGrouper
from bot.storage.db import Database
from bot.storage.items import load_items, unmatched_items
from bot.storage.runtime import load_runtime
from bot.storage.stories import save_matches

logger = logging.getLogger(__name__)

MATCH_CHUNK = 1000  # items matched and grouped per transaction
# A cycle that dies between storing items and matching them (a crash, a database error)
# leaves them unmatched, and no later poll reports them as new. Each cycle takes up what is
# older than SETTLE (far longer than any cycle takes from storing to matching, so never items
# another process is still working on) and younger than WINDOW (so the query stays a short
# index range scan, and a day-old item is not news worth a late alert).
RECOVER_SETTLE = timedelta(minutes=10)
RECOVER_WINDOW = timedelta(days=1)


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
        delivery: Delivery,
        *,
        clock: Callable[[], datetime] = _now,
        resolver: Resolver | None = None,
    ) -> None:
        self.db = db
        self.delivery = delivery
        self.clock = clock
        self.resolver = resolver  # the DNS feeds are fetched through; None: the system's
        self._leases_checked = False

    async def tick(self) -> datetime | None:
        """The scheduler's poll job: one cycle; returns when a failed feed should be retried."""
        return (await self.run_cycle()).next_retry

    async def run_cycle(self, *, force: bool = False) -> CycleReport:
        started = time.perf_counter()
        now = self.clock()
        cfg = await self.db.run(load_runtime)
        if not self._leases_checked:
            # Feeds an earlier life of this process (or a dead neighbour on this host) had
            # claimed are polled in this first cycle, not after their leases run out.
            await release_stale(self.db)
            self._leases_checked = True
        poller = Poller(self.db, cfg.poll, clock=self.clock, resolver=self.resolver)
        result = await poller.poll_due(now, force=force)
        for outcome in result.outcomes:
            _log_outcome(outcome)
        await self._tell_admins_of_gone_feeds(result.outcomes)
        relevant, story_ids = await self._match_and_group(cfg, result.new_items)
        more_relevant, more_stories = await self._recover_unmatched(cfg, now)
        relevant += more_relevant
        story_ids = list(dict.fromkeys([*story_ids, *more_stories]))
        await self.delivery.plan(story_ids)
        flushed = await self.delivery.flush()
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

    async def _tell_admins_of_gone_feeds(self, outcomes: Sequence[FeedOutcome]) -> None:
        for outcome in outcomes:
            if outcome.status is not FeedStatus.GONE:
                continue
            try:
                await self.delivery.notify_all_admins(f"newsbot: {outcome.message}")
            except Exception:  # telling admins must not cost the cycle its alerts
                logger.exception("could not tell the admins that feed %s is gone", outcome.feed_id)

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
            await self.delivery.plan(stories)
            return count, stories, await self.delivery.flush()
        except Exception:
            logger.exception("giving title-only items their article's text failed")
            return 0, [], FlushReport()

    async def _recover_unmatched(self, cfg: AppConfig, now: datetime) -> tuple[int, list[int]]:
        """Match and group what earlier cycles stored but never matched, as ``_match_and_group``.
        A failure here is logged and left for the next cycle; it must not cost this cycle's
        alerts."""
        find = partial(unmatched_items, since=now - RECOVER_WINDOW, before=now - RECOVER_SETTLE)
        try:
            left = await self.db.run(find)
            if not left:
                return 0, []
            logger.warning(
                "matching %d item(s) an earlier cycle stored but did not match "
                "(it was cut short); their alerts come late",
                len(left),
            )
            return await self._match_and_group(
                cfg, [NewItem(row_id, at) for row_id, at in left], isolate_failures=True
            )
        except Exception:
            logger.exception("matching the items earlier cycles left unmatched failed")
            return 0, []

    async def _match_and_group(
        self, cfg: AppConfig, new_items: Sequence[NewItem], *, isolate_failures: bool = False
    ) -> tuple[int, list[int]]:
        """Match and group in chunks, each read back from the database: a new feed's backlog
        can be thousands of items, and holding them all at once would hold all their memory.

        With ``isolate_failures``, a chunk that fails is tried again one item at a time, so
        one item the matcher cannot handle holds back only itself (until the next cycle).
        """
        ordered = [n.id for n in sorted(new_items, key=lambda n: (n.at, n.id))]
        matcher = Matcher.from_config(cfg)
        grouper = StoryGrouper(cfg)
        relevant = 0
        touched: dict[int, None] = {}
        chunks = [ordered[i : i + MATCH_CHUNK] for i in range(0, len(ordered), MATCH_CHUNK)]
        while chunks:
            chunk = chunks.pop(0)
            step = partial(match_and_group_stored, matcher=matcher, grouper=grouper, ids=chunk)
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
            relevant += count
            touched.update(dict.fromkeys(stories))
        return relevant, list(touched)


def match_and_group_stored(
    session: Session, matcher: Matcher, grouper: StoryGrouper, ids: Sequence[int]
) -> tuple[int, list[int]]:
    """``match_and_group`` for stored items, read in the order of ``ids``."""
    return match_and_group(session, matcher, grouper, load_items(session, ids))


def match_and_group(
    session: Session, matcher: Matcher, grouper: StoryGrouper, items: Sequence[Item]
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
