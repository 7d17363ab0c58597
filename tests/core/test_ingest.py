"""The ingest step against a loopback news site and a real database: only new items come back."""

from __future__ import annotations

import multiprocessing
import socket
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.config import PollConfig
from bot.core.feedstate import FeedOutcome, FeedStatus
from bot.core.ingest import Poller, PollResult
from bot.core.models import Feed, FeedHealth, Item
from bot.storage.db import Database
from bot.storage.feeds import add_feed, get_feed
from bot.storage.items import load_items
from bot.storage.tables import FeedRow, ItemRow
from tests.feedserver import FeedServer

FEEDS = Path(__file__).resolve().parents[1] / "testdata" / "feeds"
NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
POLL = PollConfig(interval=900, timeout=5, backoff_base=60, backoff_max=480, concurrency=10)


def story(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "title": f"India and US sign defence pact, part {n}",
        "summary": f"<p>Report number <b>{n}</b> on the framework.</p>",
        "url": f"https://news.example.org/story/{n}",
        "published": datetime(2025, 11, 1, 8, n % 60, tzinfo=UTC),
        "guid": f"story-{n}",
    } | extra


async def new_feed(db: Database, url: str, name: str = "Fixture", **kw: Any) -> Feed:
    # Every fixture site is on loopback: allowed per feed, as an admin would for an intranet.
    kw.setdefault("allow_private", True)
    return await db.run(lambda s: add_feed(s, url, name, now=NOW, **kw))


async def feed_state(db: Database, feed_id: int) -> Feed:
    feed = await db.run(lambda s: get_feed(s, feed_id))
    assert feed is not None
    return feed


async def stored_items(db: Database) -> int:
    return await db.run(lambda s: s.scalar(select(func.count()).select_from(ItemRow)) or 0)


async def items_of(db: Database, result: PollResult) -> list[Item]:
    """The items a poll reported as new, read back from the database in its order."""
    return await db.run(lambda s: load_items(s, [n.id for n in result.new_items]))


def outcome_of(result: PollResult, feed: Feed) -> FeedOutcome:
    return next(o for o in result.outcomes if o.feed_id == feed.id)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_first_poll_keeps_backlog_quiet_and_later_items_alert(
    db: Database, feed_server: FeedServer
) -> None:
    feed = await new_feed(db, feed_server.add_feed("/rss", [story(1), story(2)]))
    poller = Poller(db, POLL)

    first = await poller.poll_due(NOW)
    backlog = await items_of(db, first)
    assert [i.title for i in backlog] == [story(1)["title"], story(2)["title"]]
    assert not any(i.alertable for i in backlog)
    assert outcome_of(first, feed).status is FeedStatus.OK
    assert outcome_of(first, feed).new_items == 2

    feed_server.add_feed("/rss", [story(3), story(1), story(2)])
    later = await poller.poll_due(NOW + timedelta(minutes=15))
    assert [(i.title, i.alertable) for i in await items_of(db, later)] == [
        (story(3)["title"], True)
    ]
    assert "1 new of 3 items" in outcome_of(later, feed).message


async def test_a_changed_feed_with_nothing_new_is_ok_not_empty(
    db: Database, feed_server: FeedServer
) -> None:
    # No ETag or Last-Modified: every poll is a full 200 and lists the same two items.
    url = feed_server.add_feed("/rss", [story(1), story(2)], etag=False, last_modified=None)
    feed = await new_feed(db, url)
    poller = Poller(db, POLL)
    await poller.poll_due(NOW)

    again = await poller.poll_due(NOW + timedelta(minutes=15))

    assert again.new_items == []
    assert outcome_of(again, feed).status is FeedStatus.OK
    assert "0 new of 2 items" in outcome_of(again, feed).message
    assert await stored_items(db) == 2


async def test_alert_on_first_poll_makes_the_backlog_alertable(
    db: Database, feed_server: FeedServer
) -> None:
    await new_feed(db, feed_server.add_feed("/rss", [story(1)]), alert_on_first_poll=True)
    result = await Poller(db, POLL).poll_due(NOW)
    assert [i.alertable for i in await items_of(db, result)] == [True]


async def test_second_poll_is_conditional_and_304_stores_nothing(
    db: Database, feed_server: FeedServer
) -> None:
    feed = await new_feed(db, feed_server.add_feed("/rss", [story(1), story(2)]))
    poller = Poller(db, POLL)
    await poller.poll_due(NOW)

    again = await poller.poll_due(NOW + timedelta(minutes=15))

    sent = feed_server.requests_for("/rss")[-1].headers
    assert sent["If-None-Match"] == feed_server.feeds["/rss"].etag
    assert sent["If-Modified-Since"] == "Mon, 18 Mar 2024 12:00:00 GMT"
    assert again.new_items == []
    assert outcome_of(again, feed).status is FeedStatus.NOT_MODIFIED
    assert await stored_items(db) == 2
    state = await feed_state(db, feed.id)
    assert state.next_fetch_at == NOW + timedelta(minutes=30)
    assert state.health is FeedHealth.OK


