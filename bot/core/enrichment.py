"""A cycle's title-only items given their article's lead, within a per-cycle budget.

Runs after the cycle's first alerts are out, so a slow article site delays nothing but the
items that wait for it. Of the cycle's new items matched not relevant, those whose summary
says nothing beyond the headline get the lead of their article (from the cache, else
fetched: at most ``articles.max_per_cycle`` pages, all in flight at once, each within
``articles.timeout``) as their summary; the caller matches them again on it. Items the budget
could not reach (a burst, a slow site) are carried over: the next cycles take them first,
oldest first, for up to ``CARRY_WINDOW`` after they were stored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from bot.config import AppConfig
from bot.core.articles import ArticleFetcher, fetchable, is_title_only
from bot.core.fetch import Resolver, safe_url
from bot.core.ingest import NewItem
from bot.core.models import ArticleLead, Feed, Item
from bot.storage.articles import (
    cached_articles,
    save_articles,
    set_summaries,
    unrelevant_items,
    waiting_for_articles,
)
from bot.storage.db import Database

logger = logging.getLogger(__name__)

# Beyond each request's own timeout: time for the pages' extraction, which runs in threads.
EXTRACT_GRACE = 5.0
# How long an item the article budget could not reach waits for a later cycle's budget: a lead
# a day late still finds a follow-up worth an alert; older is left to its headline.
CARRY_WINDOW = timedelta(days=1)
# Earlier items looked at per cycle, per page of budget (most of them turn out to be cached or
# not title-only, and cost nothing).
CARRY_LOOKAHEAD = 4


async def enrich_title_only(
    db: Database,
    cfg: AppConfig,
    ids: Sequence[int],
    *,
    now: Callable[[], datetime],
    resolver: Resolver | None = None,
) -> list[NewItem]:
    """Give the title-only items among ``ids``, and those earlier cycles left waiting, their
    article's lead; returns the items whose summary changed, for matching again."""
    articles = cfg.articles
    if not articles.enabled:
        return []
    limit = articles.max_per_cycle * CARRY_LOOKAHEAD
    waiting = await db.run(partial(waiting_for_articles, since=now() - CARRY_WINDOW, limit=limit))
    fresh = set(ids)
    # Earlier items first: they have waited longest, and a burst must not starve them.
    ordered = [*(i for i in waiting if i not in fresh), *ids]
    if not ordered:
        return []
    candidates = await db.run(partial(unrelevant_items, ids=ordered))
    wanted = [(i, f) for i, f in candidates if fetchable(i) and is_title_only(i)]
    if not wanted:
        return []
    urls = list(dict.fromkeys(_url(i) for i, _ in wanted))
    known = await db.run(partial(cached_articles, urls=urls))
    pages = {_url(i): (f, i.title) for i, f in wanted if _url(i) not in known}
    todo = list(pages.items())[: articles.max_per_cycle]
    if len(pages) > len(todo):
        logger.info(
            "%d title-only item(s) wait for a later cycle's article budget "
            "(articles.max_per_cycle is %d)",
            len(pages) - len(todo),
            articles.max_per_cycle,
        )
    fetched = await _fetch(cfg, todo, resolver) if todo else {}
    if fetched:
        await db.run(partial(save_articles, articles=fetched, now=now()))
    leads = {**known, **fetched}
    changed = [i for i, _ in wanted if (lead := leads.get(_url(i))) and lead.lead]
    if changed:
        summaries = {i.id: leads[_url(i)].lead for i in changed}
        await db.run(partial(set_summaries, summaries=summaries))
    return [NewItem(i.id, i.published or i.first_seen) for i in changed]


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
