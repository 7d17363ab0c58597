"""The real AsyncIOScheduler fires the poll job, survives a failing cycle, and stops cleanly."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.schedule import POLL_JOB, BotScheduler, missed_digest


async def test_the_scheduler_fires_the_poll_job_on_its_interval() -> None:
    fired: list[float] = []
    twice = asyncio.Event()

    async def poll() -> None:
        fired.append(asyncio.get_running_loop().time())
        if len(fired) >= 2:
            twice.set()

    scheduler = BotScheduler(poll, interval=0.05)
    scheduler.start()
    try:
        await asyncio.wait_for(twice.wait(), timeout=5)
    finally:
        await scheduler.shutdown()
    assert len(fired) >= 2
    assert not scheduler.scheduler.running


async def test_a_failing_cycle_does_not_stop_the_schedule() -> None:
    calls = 0
    recovered = asyncio.Event()

    async def poll() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("feed store exploded")
        recovered.set()

    scheduler = BotScheduler(poll, interval=0.05)
    scheduler.start()
    try:
        await asyncio.wait_for(recovered.wait(), timeout=5)
    finally:
        await scheduler.shutdown()
    assert calls >= 2


async def test_shutdown_waits_for_the_cycle_in_progress() -> None:
    started = asyncio.Event()
    finished: list[bool] = []

    async def poll() -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(True)

    scheduler = BotScheduler(poll, interval=60)
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await scheduler.shutdown(grace=5)
    assert finished == [True]


async def test_shutdown_waits_for_the_resume_pass_in_progress() -> None:
    """Cancelled, a pass would leave its worker thread writing after the database closed."""
    started = asyncio.Event()
    finished: list[bool] = []

    async def poll() -> None:
        return None

    async def resume() -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append(True)

    scheduler = BotScheduler(poll, interval=60, resume=resume, resume_every=0.05)
    scheduler.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    await scheduler.shutdown(grace=5)
    assert finished == [True]


async def test_rescheduling_changes_the_running_jobs_interval() -> None:
    async def poll() -> None:
        return None

    scheduler = BotScheduler(poll, interval=900)
    scheduler.start()
    try:
        scheduler.reschedule_poll(120)
        job = scheduler.scheduler.get_job(POLL_JOB)
        assert job is not None
        assert job.trigger.interval.total_seconds() == 120
    finally:
        await scheduler.shutdown()


async def test_a_failed_feeds_retry_time_brings_the_next_poll_forward() -> None:
    calls = 0
    retried = asyncio.Event()

    async def poll() -> datetime | None:
        nonlocal calls
        calls += 1
        if calls == 2:
            retried.set()
        # The first cycle had a failing feed due again in 50 ms; the interval is an hour.
        return datetime.now(UTC) + timedelta(milliseconds=50) if calls == 1 else None

    scheduler = BotScheduler(poll, interval=3600)
    scheduler.start()
    try:
        await asyncio.wait_for(retried.wait(), timeout=5)
    finally:
        await scheduler.shutdown()
    assert calls == 2


def test_a_digest_due_while_the_bot_was_down_is_found_within_the_grace() -> None:
    daily = {"every": "daily", "at": "08:00", "tz": "Asia/Kolkata"}  # 02:30 UTC
    sent = datetime(2025, 11, 2, 2, 30, tzinfo=UTC)
    at_start = datetime(2025, 11, 3, 3, 0, tzinfo=UTC)  # half an hour after today's was due
    assert missed_digest(daily, sent, at_start) == datetime(
        2025, 11, 3, 8, 0, tzinfo=ZoneInfo("Asia/Kolkata")
    )
    assert missed_digest(daily, sent, at_start + timedelta(hours=2)) is None  # beyond the grace
    assert missed_digest(daily, at_start, at_start + timedelta(minutes=5)) is None  # sent already
    assert missed_digest(daily, sent, datetime(2025, 11, 3, 2, 0, tzinfo=UTC)) is None  # not yet