async def test_feeds_not_due_are_left_alone_unless_forced(
    db: Database, feed_server: FeedServer
) -> None:
    await new_feed(db, feed_server.add_feed("/rss", [story(1)]))
    poller = Poller(db, POLL)
    await poller.poll_due(NOW)

    assert (await poller.poll_due(NOW + timedelta(minutes=5))).outcomes == []
    forced = await poller.poll_due(NOW + timedelta(minutes=5), force=True)
    assert [o.status for o in forced.outcomes] == [FeedStatus.NOT_MODIFIED]


async def test_paused_feeds_are_never_polled(db: Database, feed_server: FeedServer) -> None:
    await new_feed(db, feed_server.add_feed("/rss", [story(1)]))
    await db.run(lambda s: s.execute(update(FeedRow).values(paused=True)))
    result = await Poller(db, POLL).poll_due(NOW, force=True)
    assert result.outcomes == [] and feed_server.requests == []


async def test_a_configured_feed_on_loopback_is_refused_unless_allowed(
    db: Database, feed_server: FeedServer
) -> None:
    feed = await new_feed(db, feed_server.add_feed("/rss", [story(1)]), allow_private=False)
    result = await Poller(db, POLL).poll_due(NOW)
    assert outcome_of(result, feed).status is FeedStatus.FAILED
    assert "127.0.0.1 resolves to 127.0.0.1, a private address; refused" in (
        outcome_of(result, feed).message
    )
    assert feed_server.requests == []


async def test_the_same_article_in_two_feeds_is_stored_once(
    db: Database, feed_server: FeedServer
) -> None:
    shared = story(7)
    tracked = story(7, guid="other-guid-7",
                    url="HTTPS://News.Example.org/story/7?utm_source=x&fbclid=1#top")  # fmt: skip
    await new_feed(db, feed_server.add_feed("/a", [shared, story(8)]), "A")
    await new_feed(db, feed_server.add_feed("/b", [tracked, story(9)]), "B")

    result = await Poller(db, POLL).poll_due(NOW)

    urls = sorted(i.url or "" for i in await items_of(db, result))
    assert urls == [f"https://news.example.org/story/{n}" for n in (7, 8, 9)]
    assert await stored_items(db) == 3


async def test_an_item_seen_again_under_a_new_guid_is_not_new(
    db: Database, feed_server: FeedServer
) -> None:
    await new_feed(db, feed_server.add_feed("/rss", [story(1)]))
    poller = Poller(db, POLL)
    await poller.poll_due(NOW)
    feed_server.add_feed("/rss", [story(1, guid="renumbered-1"), story(2)])

    result = await poller.poll_due(NOW, force=True)

    assert [i.url for i in await items_of(db, result)] == ["https://news.example.org/story/2"]


@pytest.mark.parametrize("status", [301, 308])
async def test_a_permanent_redirect_updates_the_stored_url(
    db: Database, feed_server: FeedServer, status: int
) -> None:
    feed_server.add_feed("/new", [story(1)])
    feed = await new_feed(db, feed_server.redirect("/old", "/new", status=status))

    result = await Poller(db, POLL).poll_due(NOW)

    assert (await feed_state(db, feed.id)).url == feed_server.url("/new")
    assert "moved permanently" in outcome_of(result, feed).message
    assert len(result.new_items) == 1


@pytest.mark.parametrize("status", [302, 307])
async def test_a_temporary_redirect_keeps_the_stored_url(
    db: Database, feed_server: FeedServer, status: int
) -> None:
    feed_server.add_feed("/new", [story(1)])
    feed = await new_feed(db, feed_server.redirect("/old", "/new", status=status))

    result = await Poller(db, POLL).poll_due(NOW)

    assert (await feed_state(db, feed.id)).url == feed_server.url("/old")
    assert len(result.new_items) == 1


