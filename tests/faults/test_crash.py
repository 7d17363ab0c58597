"""SIGKILL a running `newsbot run` at chosen stages, restart it, and every relevant item is
posted to the (fake) Slack exactly once, no later than one lease period plus a cycle after the
restart. The kill is timed by watching what the process does from outside (its feed requests,
its database rows, its posts, its log), never by hooks inside it.

On SQLite always; on PostgreSQL when NEWSBOT_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.tables import FeedRow, ItemRow, StoryRow
from tests.conftest import POSTGRES_URL
from tests.fakes.fake_slack import FakeSlack, SlackCall
from tests.faults.crashbot import (
    INTERVAL,
    LEASE,
    BotProcess,
    Site,
    alert_state,
    database_url,
    item,
    posts,
    prepare,
    write_config,
)
from tests.feedserver import FeedServer

# The restart's bound: one lease period plus a cycle (a tick's wait and the cycle's own run,
# here at most a few seconds on a loaded two-core machine).
CYCLE = INTERVAL + 4.0
BOUND = LEASE + CYCLE
SLOW = 3.0  # a feed's answer delay, to hold a cycle in its fetch stage
STUCK = 8.0  # a fetch a clean stop must not wait for

DIALECTS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL,
            reason="NEWSBOT_TEST_POSTGRES_URL is unset; set it to also crash on PostgreSQL",
        ),
    ),
]


async def _poll(db: Database, query: Callable[[Session], bool]) -> bool:
    return await asyncio.to_thread(db.transaction, query)


async def _watch(
    bot: BotProcess, db: Database, query: Callable[[Session], bool], what: str
) -> None:
    """Wait until the database shows ``query`` true (checked as often as it can)."""
    deadline = time.monotonic() + 60
    while not await _poll(db, query):
        assert bot.proc.returncode is None, f"newsbot exited before {what}:\n{bot.output}"
        assert time.monotonic() < deadline, f"never saw {what}:\n{bot.output}"


def _leased_items(s: Session) -> bool:
    return bool(s.scalar(select(func.count()).where(ItemRow.work_owner.is_not(None))))


def _leased_feeds(s: Session) -> bool:
    return bool(s.scalar(select(func.count()).where(FeedRow.lease_owner.is_not(None))))


def _grouped_unplanned(s: Session) -> bool:
    return bool(s.scalar(select(func.count()).where(StoryRow.plan_due_at.is_not(None))))


async def _restart_and_check(
    site: Site, url: str, config: Path, fake: FakeSlack, db: Database, stage: str, *, says: str = ""
) -> BotProcess:
    """Start again; everything relevant is posted, once, within the bound after restart."""
    if says:  # the kill left work in the database (before it, the reports wait on the feed)
        assert not alert_state(db, posts(fake)).settled, f"the kill {stage} left nothing"
    bot = await BotProcess.start(url, config, fake)
    await bot.wait_for_line("newsbot running")
    assert bot.ready_at is not None

    served = site.served()

    def settled() -> bool:
        state = alert_state(db, posts(fake))
        return state.settled and state.stored_items >= served

    while not await asyncio.to_thread(settled):
        late = time.monotonic() - bot.ready_at
        assert late < BOUND, f"after a kill {stage}: alerts still missing {late:.1f}s after restart"
        assert bot.proc.returncode is None, bot.output
        await asyncio.sleep(0.1)
    assert says in bot.output, f"after a kill {stage}: the restart never said {says!r}"
    duplicates = {d: n for d, n in posts(fake).items() if n > 1}
    assert not duplicates, f"after a kill {stage}: posted more than once: {duplicates}"
    return bot


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_killed_at_each_stage_every_relevant_item_is_posted_once_soon_after_restart(
    dialect: str, tmp_path: Path, feed_server: FeedServer, fake: FakeSlack
) -> None:
    site = Site(feed_server)
    feeds = {
        "Fast outlet": feed_server.url("/fast.xml"),
        "Slow outlet": feed_server.url("/slow.xml"),
    }
    config = write_config(tmp_path, feeds)
    with database_url(dialect, tmp_path, POSTGRES_URL) as url:
        db = prepare(url, config, fake)
        try:
            # The first cycle stores each feed's backlog, alerting nothing.
            bot = await BotProcess.start(url, config, fake)
            await bot.wait_for_line("cycle:")

            # During fetch: the slow feed's new reports are on their way when the bot dies.
            site.slow.extend(site.next_reports())
            site.publish(slow_delay=SLOW)
            asked = len(feed_server.requests_for("/slow.xml"))
            await bot.wait_for(
                lambda: len(feed_server.requests_for("/slow.xml")) > asked, "a slow fetch", 30
            )
            await bot.kill()
            site.publish(slow_delay=None)
            bot = await _restart_and_check(site, url, config, fake, db, "during fetch")

            # Just after storing: the fast feed's reports are stored (their matching leased)
            # while the slow feed still holds the cycle in its fetch stage.
            site.fast.extend(site.next_reports())
            site.publish(slow_delay=SLOW)
            await _watch(bot, db, _leased_items, "items stored and not matched")
            await bot.kill()
            site.publish(slow_delay=None)
            bot = await _restart_and_check(
                site,
                url,
                config,
                fake,
                db,
                "just after storing",
                says="whose matching was cut short",
            )

            # After match, before plan: a big batch matched a thousand at a time, the first
            # thousand holding the relevant reports; the kill lands once a story is grouped
            # and its alert is not planned yet.
            reports = site.next_reports()
            filler = [
                item(
                    site.other[0],
                    title=f"Council notice {n}",
                    url=f"https://local.example/{n}",
                    summary=f"The borough publishes notice number {n} on road works.",
                    published="2030-01-01",
                )
                for n in range(2200)
            ]
            site.fast.extend([*reports, *filler])
            site.publish(slow_delay=None)
            await _watch(bot, db, _grouped_unplanned, "a story grouped, its alert unplanned")
            await bot.kill()
            assert await _poll(db, _grouped_unplanned), "the kill missed its stage"
            bot = await _restart_and_check(
                site, url, config, fake, db, "after match, before plan", says="left unplanned"
            )

            # A clean stop mid-fetch: the slow fetch is cut short and its feed given back at
            # once (not when its lease runs out), and the restart's first cycle takes it.
            site.slow.extend(site.next_reports())
            site.publish(slow_delay=STUCK)
            asked = len(feed_server.requests_for("/slow.xml"))
            await bot.wait_for(
                lambda: len(feed_server.requests_for("/slow.xml")) > asked, "a slow fetch", 30
            )
            stopping = time.monotonic()
            assert await bot.stop() == 0, bot.output
            assert time.monotonic() - stopping < STUCK / 2, "the stop waited for the fetch"
            assert "fetches cut short, their feeds given back" in bot.output
            assert not await _poll(db, _leased_feeds), "a clean stop left feeds leased"
            site.publish(slow_delay=None)
            bot = await _restart_and_check(site, url, config, fake, db, "a clean stop mid-fetch")

            # At start: new reports wait on the feed, and the bot dies while it starts.
            site.slow.extend(site.next_reports())
            site.publish(slow_delay=None)
            await bot.kill()
            bot = await BotProcess.start(url, config, fake)
            await bot.wait_for(lambda: bool(bot.lines), "a first log line", 30)
            await bot.kill()
            bot = await _restart_and_check(site, url, config, fake, db, "at start")

            assert await bot.stop() == 0, bot.output
            state = alert_state(db, posts(fake))
            assert state.relevant_items >= 8, "too few relevant reports to show anything"
            assert sorted(map(int, posts(fake))) == sorted(state.story_deliveries.values())
        finally:
            db.close()


async def test_killed_between_the_chat_call_and_its_settle_the_alert_shows_once_soon_after(
    tmp_path: Path, feed_server: FeedServer, fake: FakeSlack
) -> None:
    site = Site(feed_server)
    feeds = {
        "Fast outlet": feed_server.url("/fast.xml"),
        "Slow outlet": feed_server.url("/slow.xml"),
    }
    config = write_config(tmp_path, feeds)
    with database_url("sqlite", tmp_path, None) as url:
        db = prepare(url, config, fake)
        try:
            bot = await BotProcess.start(url, config, fake)
            await bot.wait_for_line("cycle:")
            victim = bot.proc.pid
            armed = True

            def post_then_die(call: SlackCall) -> dict[str, Any]:
                # Slack keeps the message; the bot dies before it hears so (and settles).
                nonlocal armed
                answer = fake._m_chat_postMessage(call)
                if armed:
                    armed = False
                    os.kill(victim, signal.SIGKILL)
                return answer

            fake.set_response("chat.postMessage", post_then_die)
            site.fast.extend(site.next_reports(stories=4))
            site.publish(slow_delay=None)
            await bot.proc.wait()
            await bot.kill()
            bot = await _restart_and_check(site, url, config, fake, db, "during delivery")
            assert await bot.stop() == 0, bot.output
        finally:
            db.close()
