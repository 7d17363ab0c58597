"""Three `newsbot run` workers on one PostgreSQL share 1,000 loopback feeds; one is
SIGKILLed mid-cycle. No feed is fetched twice in the cycle (but the ones the dead worker had
claimed and not finished, fetched again once), the dead worker's feeds are fetched within
one lease period of its death, and no alert is posted twice.

What is asserted is the work sharing (feeds, items, outbox); one chat connection per platform
and one digest per period belong to the leader election, tested with it.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import Counter
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.settings import DEFAULT_CONFIG
from bot.storage.tables import FeedRow
from tests.conftest import POSTGRES_URL
from tests.fakes.fake_slack import FakeSlack
from tests.faults.crashbot import (
    LEASE,
    BotProcess,
    Site,
    alert_state,
    database_url,
    posts,
    prepare,
)
from tests.feedserver import FeedServer

pytestmark = pytest.mark.skipif(
    not POSTGRES_URL,
    reason="NEWSBOT_TEST_POSTGRES_URL is unset; workers share work only on PostgreSQL",
)

FEEDS = 1000
WORKERS = 3
SLACK = 1.0  # seconds past the lease for the taking worker's claim to reach the feed


def _config(tmp_path: Path, server: FeedServer) -> Path:
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["feeds"] = [
        {"name": f"Outlet {n}", "url": server.url(f"/f{n}.xml"), "allow_private": True}
        for n in range(FEEDS)
    ]
    # One cycle in the test's time (a long interval), a short lease, the first poll alerting.
    data["poll"].update(
        interval="10m", lease=f"{LEASE}s", max_age=0, concurrency=20, alert_on_first_poll=True
    )
    path = tmp_path / "newsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


async def test_three_workers_share_the_feeds_and_take_up_a_killed_ones_at_once(
    tmp_path: Path, fake: FakeSlack
) -> None:
    # Every site answers in 0.3–0.6 s, so a cycle over 1,000 feeds outlasts the lease.
    async with FeedServer(latency=(0.3, 0.6)) as server:
        site = Site(server)  # the labelled reports; /fast.xml and /slow.xml go unpolled
        reports = site.next_reports(stories=6)
        for n in range(FEEDS):
            filler = {"title": f"Council notice {n}", "url": f"https://local.example/{n}",
                      "summary": f"The borough publishes notice {n} on road works.",
                      "published": "2030-01-01", "guid": f"notice-{n}"}  # fmt: skip
            carried = [reports[n // 100]] if n % 100 == 0 and n // 100 < len(reports) else []
            server.add_feed(f"/f{n}.xml", [filler, *carried], last_modified=None)
        config = _config(tmp_path, server)
        with database_url("postgresql", tmp_path, POSTGRES_URL) as url:
            db = prepare(url, config, fake)
            workers = [await BotProcess.start(url, config, fake) for _ in range(WORKERS)]
            try:
                for w in workers:
                    await w.wait_for_line("newsbot running", timeout=60)
                victim = workers[0]
                owner = f"{socket.gethostname()}:{victim.proc.pid}"

                def held() -> list[str]:
                    query = select(FeedRow.url).where(FeedRow.lease_owner == owner)
                    return list(db.transaction(lambda s: s.scalars(query).all()))

                # Mid-cycle: a fifth of the feeds asked, and the victim holding claims.
                await victim.wait_for(lambda: len(server.requests) >= FEEDS // 5, "fetches", 60)
                while not await asyncio.to_thread(held):
                    assert victim.proc.returncode is None, victim.output
                    await asyncio.sleep(0.01)
                await victim.kill()
                killed_at = time.monotonic()
                orphans = {u.rsplit("/", 1)[1] for u in await asyncio.to_thread(held)}
                assert orphans, "the victim held no claims when it died"
                asked_before = Counter(r.path.lstrip("/") for r in server.requests)

                # The dead worker's feeds: each asked again within a lease period.
                taken: dict[str, float] = {}
                while len(taken) < len(orphans):
                    since = Counter(r.path.lstrip("/") for r in server.requests)
                    now = time.monotonic()
                    for path in orphans:
                        if path not in taken and since[path] > asked_before[path]:
                            taken[path] = now - killed_at
                    late = now - killed_at
                    assert late < LEASE + SLACK, (
                        f"{len(orphans) - len(taken)} of the dead worker's {len(orphans)} feeds "
                        f"not fetched {late:.1f}s after it died"
                    )
                    await asyncio.sleep(0.05)

                # The cycle ends with every feed fetched, none twice but the orphans.
                await workers[1].wait_for(
                    lambda: len({r.path for r in server.requests}) >= FEEDS, "every feed", 60
                )
                asked = Counter(r.path.lstrip("/") for r in server.requests)
                twice = {p: n for p, n in asked.items() if n > 1 and p not in orphans}
                assert not twice, f"fetched twice in one cycle: {sorted(twice)[:10]}"
                assert all(asked[p] <= 2 for p in orphans)

                # Every relevant report alerts once, whichever worker stored it.
                deadline = time.monotonic() + LEASE + 10
                state = alert_state(db, posts(fake))
                while not state.settled:
                    assert time.monotonic() < deadline, f"alerts unsettled: {state}"
                    await asyncio.sleep(0.2)
                    state = await asyncio.to_thread(alert_state, db, posts(fake))
                assert state.relevant_items >= 3, "too few relevant reports to show anything"
                assert not {d: n for d, n in posts(fake).items() if n > 1}, "posted twice"
                print(f"orphans {len(orphans)} taken after {max(taken.values()):.1f}s at most")
            finally:
                for w in workers[1:]:
                    assert await w.stop() == 0, w.output
                db.close()
