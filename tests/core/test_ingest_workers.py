"""Several workers on one database share the due feeds: each claims a batch it can fetch
now, more as it goes, renews its claims while fetching and gives them back when stopped."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.config import PollConfig
from bot.core.feedleases import release_stale
from bot.core.ingest import Poller
from bot.storage.db import Database
from bot.storage.feeds import add_feed
from bot.storage.tables import FeedRow
from tests.feedserver import FeedServer

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
POLL = PollConfig(interval=900, timeout=10, concurrency=10, lease=30)


async def _feeds(db: Database, server: FeedServer, count: int, delay: float) -> list[str]:
    paths = [f"/feed-{n}.xml" for n in range(count)]
    for n, path in enumerate(paths):
        item = {"title": f"Report {n}", "url": f"https://news.example.org/{n}", "guid": f"g{n}"}
        server.add_feed(path, [item], delay=delay)

    def add_all(s: object) -> None:
        for path in paths:
            add_feed(s, server.url(path), path, now=NOW, allow_private=True)  # type: ignore[arg-type]

    await db.run(add_all)
    return paths


async def _leases(db: Database) -> dict[str, str | None]:
    rows = await db.run(lambda s: list(s.execute(select(FeedRow.url, FeedRow.lease_owner))))
    return {url: owner for url, owner in rows}


def _fetches(server: FeedServer) -> Counter[str]:
    return Counter(r.path for r in server.requests)


async def test_two_workers_split_the_due_feeds_and_fetch_none_twice(
    db: Database, feed_server: FeedServer
) -> None:
    paths = await _feeds(db, feed_server, 120, delay=0.02)
    one, two = Poller(db, POLL, owner="host-a:1"), Poller(db, POLL, owner="host-b:1")

    first, second = await asyncio.gather(one.poll_due(NOW), two.poll_due(NOW))

    fetched = _fetches(feed_server)
    assert set(fetched) == set(paths)
    assert max(fetched.values()) == 1
    shares = sorted([len(first.outcomes), len(second.outcomes)])
    assert sum(shares) == 120
    assert shares[0] >= 20, f"one worker took nearly everything: {shares}"
    assert set((await _leases(db)).values()) == {None}


async def test_a_worker_claims_only_a_batch_it_can_fetch_at_once(
    db: Database, feed_server: FeedServer
) -> None:
    await _feeds(db, feed_server, 40, delay=1.0)
    worker = Poller(db, POLL, owner="host-a:1")

    cycle = asyncio.create_task(worker.poll_due(NOW))
    await asyncio.sleep(0.5)
    held = Counter(owner for owner in (await _leases(db)).values() if owner)
    cycle.cancel()
    await asyncio.gather(cycle, return_exceptions=True)

    assert held == {"host-a:1": POLL.concurrency}


async def test_a_stopped_worker_gives_its_claims_back_for_another_to_take_at_once(
    db: Database, feed_server: FeedServer
) -> None:
    paths = await _feeds(db, feed_server, 30, delay=0.6)
    stopping = Poller(db, POLL, owner="host-a:1")

    cycle = asyncio.create_task(stopping.poll_due(NOW))
    await asyncio.sleep(0.3)
    cycle.cancel()
    await asyncio.gather(cycle, return_exceptions=True)
    assert set((await _leases(db)).values()) == {None}

    taken = await Poller(db, POLL, owner="host-b:1").poll_due(NOW + timedelta(seconds=1))

    assert len(taken.outcomes) == len(paths)


async def test_a_crashed_workers_feeds_are_taken_over_once_its_lease_runs_out(
    db: Database, feed_server: FeedServer
) -> None:
    await _feeds(db, feed_server, 5, delay=0.0)
    until = NOW + timedelta(seconds=POLL.lease)
    await db.run(
        lambda s: s.execute(update(FeedRow).values(lease_owner="gone:7", lease_until=until))
    )
    other = Poller(db, POLL, owner="host-b:1")

    assert (await other.poll_due(NOW + timedelta(seconds=POLL.lease - 1))).outcomes == []
    assert len((await other.poll_due(until)).outcomes) == 5


async def test_claims_are_renewed_while_a_slow_fetch_runs(
    db: Database, feed_server: FeedServer
) -> None:
    await _feeds(db, feed_server, 1, delay=2.5)
    poll = POLL.model_copy(update={"lease": 6.0})
    clock_start = datetime.now(UTC)
    worker = Poller(db, poll, owner="host-a:1")

    cycle = asyncio.create_task(worker.poll_due(clock_start))
    await asyncio.sleep(2.2)
    renewed = await db.run(lambda s: s.scalar(select(FeedRow.lease_until)))
    await cycle

    assert renewed is not None
    assert renewed.replace(tzinfo=UTC) > clock_start + timedelta(seconds=6.5)


async def test_at_start_leases_of_this_process_and_of_dead_ones_on_this_host_are_released(
    db: Database, feed_server: FeedServer
) -> None:
    await _feeds(db, feed_server, 4, delay=0.0)
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await child.wait()
    dead = child.pid  # exited and reaped: no process has this id now
    owners = ["box:4242", f"box:{dead}", "box:1", "elsewhere:99"]  # pid 1 is alive on any host
    later = NOW + timedelta(hours=1)

    def lease_each(s: object) -> None:
        ids = list(s.scalars(select(FeedRow.id).order_by(FeedRow.id)))  # type: ignore[attr-defined]
        for feed_id, owner in zip(ids, owners, strict=True):
            s.execute(  # type: ignore[attr-defined]
                update(FeedRow)
                .where(FeedRow.id == feed_id)
                .values(lease_owner=owner, lease_until=later)
            )

    await db.run(lease_each)

    released = await release_stale(db, owner="box:4242")

    assert released == 2
    assert sorted(o for o in (await _leases(db)).values() if o) == ["box:1", "elsewhere:99"]
