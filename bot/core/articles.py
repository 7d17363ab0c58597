"""The article behind a title-only item: fetched under the feeds' guard, its lead extracted.

A Google News item is a headline and its outlet; the outlet's own page says what happened.
The page is fetched through a :class:`~bot.core.fetch.Fetcher` of its own (the article
section's smaller size cap and timeout), so every connection passes the same private-address
guard as a feed's: an article may reach a private address only on the own host of the feed
that linked it, and only if that feed is marked ``allow_private``. Its main text is
extracted with trafilatura (boilerplate, menus and comments left out) and the opening
paragraphs kept, as untrusted text like everything a site sends.
"""

from __future__ import annotations

import asyncio
import re
from types import TracebackType

import trafilatura

from bot.config import ArticlesConfig, PollConfig
from bot.core.fetch import Fetcher, FetchStatus, Resolver, safe_url
from bot.core.models import ArticleLead, Feed, Item
from bot.core.models.labels import is_via_google, outlet_name
from bot.core.textsafety import untrusted_text

_WORD = re.compile(r"\w+")
# A summary with fewer words than this once the headline and outlet are taken out says
# nothing the headline does not.
MIN_SUMMARY_WORDS = 5
# Fewer words than this is a menu, a cookie notice or a paywall stub, not a story's opening.
MIN_LEAD_WORDS = 12
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# Placeholder feed id for a page whose item lost its feed: it may reach public hosts only.
_NO_FEED = Feed(id=0, url="", name="(no feed)")


def is_title_only(item: Item) -> bool:
    """Whether the item's summary adds nothing to its headline (empty, the headline again, the
    outlet's name): its article is worth fetching."""
    rest = item.summary.casefold()
    for said in (item.title, outlet_name(item.source)):
        if said.strip():
            rest = rest.replace(said.casefold(), " ")
    return len(_WORD.findall(rest)) < MIN_SUMMARY_WORDS


def fetchable(item: Item) -> bool:
    """An item whose link is an article page: http(s), and not Google's own redirect."""
    url = item.url or ""
    return url.startswith(("http://", "https://")) and not is_via_google(item.source)


def lead_of(page: bytes, url: str, limit: int, headline: str = "") -> str:
    """The article's opening paragraphs, about ``limit`` characters cut between words; "" when
    the page has no main text. The headline, which pages repeat above the story, is left out."""
    said = " ".join(headline.split()).casefold()
    text = trafilatura.extract(
        page, url=url, include_comments=False, include_tables=False, favor_precision=True
    )
    if not text:
        return ""
    kept: list[str] = []
    size = 0
    for paragraph in text.split("\n"):
        clean = untrusted_text(paragraph)
        if not clean or (said and clean.casefold() in said):
            continue
        kept.append(clean)
        size += len(clean) + 1
        if size >= limit:
            break
    lead = " ".join(kept)
    if len(_WORD.findall(lead)) < MIN_LEAD_WORDS:
        return ""
    if len(lead) <= limit:
        return lead
    cut = lead[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return f"{cut}…"


class ArticleFetcher:
    """Article pages for title-only items, at most ``concurrency`` in flight.

    Use as ``async with ArticleFetcher(poll, articles) as pages: await pages.lead(item, feed)``.
    """

    def __init__(
        self,
        poll: PollConfig,
        articles: ArticlesConfig,
        *,
        concurrency: int = 8,
        resolver: Resolver | None = None,
    ) -> None:
        self.articles = articles
        page_poll = poll.model_copy(
            update={
                "timeout": articles.timeout,
                "max_bytes": articles.max_bytes,
                "concurrency": max(1, min(poll.concurrency, concurrency)),
            }
        )
        self._fetcher = Fetcher(page_poll, resolver=resolver)

    async def __aenter__(self) -> ArticleFetcher:
        await self._fetcher.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._fetcher.close()

    async def lead(self, url: str, feed: Feed | None, headline: str = "") -> ArticleLead:
        """The lead of the page at ``url``, linked from ``feed`` under ``headline``. Never
        raises for network, HTTP or extraction trouble: the result's error says what was wrong."""
        owner = feed or _NO_FEED
        page = Feed(id=owner.id, url=url, name=owner.name)
        result = await self._fetcher.fetch(page, linked_from=owner)
        where = safe_url(url)
        if result.status is not FetchStatus.OK:
            return ArticleLead("", f"article {where}: {result.error or 'no answer'}")
        kind = (result.content_type or "text/html").split(";")[0].strip().lower()
        if kind not in _HTML_TYPES:
            return ArticleLead("", f"article {where} is not an HTML page ({kind[:60]}); skipped")
        limit = self.articles.lead_chars
        lead = await asyncio.to_thread(lead_of, result.body, url, limit, headline)
        if not lead:
            return ArticleLead("", f"article {where}: no article text found on the page")
        return ArticleLead(lead)
