"""Items flow from a loopback news site through matching and grouping to alerts, asserted on
the calls a recording chat platform received."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, text, update

from bot.adapters.console import console_channel
from bot.app import NewsBot
from bot.config import AppConfig, FeedConfig, load_config
from bot.core.feedleases import default_owner, release_stale
from bot.core.ingest import Poller
from bot.core.models import ChannelRef, Command, UserRef
from bot.core.workleases import ItemLeases
from bot.settings import DEFAULT_CONFIG
from bot.storage.configstore import load_runtime
from bot.storage.tables import DeliveryRow, ItemRow, MatchRow, StoryRow, SubscriptionRow
from tests.conftest import TESTDATA
from tests.fakes.recording import RecordingAdapter, Seen
from tests.feedserver import FeedServer
from tests.testbot import recording_bot

DEV = {
    row["id"]: row
    for row in map(json.loads, (TESTDATA / "eval" / "dev.jsonl").read_text().splitlines())
}
TIGER_ASIANET = DEV["dev-001"]  # Tiger Triumph 2024, first outlet
TIGER_HINDU = DEV["dev-002"]  # the same exercise, a second outlet
COCHIN = DEV["dev-003"]  # a US Navy repair yard in India: relevant, another story
SENSEX = DEV["dev-010"]  # markets: not relevant
OLD_RANA = DEV["dev-025"]  # not relevant; serves as a feed's backlog
ELSEWHERE = "worker-elsewhere:1"  # a worker on another host, holding leases


def _feed_item(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("title", "summary", "url", "published", "source")} | {
        "guid": row["url"]
    }


class Harness:
    def __init__(self, bot: NewsBot, chat: RecordingAdapter, server: FeedServer) -> None:
        self.bot, self.chat, self.server = bot, chat, server

    async def cycle(self) -> Seen:
        start = len(self.chat.calls)
        await self.bot.pipeline.run_cycle(force=True)
        return self.since(start)

    def since(self, start: int) -> Seen:
        return self.chat.since(start)

    async def store_only(self, *, lease_left: timedelta, owner: str = ELSEWHERE) -> int:
        """Another worker's cycle, cut short after storing its items with their matching
        leased to it: the lease runs out in ``lease_left`` (negative: it has run out)."""
        cfg = await self.bot.db.run(load_runtime)
        lease = timedelta(seconds=cfg.poll.lease)
        now = datetime.now(UTC)
        leases = ItemLeases(self.bot.db, owner, lease, clock=lambda: now + lease_left - lease)
        poller = Poller(self.bot.db, cfg.poll, item_leases=leases)
        result = await poller.poll_due(now, force=True)
        return len(result.new_items)

    async def subscribed_long_ago(self) -> None:
        """The console's subscription predates the items, as it would after a restart."""
        since = datetime(2020, 1, 1, tzinfo=UTC)
        await self.bot.db.run(lambda s: s.execute(update(SubscriptionRow).values(since=since)))

    async def count(self, table: type[Any]) -> int:
        return await self.bot.db.run(
            lambda s: s.scalar(select(func.count()).select_from(table)) or 0
        )


@asynccontextmanager
async def open_harness(
    feed_server: FeedServer, tmp_path: Path, *, max_age: float | None
) -> AsyncIterator[Harness]:
    """The bot on two loopback feeds; ``max_age`` None keeps the config file's poll.max_age."""
    for path in ("a.xml", "b.xml"):
        feed_server.add_feed(path, [_feed_item(OLD_RANA)])
    base = load_config(DEFAULT_CONFIG)
    feeds = [
        FeedConfig.model_validate(
            {"url": feed_server.url(p), "name": f"Outlet {p[0].upper()}", "allow_private": True}
        )
        for p in ("a.xml", "b.xml")
    ]
    poll = base.poll if max_age is None else base.poll.model_copy(update={"max_age": max_age})
    cfg: AppConfig = base.model_copy(update={"feeds": feeds, "poll": poll})
    async with recording_bot(cfg, tmp_path) as (bot, chat):
        yield Harness(bot, chat, feed_server)


@pytest.fixture
async def harness(feed_server: FeedServer, tmp_path: Path) -> AsyncIterator[Harness]:
    # The dev set's articles carry their real (old) dates; here they stand in for live news.
    async with open_harness(feed_server, tmp_path, max_age=0.0) as h:
        yield h


async def test_a_new_feeds_backlog_is_stored_without_alerts(harness: Harness) -> None:
    seen = await harness.cycle()
    assert await harness.count(ItemRow) == 1  # one item in two feeds is stored once
    assert not seen.alerts
    assert await harness.count(DeliveryRow) == 0


