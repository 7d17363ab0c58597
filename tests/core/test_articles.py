"""Title-only items get their article's lead: fetched from a loopback news site under the
feeds' guard, capped per cycle, cached by address, after the cycle's other alerts."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import NewsBot
from bot.config import AppConfig, ArticlesConfig, FeedConfig, load_config
from bot.core.articles import is_title_only, lead_of
from bot.core.enrichment import enrich_title_only
from bot.core.fetch import Resolver
from bot.core.models import Item
from bot.settings import DEFAULT_CONFIG
from bot.storage.configstore import load_runtime
from bot.storage.tables import ArticleRow, ItemRow
from tests.conftest import TESTDATA
from tests.core.test_googlenews import google_item, token
from tests.fakes.dns import MapResolver
from tests.fakes.recording import RecordingAdapter, Seen
from tests.feedserver import FeedServer
from tests.rawserver import RawServer
from tests.testbot import recording_bot

DEV = {
    row["id"]: row
    for row in map(json.loads, (TESTDATA / "eval" / "dev.jsonl").read_text().splitlines())
}
HADR = DEV["dev-002"]  # relevant on its summary, not on its headline alone
SENSEX = DEV["dev-010"]  # markets: not relevant
OLD_RANA = DEV["dev-025"]  # a feed's backlog
TIGER = DEV["dev-001"]  # relevant on its headline and summary
NOW = datetime.now(UTC)
SECOND = "Officials said the drill's sea phase follows later in the month off Kakinada."


def article_page(title: str, *paragraphs: str) -> str:
    """A news site's article page: menus, a byline, the story, related links, a footer."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/world'>World</a> "
        "<a href='/markets'>Markets</a></nav></header>"
        f"<main><article><h1>{escape(title)}</h1><p class='byline'>By Staff Reporter</p>"
        f"{body}</article></main>"
        "<aside><h2>Related</h2><ul><li><a href='/x'>Markets close higher</a></li></ul></aside>"
        "<footer>© Fixture News. All rights reserved. Privacy · Terms</footer></body></html>"
    )


def title_only(row: dict[str, Any], url: str) -> dict[str, Any]:
    return {"title": row["title"], "summary": "", "url": url, "guid": url,
            "published": row["published"], "source": row["source"]}  # fmt: skip


def full(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("title", "summary", "url", "published", "source")} | {
        "guid": row["url"]
    }


@dataclass
class Bot:
    bot: NewsBot
    chat: RecordingAdapter
    server: FeedServer

    async def cycle(self) -> Seen:
        start = len(self.chat.calls)
        await self.bot.pipeline.run_cycle(force=True)
        return self.chat.since(start)

    async def articles(self) -> dict[str, ArticleRow]:
        rows = await self.bot.db.run(lambda s: list(s.scalars(select(ArticleRow))))
        return {r.url: r for r in rows}

    async def item(self, url: str) -> ItemRow:
        row = await self.bot.db.run(lambda s: s.scalars(select(ItemRow).filter_by(url=url)).one())
        assert isinstance(row, ItemRow)
        return row


@asynccontextmanager
async def open_news(
    server: FeedServer,
    tmp_path: Path,
    articles: ArticlesConfig,
    *,
    resolver: Resolver | None = None,
) -> AsyncIterator[Bot]:
    """The bot on two loopback feeds (a.xml, b.xml); the first cycle stores their backlog."""
    for path in ("a.xml", "b.xml"):
        server.add_feed(path, [full(OLD_RANA)])
    base = load_config(DEFAULT_CONFIG)
    feeds = [
        FeedConfig.model_validate({"url": server.url(p), "name": p, "allow_private": True})
        for p in ("a.xml", "b.xml")
    ]
    poll = base.poll.model_copy(update={"max_age": 0.0})  # the dev items carry old dates
    cfg: AppConfig = base.model_copy(update={"feeds": feeds, "poll": poll, "articles": articles})
    async with recording_bot(cfg, tmp_path, resolver=resolver) as (bot, chat):
        news = Bot(bot, chat, server)
        await news.cycle()
        yield news


