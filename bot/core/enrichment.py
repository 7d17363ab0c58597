"""A cycle's title-only items given their article's lead, within a per-cycle budget.

Runs after the cycle's first alerts are out, so a slow article site delays nothing but the
items that wait for it. Of the cycle's new items matched not relevant, those whose summary
says nothing beyond the headline get the lead of their article (from the cache, else
fetched: at most ``articles.max_per_cycle`` pages, all in flight at once, each within
``articles.timeout``) as their summary; the caller matches them again on it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

from bot.config import AppConfig
from bot.core.articles import ArticleFetcher, fetchable, is_title_only
from bot.core.fetch import Resolver, safe_url
from bot.core.models import ArticleLead, Feed, Item
from bot.storage.articles import cached_articles, save_articles, set_summaries, unrelevant_items
from bot.storage.db import Database

logger = logging.getLogger(__name__)

# Beyond each request's own timeout: time for the pages' extraction, which runs in threads.
EXTRACT_GRACE = 5.0


async def enrich_title_only(
    db: Database,
    cfg: AppConfig,
    ids: Sequence[int],
    *,
    now: Callable[[], datetime],
    resolver: Resolver | None = None,
) -> list[int]:
    """Give the title-only items among ``ids`` their article's lead; returns the ids of the
    items whose summary changed."""
    articles = cfg.articles
    if not articles.enabled or not ids:
        return []
    candidates = await db.run(partial(unrelevant_items, ids=ids))
    wanted = [(i, f) for i, f in candidates if fetchable(i) and is_title_only(i)]
    if not wanted:
        return []
    urls = list(dict.fromkeys(_url(i) for i, _ in wanted))
    known = await db.run(partial(cached_articles, urls=urls))
    pages = {_url(i): (f, i.title) for i, f in wanted if _url(i) not in known}
    todo = list(pages.items())[: articles.max_per_cycle]
    if len(pages) > len(todo):
        logger.info(
            "%d title-only item(s) keep their headline alone this cycle: articles.max_per_cycle "
            "is %d",
            len(pages) - len(todo),
            articles.max_per_cycle,
        )
    fetched = await _fetch(cfg, todo, resolver) if todo else {}
    if fetched:
        await db.run(partial(save_articles, articles=fetched, now=now()))
    leads = {**known, **fetched}
    summaries = {i.id: lead.lead for i, _ in wanted if (lead := leads.get(_url(i))) and lead.lead}
    if summaries:
        await db.run(partial(set_summaries, summaries=summaries))
    return list(summaries)


def _url(item: Item) -> str:
    return item.url or ""


async def _fetch(
    cfg: AppConfig, todo: Sequence[tuple[str, tuple[Feed | None, str]]], resolver: Resolver | None
) -> dict[str, ArticleLead]:
    """The pages' leads; a page still out when the budget ends is left for no one (not
    cached: its item keeps its headline alone)."""
    async with ArticleFetcher(
        cfg.poll, cfg.articles, concurrency=len(todo), resolver=resolver
    ) as pages:
        tasks = {url: asyncio.create_task(pages.lead(url, *page)) for url, page in todo}
        await asyncio.wait(tasks.values(), timeout=cfg.articles.timeout + EXTRACT_GRACE)
        out: dict[str, ArticleLead] = {}
        for url, task in tasks.items():
            if not task.done():
                task.cancel()
                logger.warning("article %s: no lead within the cycle's budget", safe_url(url))
            elif task.exception() is not None:
                logger.error(
                    "article %s: extraction failed", safe_url(url), exc_info=task.exception()
                )
                out[url] = ArticleLead("", "the article's text could not be extracted")
            else:
                out[url] = task.result()
                if out[url].error:
                    logger.info("%s", out[url].error)
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        return out
