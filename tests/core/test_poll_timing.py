"""The configured interval holds: a feed due a few ms after a tick is polled at that tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.config import PollConfig
from bot.core.ingest import Poller
from bot.core.schedule import due_tolerance
from bot.storage.db import Database
from bot.storage.feeds import add_feed
from tests.feedserver import FeedServer

START = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
# How late each cycle reads its clock after its tick (scheduler wake-up, config load): it
# varies from cycle to cycle, so a cycle often starts earlier after its tick than the last one.
LATENESS_MS = (48, 3, 31, 0, 17, 2, 44, 9)


@pytest.mark.parametrize(("minutes", "expected"), [(15, 4), (10, 6)])
async def test_an_hour_of_ticks_polls_each_feed_once_per_interval(
    db: Database, minutes: int, expected: int
) -> None:
    # Each fetch takes real time (10–40 ms), as a site's answer does.
    async with FeedServer(latency=(0.01, 0.04), seed=7) as server:
        paths = [f"/feed-{n}" for n in range(3)]
        for path in paths:
            url = server.add_feed(path, [{"title": f"{path} story", "guid": path}])
            await db.run(lambda s, u=url: add_feed(s, u, u, now=START, allow_private=True))
        poll = PollConfig(interval=minutes * 60, timeout=5)
        poller = Poller(db, poll)
        ticks = [START + timedelta(minutes=minutes * k) for k in range(60 // minutes)]
        for k, tick in enumerate(ticks):
            await poller.poll_due(tick + timedelta(milliseconds=LATENESS_MS[k % 8]))
        # The scheduler's next tick, an hour on: the first poll of the next hour, not counted.
        assert ticks[-1] + timedelta(minutes=minutes) == START + timedelta(hours=1)

        polls = {path: len(server.requests_for(path)) for path in paths}
    assert polls == dict.fromkeys(paths, expected)


def test_the_tolerance_is_a_small_fraction_of_the_interval() -> None:
    assert due_tolerance(900) == timedelta(seconds=45)
    assert due_tolerance(600) == timedelta(seconds=30)
    assert due_tolerance(3600) == timedelta(minutes=1)  # never more than a minute early