async def test_a_title_only_item_made_relevant_by_its_article_alerts_with_its_lead(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    page = feed_server.set_response(
        "/news/hadr-drill",
        body=article_page(HADR["title"], HADR["summary"], SECOND),
        content_type="text/html; charset=utf-8",
    )
    async with open_news(feed_server, tmp_path, ArticlesConfig()) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), title_only(HADR, page)])

        seen = await news.cycle()

        assert len(seen.alerts) == 1
        assert HADR["title"] in seen.text()
        first_sentence = HADR["summary"].split(". ")[0]
        assert first_sentence in seen.text()  # the card's extract comes from the article
        item = await news.item(page)
        assert item.summary.startswith(HADR["summary"][:100])
        assert SECOND in item.summary  # the lead runs on into the next paragraph
        assert "Home" not in item.summary and "rights reserved" not in item.summary
        assert len(feed_server.requests_for("/news/hadr-drill")) == 1


async def test_disabled_no_article_is_fetched_and_the_headline_alone_decides(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    page = feed_server.set_response(
        "/news/hadr-drill",
        body=article_page(HADR["title"], HADR["summary"]),
        content_type="text/html",
    )
    async with open_news(feed_server, tmp_path, ArticlesConfig(enabled=False)) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), title_only(HADR, page)])

        seen = await news.cycle()

        assert not seen.alerts
        assert feed_server.requests_for("/news/hadr-drill") == []
        assert await news.articles() == {}


async def test_at_most_max_per_cycle_articles_are_fetched(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    paths = [f"/news/markets-{n}" for n in range(5)]
    items = []
    for n, path in enumerate(paths):
        url = feed_server.set_response(
            path, body=article_page("Markets", SENSEX["summary"]), content_type="text/html"
        )
        items.append(title_only(SENSEX | {"title": f"{SENSEX['title']} ({n})"}, url))
    async with open_news(feed_server, tmp_path, ArticlesConfig(max_per_cycle=2)) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), *items])

        await news.cycle()

        fetched = [p for p in paths if feed_server.requests_for(p)]
        assert len(fetched) == 2
        assert len(await news.articles()) == 2


async def test_items_over_the_article_budget_wait_for_the_next_cycles_and_then_alert(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # A burst of title-only items: the budget takes the oldest first, the rest are carried
    # over, and one that turns relevant on its article alerts in a later cycle, not never.
    paths = [f"/news/markets-{n}" for n in range(2)]
    items = [
        title_only(SENSEX | {"title": f"{SENSEX['title']} ({n})"}, feed_server.set_response(
            path, body=article_page("Markets", SENSEX["summary"]), content_type="text/html"
        ))
        for n, path in enumerate(paths)
    ]  # fmt: skip
    page = feed_server.set_response(
        "/news/hadr-drill",
        body=article_page(HADR["title"], HADR["summary"], SECOND),
        content_type="text/html; charset=utf-8",
    )
    async with open_news(feed_server, tmp_path, ArticlesConfig(max_per_cycle=1)) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), *items, title_only(HADR, page)])

        seen = [await news.cycle() for _ in range(3)]

        fetched = [len(feed_server.requests_for(p)) for p in [*paths, "/news/hadr-drill"]]
        assert fetched == [1, 1, 1]  # each page once, one per cycle
        assert [len(p.alerts) for p in seen] == [0, 0, 1]
        assert HADR["title"] in seen[2].text()
        assert (await news.item(page)).summary.startswith(HADR["summary"][:100])
        assert not (await news.cycle()).alerts  # nothing left waiting, nothing again
        assert [len(feed_server.requests_for(p)) for p in paths] == [1, 1]


async def test_a_cached_article_is_not_fetched_again(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # A paywall stub, no article text: the item keeps its headline, and the failure is cached
    # so the page costs one request, not one each time the item is considered.
    stub = "<html><body><nav><a href='/'>Home</a></nav><p>Subscribe to read.</p></body></html>"
    page = feed_server.set_response("/news/empty", body=stub, content_type="text/html")
    async with open_news(feed_server, tmp_path, ArticlesConfig()) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), title_only(SENSEX, page)])
        await news.cycle()
        item = await news.item(page)
        assert len(feed_server.requests_for("/news/empty")) == 1
        assert item.summary == ""

        live = await news.bot.db.run(load_runtime)
        again = await enrich_title_only(news.bot.db, live, [item.id], now=news.bot.pipeline.clock)

        assert again == []
        assert len(feed_server.requests_for("/news/empty")) == 1
        cached = (await news.articles())[page]
        assert cached.lead == "" and cached.error is not None
        assert "no article text" in cached.error


