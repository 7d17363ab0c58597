"""The fetcher against a loopback site: conditional GET, caps, redirects, limits, backoff maths."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot.config import PollConfig
from bot.core.fetch import Fetcher, FetchStatus, backoff_delay, parse_retry_after, safe_url
from bot.core.models import Feed
from tests.feedserver import FeedServer

POLL = PollConfig(timeout=5, max_bytes=100_000, concurrency=4, user_agent="newsbot-test/1")


def feed(url: str, **state: object) -> Feed:
    # The fixture site is on loopback: the feed is allowed onto it, as for an intranet feed.
    state.setdefault("allow_private", True)
    return Feed(id=1, url=url, name="Fixture", **state)  # type: ignore[arg-type]


async def test_a_plain_get_returns_the_body_and_validators(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("/rss", [{"title": "One", "url": "https://x.example/1"}])
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(feed(url))

    assert result.status is FetchStatus.OK and result.http_status == 200
    assert result.body.startswith(b'<?xml version="1.0"')
    assert result.etag == feed_server.feeds["/rss"].etag
    assert result.last_modified == "Mon, 18 Mar 2024 12:00:00 GMT"
    sent = feed_server.requests_for("/rss")[0].headers
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent
    assert sent["User-Agent"] == "newsbot-test/1"
    assert "application/rss+xml" in sent["Accept"]


async def test_stored_validators_make_the_get_conditional(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("/rss", [{"title": "One"}])
    etag = feed_server.feeds["/rss"].etag
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(
            feed(url, etag=etag, last_modified="Mon, 18 Mar 2024 12:00:00 GMT")
        )

    assert result.status is FetchStatus.NOT_MODIFIED and result.body == b""
    assert result.etag == etag
    sent = feed_server.requests_for("/rss")[0].headers
    assert sent["If-None-Match"] == etag
    assert sent["If-Modified-Since"] == "Mon, 18 Mar 2024 12:00:00 GMT"


async def test_a_changed_feed_answers_200_despite_old_validators(feed_server: FeedServer) -> None:
    url = feed_server.add_feed("/rss", [{"title": "Two"}])
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(feed(url, etag='"old"'))
    assert result.status is FetchStatus.OK and result.etag != '"old"'


@pytest.mark.parametrize(
    ("status", "moved"), [(301, True), (308, True), (302, False), (307, False)]
)
async def test_only_permanent_redirects_report_a_move(
    feed_server: FeedServer, status: int, moved: bool
) -> None:
    target = feed_server.add_feed("/new", [{"title": "One"}])
    url = feed_server.redirect("/old", "/new", status=status)
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(feed(url))
    assert result.status is FetchStatus.OK
    assert result.moved_to == (target if moved else None)


async def test_a_permanent_then_temporary_hop_is_not_a_move(feed_server: FeedServer) -> None:
    feed_server.add_feed("/final", [{"title": "One"}])
    feed_server.redirect("/middle", "/final", status=302)
    url = feed_server.redirect("/first", "/middle", status=301)
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(feed(url))
    assert result.status is FetchStatus.OK and result.moved_to is None


async def test_a_redirect_loop_fails_clearly(feed_server: FeedServer) -> None:
    feed_server.redirect("/a", "/b", status=302)
    url = feed_server.redirect("/b", "/a", status=302)
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(feed(url))
    assert result.status is FetchStatus.FAILED and result.error == (
        f"the site's redirects loop back to {url}; the site is misconfigured: ask it to fix "
        "the redirect, or use the feed's final address"
    )
    assert len(feed_server.requests_for("/a")) == 1  # the loop is seen, not run to the limit


@pytest.mark.parametrize("stream", [False, True])
async def test_the_size_cap_stops_reading(feed_server: FeedServer, stream: bool) -> None:
    url = feed_server.set_response("/huge", body=b"<rss>" + b"x" * 1_000_000, stream=stream)
    async with Fetcher(POLL) as fetcher:
        result = await fetcher.fetch(feed(url))
    assert result.status is FetchStatus.FAILED
    assert result.error == "the response is larger than the 100 kB cap (poll.max_bytes)"


async def test_retry_after_is_read_from_429_and_503(feed_server: FeedServer) -> None:
    a = feed_server.set_response("/a", status=429, headers={"Retry-After": "120"})
    b = feed_server.set_response("/b", status=503, headers={"Retry-After": "soon"})
    c = feed_server.set_response("/c", status=500, headers={"Retry-After": "120"})
    async with Fetcher(POLL) as fetcher:
        results = [await fetcher.fetch(feed(u)) for u in (a, b, c)]
    assert [r.retry_after for r in results] == [120.0, None, None]
    assert [r.http_status for r in results] == [429, 503, 500]


async def test_no_more_than_the_concurrency_limit_is_in_flight(feed_server: FeedServer) -> None:
    urls = [feed_server.set_response(f"/f{n}", body=b"<rss/>", delay=0.05) for n in range(12)]
    async with Fetcher(POLL) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(feed(u)) for u in urls))
    assert all(r.status is FetchStatus.OK for r in results)
    assert feed_server.max_in_flight == POLL.concurrency


async def test_waiting_for_a_slot_does_not_count_against_the_timeout(
    feed_server: FeedServer,
) -> None:
    # Four slots, twelve requests of 0.3 s each: the last ones wait 0.6 s for a slot but
    # each request itself takes well under the 0.5 s timeout.
    poll = POLL.model_copy(update={"timeout": 0.5})
    urls = [feed_server.set_response(f"/f{n}", body=b"<rss/>", delay=0.3) for n in range(12)]
    async with Fetcher(poll) as fetcher:
        results = await asyncio.gather(*(fetcher.fetch(feed(u)) for u in urls))
    assert [r.status for r in results] == [FetchStatus.OK] * 12


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, 900), (1, 60), (2, 120), (3, 240), (4, 480), (5, 480), (200, 480)],
)
def test_backoff_doubles_from_the_base_up_to_the_maximum(failures: int, seconds: float) -> None:
    poll = PollConfig(interval=900, backoff_base=60, backoff_max=480)
    assert backoff_delay(failures, poll) == seconds


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 03 Nov 2025 10:00:00 GMT", 3600.0),
        ("Mon, 03 Nov 2025 08:00:00 GMT", 0.0),  # in the past: retry at the next chance
        ("99999999", 7 * 86400.0),  # absurd: capped at a week
        ("next tuesday", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_header_values(header: str | None, seconds: float | None) -> None:
    now = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
    assert parse_retry_after(header, now) == seconds


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://example.org/rss?page=2", "https://example.org/rss?page=2"),
        ("https://user:hunter2@example.org/rss", "https://example.org/rss"),
        ("https://example.org/rss?token=abc&page=2", "https://example.org/rss?token=…&page=2"),
        ("https://example.org/rss?apikey=abc&Auth=x&sig=1", "https://example.org/rss?apikey=…&Auth=…&sig=…"),
        ("http://127.0.0.1:8080/rss#frag", "http://127.0.0.1:8080/rss"),
    ],
)  # fmt: skip
def test_addresses_are_shown_without_secrets(url: str, shown: str) -> None:
    assert safe_url(url) == shown