async def test_new_relevant_items_alert_once_and_irrelevant_ones_never(harness: Harness) -> None:
    await harness.cycle()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET, SENSEX)])
    harness.server.add_feed("b.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])

    seen = await harness.cycle()

    assert len(seen.alerts) == 1
    assert "Tiger Triumph" in seen.text()
    assert "Sensex" not in seen.text()
    assert await harness.count(ItemRow) == 3


async def test_a_second_outlets_report_updates_the_story_instead_of_posting_again(
    harness: Harness,
) -> None:
    await harness.cycle()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])
    first = await harness.cycle()
    harness.server.add_feed("b.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_HINDU)])

    second = await harness.cycle()

    assert len(first.alerts) == 1
    assert not second.alerts
    assert len(second.updates) == 1
    assert "The Hindu" in second.text() and "Asianet Newsable" in second.text()


async def test_an_unchanged_feed_is_asked_conditionally_and_stores_nothing(
    harness: Harness,
) -> None:
    await harness.cycle()
    seen = await harness.cycle()

    again = harness.server.requests_for("a.xml")[-1]
    assert again.headers.get("If-None-Match") or again.headers.get("If-Modified-Since")
    assert not seen.alerts
    assert await harness.count(ItemRow) == 1


async def test_items_a_killed_worker_stored_but_never_matched_alert_once_its_lease_ran_out(
    harness: Harness,
) -> None:
    await harness.cycle()
    await harness.subscribed_long_ago()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])
    assert await harness.store_only(lease_left=timedelta(seconds=-1)) == 1

    late = await harness.cycle()
    again = await harness.cycle()

    assert len(late.alerts) == 1 and "Tiger Triumph" in late.text()
    assert not again.alerts
    assert await harness.count(MatchRow) == 2


async def test_the_resume_job_takes_up_overdue_items_between_poll_cycles(
    harness: Harness,
) -> None:
    await harness.cycle()
    await harness.subscribed_long_ago()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])
    assert await harness.store_only(lease_left=timedelta(seconds=-1)) == 1
    start = len(harness.chat.calls)

    flushed = await harness.bot.pipeline.resume()

    assert flushed.posted == 1
    assert "Tiger Triumph" in harness.since(start).text()
    assert (await harness.bot.pipeline.resume()).posted == 0


async def test_items_a_live_worker_holds_are_left_to_it_until_its_lease_runs_out(
    harness: Harness,
) -> None:
    """The worker that stored them may be matching them right now; matching them twice would
    race it."""
    await harness.cycle()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])
    assert await harness.store_only(lease_left=timedelta(seconds=20)) == 1

    seen = await harness.cycle()

    assert not seen.alerts
    assert await harness.count(MatchRow) == 1  # the backlog item's only


async def test_a_restarted_process_takes_up_its_dead_predecessors_items_at_once(
    harness: Harness,
) -> None:
    await harness.cycle()
    await harness.subscribed_long_ago()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])
    # A process on this host that is gone (no such pid), its lease still 20 s from running out.
    dead = f"{default_owner().rsplit(':', 1)[0]}:{2**22 + 1}"
    assert await harness.store_only(lease_left=timedelta(seconds=20), owner=dead) == 1
    await release_stale(harness.bot.db)

    flushed = await harness.bot.pipeline.resume()

    assert flushed.posted == 1


async def test_a_story_grouped_but_never_planned_is_planned_once_overdue(
    harness: Harness,
) -> None:
    await harness.cycle()
    await harness.subscribed_long_ago()
    harness.server.add_feed("a.xml", [_feed_item(r) for r in (OLD_RANA, TIGER_ASIANET)])
    await harness.cycle()
    # As if the process died after grouping and before planning: no delivery row, and the
    # story due for planning a moment ago.
    await harness.bot.db.run(lambda s: s.execute(delete(DeliveryRow)))
    past = datetime.now(UTC) - timedelta(seconds=1)
    await harness.bot.db.run(lambda s: s.execute(update(StoryRow).values(plan_due_at=past)))
    start = len(harness.chat.calls)

    flushed = await harness.bot.pipeline.resume()

    assert flushed.posted == 1 and "Tiger Triumph" in harness.since(start).text()
    assert (
        await harness.bot.db.run(
            lambda s: s.scalar(select(func.count()).where(StoryRow.plan_due_at.is_not(None)))
        )
        == 0
    )


