"""Feed discovery: an admin gives a site's address, the bot finds its feed.

A site names its feeds in the page head as ``<link rel="alternate" type="application/rss+xml"
href="…">`` (Atom and JSON Feed the same way). ``feed_links`` reads them from fetched HTML
(pure: absolute, http(s) only, each once, in page order); ``discover`` fetches the address
through the guarded :class:`~bot.core.fetch.Fetcher` (the same private-address policy as
polls) and says whether it already is a feed or which feeds its page names.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser

from bot.config import PollConfig
from bot.core.fetch import Fetcher, FetchStatus
from bot.core.models import Feed
from bot.core.parse import parse_feed
from bot.core.textsafety import untrusted_text

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/feed+json", "application/json"}
)
MAX_CANDIDATES = 20


@dataclass(frozen=True)
class FeedLink:
    url: str
    title: str
    kind: str  # the link's type, e.g. application/rss+xml


@dataclass(frozen=True)
class Discovery:
    """What an address turned out to be: a feed itself (``is_feed``), a page naming feeds
    (``links``), or neither (``problem`` says why, in one line)."""

    url: str
    is_feed: bool = False
    title: str = ""
    links: list[FeedLink] = field(default_factory=list)
    problem: str = ""


def feed_links(html: bytes | str, page_url: str) -> list[FeedLink]:
    """The feeds a page's ``<link rel="alternate">`` elements name, resolved against the page
    (or its ``<base href>``); only http(s) addresses, each once, at most ``MAX_CANDIDATES``."""
    tree = LexborHTMLParser(html)
    base = page_url
    base_node = tree.css_first("base[href]")
    if base_node is not None:
        base = urljoin(page_url, (base_node.attributes.get("href") or "").strip())
    found: list[FeedLink] = []
    seen: set[str] = set()
    for node in tree.css("link[href]"):
        attrs = node.attributes
        rels = (attrs.get("rel") or "").lower().split()
        kind = (attrs.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rels or kind not in FEED_TYPES:
            continue
        url = _absolute(base, attrs.get("href") or "")
        if url is None or url in seen:
            continue
        seen.add(url)
        found.append(FeedLink(url, untrusted_text(attrs.get("title") or "")[:200], kind))
        if len(found) == MAX_CANDIDATES:
            break
    return found


def _absolute(base: str, href: str) -> str | None:
    href = href.strip()
    if not href or any(c.isspace() for c in href):
        return None
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    return parts._replace(fragment="").geturl()


async def discover(
    url: str, poll: PollConfig, *, allow_private: bool = False, fetcher: Fetcher | None = None
) -> Discovery:
    """Fetch ``url`` once, guarded: a feed already, or the feeds its page names."""
    feed = Feed(id=0, url=url, name=url, allow_private=allow_private)
    if fetcher is None:
        async with Fetcher(poll) as own:
            result = await own.fetch(feed)
    else:
        result = await fetcher.fetch(feed)
    if result.status is FetchStatus.FAILED:
        return Discovery(url, problem=result.error or "the fetch failed")
    parsed = await asyncio.to_thread(
        parse_feed, result.body, feed, content_type=result.content_type
    )
    if not parsed.error:
        return Discovery(url, is_feed=True, title=parsed.title)
    links = await asyncio.to_thread(feed_links, result.body, url)
    if not links:
        return Discovery(url, problem="neither a feed nor a page naming one (<link rel=alternate>)")
    return Discovery(url, links=links)
