"""``newsbot eval --title-only``: the labelled items as headlines alone, their articles fetched.

Each item's summary is removed, as a Google News feed gives it. The bot's own path then runs:
an item its headline alone does not make relevant has its article fetched (the real
:class:`~bot.core.articles.ArticleFetcher`: guard, caps, trafilatura) and is matched again on
the lead. The articles are pages a loopback server builds from the labelled summaries (a
news site's layout around them: menus, byline, related links, footer), so nothing leaves the
machine. Recall is reported beside the full-text run's: the issue's target is ≥ 0.9× it.

Differences from the live bot, on purpose: every candidate is fetched (``articles.max_per_cycle``
is a per-cycle budget, and the eval has no cycles), and stories are grouped in published
order rather than the enriched items after the others of their cycle.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import replace
from html import escape
from pathlib import Path
from typing import Any, TextIO

from aiohttp import web

from bot.config import AppConfig
from bot.core.articles import ArticleFetcher
from bot.core.matching import Matcher
from bot.core.models import Feed, Item
from bot.evaluation import EvalItem, format_table, read_items_file, run_predictions, score

ARTICLE_PATH = "/articles/{n}"


def article_page(title: str, text: str) -> str:
    """A news site's article page around ``text``: the extractor must find the story in it."""
    return (
        f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
        "<header><nav><a href='/'>Home</a> <a href='/india'>India</a> "
        "<a href='/world'>World</a> <a href='/business'>Business</a></nav></header>"
        f"<main><article><h1>{escape(title)}</h1><p class='byline'>By our correspondent</p>"
        f"<p>{escape(text)}</p></article></main>"
        "<aside><h2>Most read</h2><ul><li><a href='/a'>Markets end the week higher</a></li>"
        "<li><a href='/b'>Monsoon reaches Kerala</a></li></ul></aside>"
        "<footer>© Loopback Times. All rights reserved. Privacy · Terms</footer></body></html>"
    )


def headline_only(ev: EvalItem, n: int) -> Item:
    return Item(n, ev.id, None, ev.title, "", ev.url, ev.source, ev.published, ev.published)


async def _leads(items: list[EvalItem], wanted: list[int], cfg: AppConfig) -> dict[int, str]:
    """The leads of the articles of ``items[n]`` for n in ``wanted``, fetched from loopback."""
    pages = {
        ARTICLE_PATH.format(n=n): article_page(items[n].title, items[n].summary) for n in wanted
    }

    async def serve(request: web.Request) -> web.Response:
        page = pages.get(request.path)
        if page is None:
            return web.Response(status=404)
        return web.Response(text=page, content_type="text/html")

    app = web.Application()
    app.router.add_get("/articles/{n}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        base = f"http://127.0.0.1:{port}"
        # The articles are on the feed's own host, which is allowed onto loopback.
        feed = Feed(id=1, url=f"{base}/feed.xml", name="eval", allow_private=True)
        async with ArticleFetcher(cfg.poll, cfg.articles, concurrency=20) as fetcher:
            got = await asyncio.gather(
                *(
                    fetcher.lead(base + ARTICLE_PATH.format(n=n), feed, items[n].title)
                    for n in wanted
                )
            )
    finally:
        await runner.cleanup()
    return {n: lead.lead for n, lead in zip(wanted, got, strict=True) if lead.lead}


def title_only_figures(items: list[EvalItem], cfg: AppConfig) -> dict[str, Any]:
    """Scores of the title-only run (headline + article lead where the bot would fetch it),
    with the headline-alone and full-text recalls beside it."""
    matcher = Matcher.from_config(cfg)
    wanted = [
        n for n, ev in enumerate(items) if not matcher.match(headline_only(ev, n + 1)).relevant
    ]
    started = time.perf_counter()
    leads = asyncio.run(_leads(items, wanted, cfg))
    seconds = time.perf_counter() - started
    bare = [replace(ev, summary="") for ev in items]
    enriched = [replace(ev, summary=leads.get(n, "")) for n, ev in enumerate(items)]
    full = score(items, run_predictions(items, cfg))
    alone = score(bare, run_predictions(bare, cfg))
    res = score(enriched, run_predictions(enriched, cfg))
    recall = res["relevance"]["recall"]
    full_recall = full["relevance"]["recall"]
    res["title_only"] = {
        "full_text_recall": full_recall,
        "headline_alone_recall": alone["relevance"]["recall"],
        "recall": recall,
        "ratio": recall / full_recall if full_recall else 0.0,
        "fetched": len(wanted),
        "with_lead": len(leads),
        "fetch_seconds": seconds,
    }
    return res


def describe(res: dict[str, Any]) -> str:
    t = res["title_only"]
    return (
        f"title-only recall {t['recall']:.3f} = {t['ratio']:.2f}× the full-text recall "
        f"{t['full_text_recall']:.3f} (headline alone {t['headline_alone_recall']:.3f}); "
        f"{t['fetched']} articles fetched from loopback, {t['with_lead']} with a lead, "
        f"in {t['fetch_seconds']:.2f}s"
    )


def run_title_only_eval(
    path: Path, as_json: bool, cfg: AppConfig, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """The ``newsbot eval --title-only`` command; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    read = read_items_file(path, err)
    if read is None:
        return 2
    if not any(i.gold_relevant is not None for i in read.items):
        print(f"newsbot eval: {path} has no labelled items; --title-only compares recalls, "
              "so it needs items with 'relevant'", file=err)  # fmt: skip
        return 2
    res = title_only_figures(read.items, cfg)
    if as_json:
        print(json.dumps(res), file=out)
    else:
        print(format_table(res), file=out)
        print(describe(res), file=out)
    return 0