async def test_an_item_that_cannot_be_matched_holds_back_only_itself(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await harness.cycle()
    await harness.subscribed_long_ago()
    items = (OLD_RANA, TIGER_ASIANET, COCHIN)
    harness.server.add_feed("a.xml", [_feed_item(r) for r in items])
    assert await harness.store_only(lease_left=timedelta(seconds=-1)) == 2

    def refuse_tiger(s: Any) -> int:
        # The database refuses this one item's match, as it might on a constraint a bug
        # breaks; the trigger stands in for any error that fails one item's transaction.
        tiger = int(s.scalar(select(ItemRow.id).where(ItemRow.url == TIGER_ASIANET["url"])))
        s.execute(text(f"CREATE TRIGGER refuse BEFORE INSERT ON matches WHEN NEW.item_id = "
                       f"{tiger} BEGIN SELECT RAISE(ABORT, 'refused'); END"))  # fmt: skip
        return tiger

    tiger = await harness.bot.db.run(refuse_tiger)

    seen = await harness.cycle()

    assert len(seen.alerts) == 1 and "Cochin" in seen.text()
    assert f"item {tiger} could not be matched" in caplog.text
    assert await harness.count(MatchRow) == 2  # the backlog item's and Cochin's


async def test_a_gone_feed_stops_polling_and_the_admins_are_told_once(harness: Harness) -> None:
    harness.server.set_response("a.xml", status=410, body="gone")

    seen = await harness.cycle()
    again = await harness.cycle()

    [told] = seen.notes
    assert 'feed "Outlet A"' in told and "is gone (HTTP 410): polling stopped" in told
    assert "/news admin feeds resume 1" in told
    assert not again.notes
    assert len(harness.server.requests_for("a.xml")) == 1  # not asked again, even when forced
    admin = UserRef("console", "local", "ops", "ops", is_admin=True, is_owner=True)
    here = ChannelRef("console", "local", "console", "console")
    listing = await harness.bot.commands.handle(Command("admin feeds list", admin, here))
    [shown] = [f.value for f in listing.fields if "a.xml" in f.value]
    assert "stopped: HTTP 410 Gone: the site says the feed is gone for good" in shown
    resumed = await harness.bot.commands.handle(Command("admin feeds resume 1", admin, here))
    assert resumed.ok
    await harness.cycle()
    assert len(harness.server.requests_for("a.xml")) == 2


async def test_an_old_article_a_feed_starts_carrying_is_stored_and_matched_but_not_alerted(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    async with open_harness(feed_server, tmp_path, max_age=None) as harness:
        assert harness.bot.cfg.poll.max_age == 3 * 86400  # config/newsbot.yaml: 3d
        await harness.cycle()
        await harness.subscribed_long_ago()
        # After the feed's first poll it starts listing a 2024 article next to today's news.
        fresh = _feed_item(COCHIN) | {"published": datetime.now(UTC) - timedelta(hours=2)}
        old = _feed_item(TIGER_ASIANET)
        harness.server.add_feed("a.xml", [_feed_item(OLD_RANA), old, fresh])

        seen = await harness.cycle()

        assert len(seen.alerts) == 1 and "Cochin" in seen.text()
        assert "Tiger Triumph" not in seen.text()
        assert await harness.count(ItemRow) == 3
        assert await harness.count(MatchRow) == 3  # the old article is matched all the same
        user = UserRef("console", "local", "asha", "asha")
        reply = await harness.bot.commands.handle(Command("missed 1h", user, console_channel()))
        reasons = {f.name.split(" ", 1)[1]: f.value.split(" · ", 2)[-1] for f in reply.fields}
        seen, published = (await harness.bot.db.run(
            lambda s: s.execute(select(ItemRow.first_seen_at, ItemRow.published_at)
                                .where(ItemRow.url == old["url"])).one()
        ))  # fmt: skip
        # From the stored publication time, not an assumed noon: the count is whole days.
        days = (seen - published).days
        assert reasons[TIGER_ASIANET["title"]] == (
            f"too old: published 2024-03-18, {days} days before it was first seen: "
            "older than poll.max_age (3d), not alerted"
        )
        assert "1 too old" in reply.text


async def test_admins_hear_when_a_feed_starts_failing_and_when_it_is_back(
    harness: Harness,
) -> None:
    await harness.cycle()
    harness.server.set_response("a.xml", status=500, body="down")

    told = [(await harness.cycle()).notes for _ in range(4)]
    harness.server.add_feed("a.xml", [_feed_item(OLD_RANA)])
    back = (await harness.cycle()).notes

    assert [len(t) for t in told] == [0, 0, 1, 0]  # one blip is not news; told once
    assert 'feed "Outlet A"' in told[2][0] and "failure 3 in a row" in told[2][0]
    assert back == [line for line in back if "works again after 4 failures in a row" in line]
    assert len(back) == 1
