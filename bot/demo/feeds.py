"""Builds RSS 2.0 feeds from labelled items and serves them on 127.0.0.1 with aiohttp."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from email.utils import format_datetime
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

ITEMS_FILE = "items.jsonl"


@dataclass(frozen=True, slots=True)
class DemoItem:
    id: str
    title: str
    summary: str
    url: str
    source: str
    published: datetime


def load_demo_items() -> list[DemoItem]:
    """The packaged labelled items (a copy of the eval set's dev items), oldest first."""
    text = resources.files("bot.demo").joinpath(ITEMS_FILE).read_text(encoding="utf-8")
    items = [_item(json.loads(line)) for line in text.splitlines() if line.strip()]
    return sorted(items, key=lambda i: (i.published, i.id))


def _item(raw: Mapping[str, Any]) -> DemoItem:
    published = datetime.fromisoformat(str(raw["published"]))
    if published.tzinfo is None:
        # A bare date: noon UTC keeps it on the same calendar day in every time zone in use.
        if len(str(raw["published"])) == 10:
            published = datetime.combine(published.date(), time(12), UTC)
        else:
            published = published.replace(tzinfo=UTC)
    return DemoItem(
        id=str(raw["id"]),
        title=str(raw["title"]),
        summary=str(raw.get("summary", "")),
        url=str(raw["url"]),
        source=str(raw.get("source", "")),
        published=published,
    )


def rss(title: str, link: str, items: Iterable[DemoItem]) -> str:
    """An RSS 2.0 document; every text is XML-escaped."""
    entries = "".join(
        "<item>"
        f"<title>{escape(i.title)}</title>"
        f"<link>{escape(i.url)}</link>"
        f'<guid isPermaLink="false">{escape(i.id)}</guid>'
        f"<description>{escape(i.summary)}</description>"
        f'<source url="{escape(i.url)}">{escape(i.source)}</source>'
        f"<pubDate>{format_datetime(i.published)}</pubDate>"
        "</item>"
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(title)}</description>{entries}</channel></rss>"
    )


def split_into_feeds(items: Sequence[DemoItem], count: int) -> list[list[DemoItem]]:
    """Spread items over ``count`` feeds by outlet, as real outlets each have their own feed."""
    feeds: list[list[DemoItem]] = [[] for _ in range(count)]
    for item in items:
        bucket = int(hashlib.sha256(item.source.encode()).hexdigest(), 16) % count
        feeds[bucket].append(item)
    return feeds


class DemoFeedServer:
    """Serves each feed at /feed/<n>.xml; ``publish`` decides how much of each is visible."""

    def __init__(self, feeds: Sequence[Sequence[DemoItem]]) -> None:
        self.feeds = [list(f) for f in feeds]
        self.visible = [0 for _ in feeds]
        self._runner: web.AppRunner | None = None
        self.port = 0

    def publish(self, fraction: float) -> None:
        """Make the oldest ``fraction`` of every feed's items visible."""
        self.visible = [round(len(f) * fraction) for f in self.feeds]

    def url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/feed/{n}.xml"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/feed/{n}.xml", self._feed)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _feed(self, request: web.Request) -> web.Response:
        try:
            n = int(request.match_info["n"])
            items = self.feeds[n][: self.visible[n]]
        except (ValueError, IndexError):
            raise web.HTTPNotFound() from None
        body = rss(f"Demo outlet feed {n}", self.url(n), reversed(items))
        return web.Response(text=body, content_type="application/rss+xml")