async def test_an_article_link_to_another_private_host_is_refused_without_connecting(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # The feeds are allowed onto their own loopback host; an article on another host that
    # resolves to a private address is judged like any link: refused before connecting.
    dns = MapResolver({"intranet.example": "127.0.0.1"})
    async with RawServer() as other:
        page = other.answer("/secret", b"HTTP/1.1 200 OK\r\n\r\n", host="intranet.example")
        async with open_news(feed_server, tmp_path, ArticlesConfig(), resolver=dns) as news:
            feed_server.add_feed("a.xml", [full(OLD_RANA), title_only(HADR, page)])

            seen = await news.cycle()

            assert other.connections == 0
            assert not seen.alerts
            refused = (await news.articles())[page]
            assert refused.error is not None
            assert "intranet.example (127.0.0.1), a private address; refused" in refused.error


async def test_a_stalled_article_site_does_not_hold_back_another_feeds_alert(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    timeout = 2.0
    page = feed_server.set_response(
        "/news/slow", body=article_page(HADR["title"], HADR["summary"]),
        content_type="text/html", delay=6.0,
    )  # fmt: skip
    async with open_news(feed_server, tmp_path, ArticlesConfig(timeout=timeout)) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), title_only(HADR, page)])
        feed_server.add_feed("b.xml", [full(OLD_RANA), full(TIGER)])
        start = len(news.chat.calls)
        began = time.perf_counter()
        cycle = asyncio.create_task(news.bot.pipeline.run_cycle(force=True))
        alert_at = None
        while not cycle.done():
            article_asked = bool(feed_server.requests_for("/news/slow"))
            if alert_at is None and news.chat.since(start).alerts:
                alert_at = time.perf_counter() - began
            # The alert is out before the article is even asked for.
            assert not article_asked or alert_at is not None
            await asyncio.sleep(0.01)
        await cycle
        took = time.perf_counter() - began

        assert alert_at is not None and alert_at < timeout
        assert TIGER["title"] in news.chat.since(start).text()
        assert took < 4.5  # the stalled page was given up after its timeout, not awaited
        error = (await news.articles())[page].error or ""
        assert "no answer within 2s (timeout)" in error


def test_title_only_means_the_summary_adds_nothing_to_the_headline() -> None:
    def item(title: str, summary: str, source: str = "The Hindu") -> Item:
        return Item(1, "k", 1, title, summary, "https://x.example/a", source, None, NOW)

    assert is_title_only(item("US and India sign pact", ""))
    assert is_title_only(item("US and India sign pact", "US and India sign pact The Hindu"))
    assert is_title_only(item("US and India sign pact", "The Hindu"))
    assert not is_title_only(item("US and India sign pact", HADR["summary"]))


def test_the_lead_is_cut_between_words_at_about_the_limit() -> None:
    words = " ".join(["partnership"] * 200)
    lead = lead_of(article_page("T", words, words).encode(), "https://x.example/a", 300)
    assert lead.endswith("…") and len(lead) <= 301
    assert lead[:-1].split(" ")[-1] == "partnership"


@pytest.mark.parametrize("kind", ["application/pdf", "image/png"])
async def test_a_page_that_is_not_html_is_skipped(
    feed_server: FeedServer, tmp_path: Path, kind: str
) -> None:
    page = feed_server.set_response("/doc", body=b"%PDF-1.7 ...", content_type=kind)
    async with open_news(feed_server, tmp_path, ArticlesConfig()) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), title_only(HADR, page)])
        await news.cycle()
        error = (await news.articles())[page].error or ""
        assert "is not an HTML page" in error and kind in error


async def test_a_google_news_item_is_judged_on_the_article_its_link_decodes_to(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    # Google's description is the headline and the outlet again: the decoded article link,
    # on the feed's own (allowed) host, is fetched.
    page = feed_server.set_response(
        "/news/national/hadr-drill.ece",
        body=article_page(HADR["title"], HADR["summary"], SECOND),
        content_type="text/html",
    )
    item = google_item(token(page), f"{HADR['title']} - The Hindu", "The Hindu")
    async with open_news(feed_server, tmp_path, ArticlesConfig()) as news:
        feed_server.add_feed("a.xml", [full(OLD_RANA), item])

        seen = await news.cycle()

        assert len(seen.alerts) == 1
        assert HADR["title"] in seen.text() and "The Hindu" in seen.text()
        assert len(feed_server.requests_for("/news/national/hadr-drill.ece")) == 1
        assert (await news.item(page)).summary.startswith(HADR["summary"][:80])