def _bad_inputs(server: FeedServer) -> dict[str, tuple[str, Sequence[str]]]:
    """Name → (feed URL, phrases the one-line message must contain)."""
    body = (FEEDS / "not_a_feed.html").read_bytes()
    return {
        "unreachable": (f"http://127.0.0.1:{closed_port()}/rss",
                        ["cannot connect", "(connection refused)", "unreachable"]),
        "timeout": (server.set_response("/slow", body=b"<rss/>", delay=3), ["timeout", "0.5s"]),
        "404": (server.set_response("/gone", status=404), ["HTTP 404", "address is wrong"]),
        "500": (server.set_response("/err", status=500), ["HTTP 500", "server-side problem"]),
        "html": (server.set_response("/page", body=body, content_type="text/html"),
                 ["HTML page, not a feed"]),
        "malformed": (server.set_feed("/broken", (FEEDS / "malformed.xml").read_bytes()),
                      ["not a well-formed RSS or Atom feed"]),
        "oversize": (server.set_response("/huge", body=b"<rss>" + b" " * 300_000, stream=True),
                     ["larger than the 200 kB cap", "poll.max_bytes"]),
        "oversize-declared": (server.set_response("/huge2", body=b"<rss>" + b" " * 300_000),
                              ["larger than the 200 kB cap"]),
        "empty-body": (server.set_response("/nothing", body=b""), ["response body is empty"]),
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    ["unreachable", "timeout", "404", "500", "html", "malformed", "oversize",
     "oversize-declared", "empty-body"],
)  # fmt: skip
async def test_a_bad_feed_gets_one_clear_line_and_the_others_still_store(
    db: Database, feed_server: FeedServer, case: str
) -> None:
    url, phrases = _bad_inputs(feed_server)[case]
    bad = await new_feed(db, url, "Bad Feed")
    good = await new_feed(db, feed_server.add_feed("/good", [story(1), story(2)]), "Good Feed")
    poll = POLL.model_copy(update={"timeout": 0.5, "max_bytes": 200_000})

    result = await Poller(db, poll).poll_due(NOW)

    failed = outcome_of(result, bad)
    assert failed.status is FeedStatus.FAILED
    assert "\n" not in failed.message
    assert failed.message.startswith(f'feed "Bad Feed" ({url}) failed: ')
    for phrase in phrases:
        assert phrase in failed.message
    assert "retrying in 60s (at 2025-11-03 09:01 UTC), failure 1 in a row" in failed.message
    assert outcome_of(result, good).new_items == 2
    assert {i.feed_id for i in await items_of(db, result)} == {good.id}
    state = await feed_state(db, bad.id)
    assert state.health is FeedHealth.FAILING and state.failures == 1


async def test_an_empty_feed_is_reported_but_not_backed_off(
    db: Database, feed_server: FeedServer
) -> None:
    feed = await new_feed(db, feed_server.set_feed("/empty", (FEEDS / "empty.xml").read_bytes()))

    result = await Poller(db, POLL).poll_due(NOW)

    outcome = outcome_of(result, feed)
    assert outcome.status is FeedStatus.EMPTY
    assert "valid but lists no items" in outcome.message
    state = await feed_state(db, feed.id)
    assert state.failures == 0 and state.health is FeedHealth.OK
    assert state.next_fetch_at == NOW + timedelta(minutes=15)


async def test_items_without_link_or_date_are_stored(db: Database, feed_server: FeedServer) -> None:
    bare = [{"title": "No link here", "summary": "text", "published": "2025-11-01"},
            {"title": "No date here", "url": "https://news.example.org/undated"}]  # fmt: skip
    await new_feed(db, feed_server.add_feed("/rss", bare))

    result = await Poller(db, POLL).poll_due(NOW)

    got = {i.title: (i.url, i.published) for i in await items_of(db, result)}
    assert got == {
        "No link here": (None, datetime(2025, 11, 1, tzinfo=UTC)),
        "No date here": ("https://news.example.org/undated", None),
    }
    assert all(i.first_seen == NOW for i in await items_of(db, result))


async def test_backoff_doubles_up_to_the_maximum_and_success_resets_it(
    db: Database, feed_server: FeedServer
) -> None:
    feed = await new_feed(db, feed_server.set_response("/rss", status=503))
    poller = Poller(db, POLL)
    delays = []
    now = NOW
    for _ in range(5):
        result = await poller.poll_due(now)
        delays.append((outcome_of(result, feed).next_fetch_at - now).total_seconds())
        now = outcome_of(result, feed).next_fetch_at
    assert delays == [60, 120, 240, 480, 480]
    assert (await feed_state(db, feed.id)).failures == 5

    feed_server.add_feed("/rss", [story(1)])
    result = await poller.poll_due(now)

    assert outcome_of(result, feed).status is FeedStatus.OK
    state = await feed_state(db, feed.id)
    assert (state.failures, state.health) == (0, FeedHealth.OK)
    assert state.next_fetch_at == now + timedelta(minutes=15)
    row_error = await db.run(lambda s: s.get(FeedRow, feed.id).last_error)  # type: ignore[union-attr]
    assert row_error is None


