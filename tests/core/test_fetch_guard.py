"""The private-address guard on every connection the fetcher makes: names that resolve to
loopback (DNS rebinding), literal addresses, redirects, and pooled connections.

Names resolve through a test DNS to 127.0.0.1, where a raw server counts the connections it
accepts: a refused request must not have reached it at all.
"""

from __future__ import annotations

from bot.config import PollConfig
from bot.core.fetch import Fetcher, FetchStatus
from bot.core.models import Feed
from tests.fakes.dns import MapResolver
from tests.feedserver import FeedServer
from tests.rawserver import RawServer

POLL = PollConfig(timeout=5, max_bytes=100_000, concurrency=4)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'


def ok(body: bytes = RSS) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def redirect(to: str) -> bytes:
    return f"HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n".encode()


def feed(url: str, *, allow_private: bool = False, name: str = "Rebound") -> Feed:
    return Feed(id=7, url=url, name=name, allow_private=allow_private)


async def test_a_name_rebound_to_loopback_is_refused_before_connecting() -> None:
    dns = MapResolver({"news.example": "127.0.0.1"})
    async with RawServer() as server:
        url = server.answer("/rss", ok(), host="news.example")
        async with Fetcher(POLL, resolver=dns) as fetcher:
            result = await fetcher.fetch(feed(url))
        assert server.connections == 0
    assert dns.asked == ["news.example"]
    assert result.status is FetchStatus.FAILED
    assert result.error == (
        "news.example resolves to 127.0.0.1, a private address; refused. If this feed is on "
        "your own network, an admin can allow it: /news admin feeds allow-private Rebound on"
    )


async def test_a_literal_loopback_address_is_refused_without_the_resolver() -> None:
    dns = MapResolver({})
    async with RawServer() as server:
        url = server.answer("/rss", ok())
        async with Fetcher(POLL, resolver=dns) as fetcher:
            result = await fetcher.fetch(feed(url))
        assert server.connections == 0
    assert dns.asked == []  # aiohttp skips the resolver for a literal address
    assert result.error is not None and result.error.startswith(
        "127.0.0.1 resolves to 127.0.0.1, a private address; refused."
    )


async def test_an_allowed_feed_reaches_its_own_host() -> None:
    dns = MapResolver({"intranet.example": "127.0.0.1"})
    async with RawServer() as server:
        url = server.answer("/rss", ok(), host="intranet.example")
        async with Fetcher(POLL, resolver=dns) as fetcher:
            result = await fetcher.fetch(feed(url, allow_private=True))
        assert server.connections == 1
    assert result.status is FetchStatus.OK and result.body == RSS


async def test_an_allowed_feed_redirecting_to_another_private_host_is_refused() -> None:
    dns = MapResolver({"other.example": "127.0.0.1"})
    async with RawServer() as server:
        elsewhere = server.answer("/internal", ok(b"secret"), host="other.example")
        url = server.answer("/rss", redirect(elsewhere))
        async with Fetcher(POLL, resolver=dns) as fetcher:
            result = await fetcher.fetch(feed(url, allow_private=True))
        assert server.connections == 1  # the feed's own hop only
    assert result.status is FetchStatus.FAILED and result.error is not None
    assert result.error.startswith(
        "the feed redirected to other.example (127.0.0.1), a private address; refused"
    )


async def test_an_allowed_feed_is_never_redirected_to_cloud_metadata() -> None:
    # The loopback_only fixture fails the test if anything connects to 169.254.169.254.
    async with RawServer() as server:
        url = server.answer("/rss", redirect("http://169.254.169.254/latest/meta-data/"))
        async with Fetcher(POLL) as fetcher:
            result = await fetcher.fetch(feed(url, allow_private=True))
        assert server.connections == 1
    assert result.error == (
        "the feed redirected to 169.254.169.254 (169.254.169.254), a link-local (cloud "
        "metadata) address; refused: never fetched"
    )


async def test_a_pooled_connection_of_an_allowed_feed_is_not_reused_by_another(
    feed_server: FeedServer,
) -> None:
    url = feed_server.add_feed("/rss", [{"title": "One"}])
    async with Fetcher(POLL) as fetcher:
        allowed = await fetcher.fetch(feed(url, allow_private=True))
        other = await fetcher.fetch(feed(url, name="Other"))
    assert allowed.status is FetchStatus.OK
    assert other.status is FetchStatus.FAILED and "a private address; refused" in (
        other.error or ""
    )
    assert len(feed_server.requests_for("/rss")) == 1


async def test_an_allowed_feeds_pooled_connection_serves_no_other_allowed_feeds_redirect(
    feed_server: FeedServer,
) -> None:
    # Feed A (allowed, own host 127.0.0.1) leaves a kept-alive connection to the news site;
    # feed C (allowed, own host intranet.example) redirects there, which is not C's own host.
    own = feed_server.add_feed("/rss", [{"title": "One"}])
    dns = MapResolver({"intranet.example": "127.0.0.1"})
    async with RawServer() as server:
        elsewhere = server.answer("/c", redirect(own), host="intranet.example")
        async with Fetcher(POLL, resolver=dns) as fetcher:
            first = await fetcher.fetch(feed(own, allow_private=True, name="A"))
            again = await fetcher.fetch(feed(own, allow_private=True, name="A"))
            bounced = await fetcher.fetch(feed(elsewhere, allow_private=True, name="C"))
        assert server.connections == 1  # C's own request
    assert first.status is again.status is FetchStatus.OK
    assert bounced.status is FetchStatus.FAILED
    assert "the feed redirected to 127.0.0.1" in (bounced.error or "")
    # A's two requests, and not C's hop: a pooled connection would have carried it.
    assert len(feed_server.requests_for("/rss")) == 2


async def test_an_allowed_feed_on_an_international_name_reaches_its_own_host() -> None:
    # The feed's host (as written) and each hop's (as aiohttp sends it) are the same host.
    dns = MapResolver({"xn--bcher-kva.example": "127.0.0.1"})
    async with RawServer() as server:
        url = server.answer("/rss", ok(), host="bücher.example")
        async with Fetcher(POLL, resolver=dns) as fetcher:
            result = await fetcher.fetch(feed(url, allow_private=True))
        assert server.connections == 1
    assert result.status is FetchStatus.OK
