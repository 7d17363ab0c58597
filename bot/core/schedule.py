"""APScheduler jobs: the poll job (and, later, digests and housekeeping); state lives in the DB."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

logger = logging.getLogger(__name__)

POLL_JOB = "poll"
RETRY_JOB = "poll-retry"
RELEASE_JOB = "release-held"
RESUME_JOB = "resume"
DIGEST_JOB = "digest-{}"


def due_tolerance(interval: float) -> timedelta:
    """How early a healthy feed may be claimed: a twentieth of the interval, at most a minute.

    Ticks and the clock read at each cycle's start drift by milliseconds; without slack a feed
    due just after a tick waits a whole extra interval.
    """
    return timedelta(seconds=min(interval / 20, 60.0))


def digest_trigger(digest: Mapping[str, Any]) -> CronTrigger:
    """A digest's schedule in the channel's own time zone.

    CronTrigger works in local wall-clock time of its zone, so 08:00 stays 08:00 across
    daylight-saving changes (the UTC instant moves instead).
    """
    hour, minute = (int(part) for part in str(digest["at"]).split(":"))
    tz = ZoneInfo(str(digest.get("tz") or "UTC"))
    if digest.get("every") == "weekly":
        return CronTrigger(
            day_of_week=str(digest.get("day", "mon")), hour=hour, minute=minute, timezone=tz
        )
    return CronTrigger(hour=hour, minute=minute, timezone=tz)


# A digest missed while the bot was down by less than this still goes out at start.
DIGEST_GRACE = timedelta(hours=1)


def missed_digest(
    digest: Mapping[str, Any], last: datetime | None, now: datetime, grace: timedelta = DIGEST_GRACE
) -> datetime | None:
    """When a digest was due while nothing ran (after ``last`` sent, within ``grace`` of
    ``now``), or None: a fresh start rebuilds its jobs from now on and would skip it."""
    since = now - grace if last is None else max(last, now - grace)
    due = digest_trigger(digest).get_next_fire_time(None, since + timedelta(microseconds=1))
    return due if due is not None and due <= now else None


class BotScheduler:
    """Owns the AsyncIOScheduler. Jobs are rebuilt from the database at start, so the job store
    stays in memory and a restart loses no schedule."""

    def __init__(
        self,
        poll: Callable[[], Awaitable[datetime | None]],
        *,
        interval: float,
        scheduler: AsyncIOScheduler | None = None,
        resume: Callable[[], Awaitable[object]] | None = None,
        resume_every: float = 10.0,
    ) -> None:
        self._poll = poll
        self._resume = resume
        self.resume_every = resume_every
        self.interval = interval
        self.scheduler = scheduler or AsyncIOScheduler(timezone=UTC)
        self._running: set[asyncio.Task[object]] = set()
        # The interval job and an early retry job must never poll at the same time.
        self._cycle_lock = asyncio.Lock()

    def start(self, *, first_run: datetime | None = None) -> None:
        """Start polling at once (or at ``first_run``), then every ``interval`` seconds."""
        self.scheduler.add_job(
            self._poll_job,
            IntervalTrigger(seconds=self.interval, timezone=UTC),
            id=POLL_JOB,
            name="poll feeds",
            next_run_time=first_run or datetime.now(UTC),
            # A slow cycle is never run twice at once, and missed runs collapse into one.
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )
        if self._resume is not None:
            # Work a dead worker left (items unmatched, stories unplanned) is taken up within
            # a lease period, not at the next poll, which may be fifteen minutes away.
            self.scheduler.add_job(
                self._resume_job,
                IntervalTrigger(seconds=self.resume_every, timezone=UTC),
                id=RESUME_JOB,
                name="resume unfinished work",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
                replace_existing=True,
            )
        self.scheduler.start()

    def reschedule_poll(self, interval: float) -> None:
        """Apply a new poll interval to the running job, without a restart."""
        self.interval = interval
        self.scheduler.reschedule_job(
            POLL_JOB, trigger=IntervalTrigger(seconds=interval, timezone=UTC)
        )
        logger.info("poll interval is now %ss", int(interval))

    def set_digest(
        self,
        subscription_id: int,
        digest: Mapping[str, Any],
        run: Callable[[int], Awaitable[object]],
    ) -> None:
        """Add or move one subscription's digest job (the scheduler may not be started yet)."""
        self.scheduler.add_job(
            self._tracked,
            digest_trigger(digest),
            args=(run, subscription_id),
            id=DIGEST_JOB.format(subscription_id),
            name=f"digest for subscription {subscription_id}",
            max_instances=1,
            coalesce=True,
            # A digest missed while the bot was down by less than an hour still goes out.
            misfire_grace_time=3600,
            replace_existing=True,
        )

    def remove_digest(self, subscription_id: int) -> None:
        job = self.scheduler.get_job(DIGEST_JOB.format(subscription_id))
        if job is not None:
            job.remove()

    def start_release(self, release: Callable[[], Awaitable[object]], *, every: float = 60) -> None:
        """Release alerts held by quiet hours or the hourly cap, checked every ``every`` s."""
        self.scheduler.add_job(
            self._tracked,
            IntervalTrigger(seconds=every, timezone=UTC),
            args=(release,),
            id=RELEASE_JOB,
            name="release held alerts",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    async def _tracked(self, run: Callable[..., Awaitable[object]], *args: object) -> None:
        """Run a job as one shutdown waits for: cancelled, a job would leave its worker
        thread writing after the database closed."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            await run(*args)
        finally:
            if task is not None:
                self._running.discard(task)

    async def _resume_job(self) -> None:
        assert self._resume is not None
        try:
            await self._tracked(self._resume)
        except Exception:
            logger.exception("resuming unfinished work failed; the next pass tries again")

    async def _poll_job(self) -> None:
        try:
            await self._tracked(self._cycle)
        except Exception:
            # One bad cycle must not stop the schedule; the next tick tries again.
            logger.exception("poll cycle failed; the next one runs as scheduled")

    async def _cycle(self) -> None:
        async with self._cycle_lock:
            retry_at = await self._poll()
        self._schedule_retry(retry_at)

    def _schedule_retry(self, retry_at: datetime | None) -> None:
        """A failed feed's backoff can end before the next tick: poll again when it does, so
        "retrying in 60s" holds even with a 15-minute interval."""
        job = self.scheduler.get_job(POLL_JOB)
        if retry_at is None or job is None or job.next_run_time is None:
            return
        if retry_at >= job.next_run_time:
            return
        self.scheduler.add_job(
            self._poll_job,
            DateTrigger(retry_at, timezone=UTC),
            id=RETRY_JOB,
            name="poll feeds whose backoff ended",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def shutdown(self, *, grace: float = 30.0) -> None:
        """Stop scheduling and let the jobs in progress (a cycle, a resume pass, a digest, a
        release) finish their transactions.

        The scheduler's own shutdown cancels running jobs, so new runs are paused first and
        the cycle in progress is awaited before the scheduler goes.
        """
        if self.scheduler.running:
            self.scheduler.pause()
        if self._running:
            logger.info("waiting for the poll cycle in progress to finish")
            _, pending = await asyncio.wait(set(self._running), timeout=grace)
            for task in pending:
                task.cancel()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            # AsyncIOScheduler.shutdown is queued on the loop (run_in_event_loop): let it run.
            await asyncio.sleep(0)
