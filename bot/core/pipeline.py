"""One poll cycle, end to end: fetch → parse → store → match → group → summarise → deliver."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.delivery import Delivery, FlushReport
from bot.core.matching import Matcher
from bot.core.models import Item
from bot.core.poller import FeedOutcome, NewItem, Poller
from bot.core.stories import StoryGrouper
from bot.storage.db import Database
from bot.storage.items import load_items
from bot.storage.runtime import load_runtime
from bot.storage.stories import save_matches

logger = logging.getLogger(__name__)

MATCH_CHUNK = 1000  # items matched and grouped per transaction


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
    ) -> None:
        self.db = db
        self.delivery = delivery
        self.clock = clock

    async def tick(self) -> datetime | None:
        """The scheduler's poll job: one cycle; returns when a failed feed should be retried."""
        return (await self.run_cycle()).next_retry

    async def run_cycle(self, *, force: bool = False) -> CycleReport:
        started = time.perf_counter()
        cfg = await self.db.run(load_runtime)
        poller = Poller(self.db, cfg.poll, clock=self.clock)
        result = await poller.poll_due(self.clock(), force=force)
        for outcome in result.outcomes:
            _log_outcome(outcome)
        relevant, story_ids = await self._match_and_group(cfg, result.new_items)
        await self.delivery.plan(story_ids)
        flushed = await self.delivery.flush()
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

    async def _match_and_group(
        self, cfg: AppConfig, new_items: Sequence[NewItem]
    ) -> tuple[int, list[int]]:
        """Match and group in chunks, each read back from the database: a new feed's backlog
        can be thousands of items, and holding them all at once would hold all their memory.
        """
        ordered = [n.id for n in sorted(new_items, key=lambda n: (n.at, n.id))]
        matcher = Matcher.from_config(cfg)
        grouper = StoryGrouper(cfg)
        relevant = 0
        touched: dict[int, None] = {}
        for start in range(0, len(ordered), MATCH_CHUNK):
            chunk = ordered[start : start + MATCH_CHUNK]
            step = partial(match_and_group_stored, matcher=matcher, grouper=grouper, ids=chunk)
            count, stories = await self.db.run(step)
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


def _log_outcome(outcome: FeedOutcome) -> None:
    if outcome.status == "failed":
        logger.warning("%s", outcome.message)
    else:
        logger.debug("%s", outcome.message)