async def test_retry_after_is_honoured(db: Database, feed_server: FeedServer) -> None:
    url = feed_server.set_response("/rss", status=429, headers={"Retry-After": "3600"})
    feed = await new_feed(db, url)

    result = await Poller(db, POLL).poll_due(NOW)

    outcome = outcome_of(result, feed)
    assert outcome.next_fetch_at == NOW + timedelta(hours=1)
    assert "HTTP 429" in outcome.message and "retrying in 60m" in outcome.message


async def test_user_agent_comes_from_config(db: Database, feed_server: FeedServer) -> None:
    await new_feed(db, feed_server.add_feed("/rss", [story(1)]))
    poll = POLL.model_copy(update={"user_agent": "newsbot-test/9"})
    await Poller(db, poll).poll_due(NOW)
    assert feed_server.requests_for("/rss")[0].headers["User-Agent"] == "newsbot-test/9"


async def test_many_feeds_in_one_cycle_each_store_their_items(
    db: Database, feed_server: FeedServer
) -> None:
    feeds = [
        await new_feed(db, feed_server.add_feed(f"/f{n}", [story(n * 10 + k) for k in range(5)]),
                       f"Feed {n}")
        for n in range(30)
    ]  # fmt: skip
    result = await Poller(db, POLL).poll_due(NOW)
    assert len(result.new_items) == 150
    assert {o.feed_id: o.new_items for o in result.outcomes} == {f.id: 5 for f in feeds}
    assert await stored_items(db) == 150


async def test_parsing_in_a_process_pool_gives_the_same_items(
    db: Database, feed_server: FeedServer
) -> None:
    for n in range(4):
        await new_feed(db, feed_server.add_feed(f"/f{n}", [story(n * 10 + k) for k in range(3)]))
    await new_feed(db, feed_server.set_feed("/broken", (FEEDS / "malformed.xml").read_bytes()))
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        result = await Poller(db, POLL, parse_pool=pool, parse_workers=2).poll_due(NOW)

    assert sorted(i.title for i in await items_of(db, result)) == sorted(
        story(n * 10 + k)["title"] for n in range(4) for k in range(3)
    )
    [failed] = result.failed
    assert "not a well-formed RSS or Atom feed" in failed.message
    assert failed.message.endswith("failure 1 in a row")


async def test_a_private_feeds_key_never_reaches_the_message(
    db: Database, feed_server: FeedServer
) -> None:
    url = feed_server.set_response("/private", status=403) + "?token=s3cret"
    feed = await new_feed(db, url.replace("http://", "http://reader:pa55@"))

    result = await Poller(db, POLL).poll_due(NOW)

    message = outcome_of(result, feed).message
    assert "HTTP 403" in message and "token=…" in message
    assert "s3cret" not in message and "pa55" not in message


async def test_an_item_published_before_max_age_is_stored_but_not_alertable(
    db: Database, feed_server: FeedServer
) -> None:
    feed = await new_feed(db, feed_server.add_feed("/rss", [story(1)]))
    poller = Poller(db, POLL)  # poll.max_age left at its default, 3 days
    assert POLL.max_age == 3 * 86400
    await poller.poll_due(NOW)
    later = NOW + timedelta(minutes=15)
    undated = story(4, published=None)
    edge = story(5, published=later - timedelta(days=3) + timedelta(minutes=1))
    ancient = story(6, published=datetime(2023, 5, 1, 7, 0, tzinfo=UTC))
    feed_server.add_feed("/rss", [story(1), story(3), undated, edge, ancient])

    result = await poller.poll_due(later)

    got = {i.title: (i.alertable, i.published) for i in await items_of(db, result)}
    assert got[story(3)["title"]] == (True, story(3)["published"])
    assert got[undated["title"]] == (True, None)  # unknown age: alerted as before
    assert got[edge["title"]][0] is True
    assert got[ancient["title"]] == (False, ancient["published"])  # stored, never alerted
    assert outcome_of(result, feed).new_items == 4


async def test_max_age_zero_switches_the_age_guard_off(
    db: Database, feed_server: FeedServer
) -> None:
    await new_feed(db, feed_server.add_feed("/rss", [story(1)]))
    poller = Poller(db, POLL.model_copy(update={"max_age": 0.0}))
    await poller.poll_due(NOW)
    ancient = story(6, published=datetime(2023, 5, 1, 7, 0, tzinfo=UTC))
    feed_server.add_feed("/rss", [story(1), ancient])

    result = await poller.poll_due(NOW + timedelta(minutes=15))

    assert [i.alertable for i in await items_of(db, result)] == [True]
