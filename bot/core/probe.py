"""Network access for commands: probing a candidate feed and fetching an article page.

Kept apart from the command handlers so they hold no network code; both fetches go through
the poller's own ``Fetcher`` and therefore its address guard (the SSRF check in ``netguard``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Protocol

from selectolax.lexbor import LexborHTMLParser

from bot.config import PollConfig
from bot.core.discovery import feed_links
from bot.core.fetch import Fetcher, FetchStatus
from bot.core.models import Feed
from bot.core.parse import parse_feed
from bot.core.usage import UsageError


@dataclass(frozen=True)
class FeedProbe:
    """The result of fetching a candidate feed once before it is saved."""

    ok: bool
    title: str = ""
    items: int = 0
    problem: str = ""
    # A site's page given instead of a feed: the feed its <link rel="alternate"> names (the
    # one probed), and the others it names.
    found: str = ""
    others: tuple[str, ...] = ()


class CommandHooks(Protocol):
    """What commands need from outside the core's storage (network, the running scheduler)."""

    async def probe_feed(
        self, url: str, poll: PollConfig, *, allow_private: bool = False
    ) -> FeedProbe:
        """Fetch ``url`` once (through the same address guard as polls) and parse it."""
        ...

    async def fetch_article(self, url: str, poll: PollConfig) -> str:
        """Fetch a web page and return its readable text (for ``admin track <url>``)."""
        ...

    async def poll_interval_changed(self, seconds: float) -> None:
        """Reschedule the running poll job."""
        ...

    async def digest_changed(self, subscription_id: int) -> None:
        """Add, move or remove the digest job of one subscription."""
        ...

    def follow_schedule(
        self,
        poll_interval: Callable[[float], None],
        digest_changed: Callable[[int], Awaitable[None]],
    ) -> None:
        """From now on, apply poll-interval and digest edits to this running schedule."""
        ...


async def _probe(fetcher: Fetcher, url: str, allow_private: bool) -> tuple[FeedProbe, bytes | None]:
    """Fetch and parse ``url`` once; the body too when it came back but is not a feed."""
    feed = Feed(id=0, url=url, name=url, allow_private=allow_private)
    result = await fetcher.fetch(feed)
    if result.status is FetchStatus.FAILED:
        return FeedProbe(False, problem=result.error or "the fetch failed"), None
    parsed = await asyncio.to_thread(
        parse_feed, result.body, feed, content_type=result.content_type
    )
    if parsed.error:
        return FeedProbe(False, problem=parsed.error), result.body
    return FeedProbe(True, title=parsed.title, items=len(parsed.items)), None


class DefaultHooks:
    """Probes with the poller's own Fetcher and parser; scheduler changes go to callbacks."""

    def __init__(
        self,
        *,
        on_poll_interval: Callable[[float], None] | None = None,
        on_digest: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.on_poll_interval = on_poll_interval
        self.on_digest = on_digest

    def follow_schedule(
        self,
        poll_interval: Callable[[float], None],
        digest_changed: Callable[[int], Awaitable[None]],
    ) -> None:
        self.on_poll_interval = poll_interval
        self.on_digest = digest_changed

    async def probe_feed(
        self, url: str, poll: PollConfig, *, allow_private: bool = False
    ) -> FeedProbe:
        async with Fetcher(poll) as fetcher:
            probe, body = await _probe(fetcher, url, allow_private)
            if probe.ok or body is None:
                return probe
            # A site's address: the feeds its page names, the first one probed.
            links = await asyncio.to_thread(feed_links, body, url)
            if not links:
                return probe
            found, body = await _probe(fetcher, links[0].url, allow_private)
        others = tuple(link.url for link in links[1:])
        if not found.ok:
            return FeedProbe(False, problem=f"its page names {links[0].url}, but {found.problem}")
        return replace(found, found=links[0].url, others=others)

    async def fetch_article(self, url: str, poll: PollConfig) -> str:
        async with Fetcher(poll) as fetcher:
            result = await fetcher.fetch(Feed(id=0, url=url, name=url))
        if result.status is FetchStatus.FAILED:
            raise UsageError(f"could not fetch the article: {result.error}")
        tree = LexborHTMLParser(result.body.decode("utf-8", "replace"))
        paragraphs = [p.text(strip=True) for p in tree.css("h1, p")]
        return "\n".join(p for p in paragraphs if p)

    async def poll_interval_changed(self, seconds: float) -> None:
        if self.on_poll_interval is not None:
            self.on_poll_interval(seconds)

    async def digest_changed(self, subscription_id: int) -> None:
        if self.on_digest is not None:
            await self.on_digest(subscription_id)
