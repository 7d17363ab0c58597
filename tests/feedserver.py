"""A loopback "news site" for tests, the demo and the benchmark: feeds with controllable behaviour.

    server = FeedServer()
    await server.start()
    server.add_feed("/rss", items=[{"title": "…", "url": "https://…", "published": "2024-03-18"}])
    url = server.url("/rss")            # http://127.0.0.1:PORT/rss
    server.set_response("/down", status=500)
    server.redirect("/old", "/rss", status=301)
    server.requests_for("/rss")[-1].headers["If-None-Match"]
    await server.stop()

Feeds added with ``add_feed``/``set_feed`` answer conditional GETs (ETag, Last-Modified → 304);
canned responses from ``set_response`` answer exactly as told, after an optional delay.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import format_datetime, parsedate_to_datetime
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

# A fixed Last-Modified for fixture feeds, so tests are repeatable.
DEFAULT_MODIFIED = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]


@dataclass(slots=True)
class CannedResponse:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float | None = None
    # Send the body in chunks with no Content-Length, as a streaming server would.
    stream: bool = False


@dataclass(slots=True)
class ServedFeed:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: datetime | None
    delay: float | None = None


class FeedServer:
    """An aiohttp server on 127.0.0.1 (a free port) serving fixture feeds.

    ``latency=(low, high)`` delays every response by a uniform random time (seeded), as a
    real site's response time would; a per-path ``delay`` overrides it.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        latency: tuple[float, float] | None = None,
        seed: int = 0,
        record: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.latency = latency
        self.random = random.Random(seed)
        self.record = record
        self.requests: list[RecordedRequest] = []
        # Requests being answered right now, and the most at once: checks concurrency limits.
        self.in_flight = 0
        self.max_in_flight = 0
        self.feeds: dict[str, ServedFeed] = {}
        self.responses: dict[str, CannedResponse] = {}
        # Add routes here before start() (the catch-all feed route is added last).
        self.app = web.Application()
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> FeedServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        self.app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(self.app, access_log=None, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + _path(path)

    # -- what the server serves ---------------------------------------------------------

    def add_feed(
        self,
        path: str,
        items: Iterable[Mapping[str, Any]],
        *,
        title: str = "Fixture News",
        link: str = "https://news.example.org/",
        etag: bool = True,
        last_modified: datetime | None = DEFAULT_MODIFIED,
        delay: float | None = None,
    ) -> str:
        """Serve an RSS 2.0 feed built from item dicts (see ``rss_from_items``); returns its URL."""
        body = rss_from_items(items, title=title, link=link)
        return self.set_feed(path, body, etag=etag, last_modified=last_modified, delay=delay)

    def set_feed(
        self,
        path: str,
        body: str | bytes,
        *,
        content_type: str = "application/rss+xml; charset=utf-8",
        etag: bool = True,
        last_modified: datetime | None = DEFAULT_MODIFIED,
        delay: float | None = None,
    ) -> str:
        """Serve a feed body as is, with ETag / Last-Modified and 304 answers."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        tag = f'"{hashlib.sha1(data).hexdigest()[:16]}"' if etag else None
        self.responses.pop(_path(path), None)
        self.feeds[_path(path)] = ServedFeed(data, content_type, tag, last_modified, delay)
        return self.url(path)

    def set_response(
        self,
        path: str,
        *,
        status: int = 200,
        body: str | bytes = b"",
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        delay: float | None = None,
        stream: bool = False,
    ) -> str:
        """Answer ``path`` exactly so: a status, a body, headers, after ``delay`` seconds."""
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        self.feeds.pop(_path(path), None)
        self.responses[_path(path)] = CannedResponse(status, data, hdrs, delay, stream)
        return self.url(path)

    def redirect(self, path: str, to: str, *, status: int = 301) -> str:
        """Redirect ``path`` to another path (or a full URL) with 301, 302, 307 or 308."""
        location = to if "://" in to else self.url(to)
        return self.set_response(path, status=status, headers={"Location": location})

    def remove(self, path: str) -> None:
        self.feeds.pop(_path(path), None)
        self.responses.pop(_path(path), None)

    def requests_for(self, path: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path == _path(path)]

    # -- serving -------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return await self._answer(request)
        finally:
            self.in_flight -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        if self.record:
            self.requests.append(RecordedRequest(request.method, path, dict(request.headers)))
        canned = self.responses.get(path)
        if canned is not None:
            await self._pause(canned.delay)
            return await self._canned(request, canned)
        served = self.feeds.get(path)
        if served is None:
            await self._pause(None)
            return web.Response(status=404, text="no such feed")
        await self._pause(served.delay)
        return _feed_response(request, served)

    async def _pause(self, delay: float | None) -> None:
        if delay is None and self.latency is not None:
            delay = self.random.uniform(*self.latency)
        if delay:
            await asyncio.sleep(delay)

    async def _canned(self, request: web.Request, canned: CannedResponse) -> web.StreamResponse:
        if not canned.stream:
            return web.Response(status=canned.status, body=canned.body, headers=canned.headers)
        resp = web.StreamResponse(status=canned.status, headers=canned.headers)
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        view = memoryview(canned.body)
        for start in range(0, len(view), 64 * 1024):
            try:
                await resp.write(bytes(view[start : start + 64 * 1024]))
            except ConnectionError:  # the client gave up reading, as a size cap does
                return resp
        await resp.write_eof()
        return resp


def _feed_response(request: web.Request, served: ServedFeed) -> web.Response:
    headers: dict[str, str] = {"Content-Type": served.content_type}
    if served.etag:
        headers["ETag"] = served.etag
    if served.last_modified:
        headers["Last-Modified"] = format_datetime(served.last_modified, usegmt=True)
    if _not_modified(request, served):
        return web.Response(status=304, headers=headers)
    return web.Response(status=200, body=served.body, headers=headers)


def _not_modified(request: web.Request, served: ServedFeed) -> bool:
    # RFC 9110: If-None-Match wins over If-Modified-Since when both are sent.
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        return served.etag is not None and served.etag in [
            t.strip() for t in if_none_match.split(",")
        ]
    since = request.headers.get("If-Modified-Since")
    if since and served.last_modified:
        try:
            return served.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def _path(path: str) -> str:
    return path if path.startswith("/") else "/" + path


# -- building feeds ----------------------------------------------------------------------


def rss_from_items(
    items: Iterable[Mapping[str, Any]],
    *,
    title: str = "Fixture News",
    link: str = "https://news.example.org/",
    description: str = "Fixture feed served on loopback",
) -> str:
    """An RSS 2.0 document from item dicts, every value XML-escaped.

    Item keys (all optional): ``title``, ``summary`` (HTML or text; sent escaped as RSS
    readers expect), ``url``, ``published`` (datetime, ``date`` or an ISO string such as
    ``2024-03-18``), ``guid``, ``source`` (the outlet's name, as aggregators send it).
    """
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title>",
        f"<link>{escape(link)}</link>",
        f"<description>{escape(description)}</description>",
    ]
    for item in items:
        parts.append(_rss_item(item))
    parts.append("</channel></rss>")
    return "\n".join(parts)


def _rss_item(item: Mapping[str, Any]) -> str:
    out = ["<item>"]
    if item.get("title") is not None:
        out.append(f"<title>{escape(str(item['title']))}</title>")
    if item.get("url"):
        out.append(f"<link>{escape(str(item['url']))}</link>")
    if item.get("summary") is not None:
        out.append(f"<description>{escape(str(item['summary']))}</description>")
    published = rfc822(item.get("published"))
    if published:
        out.append(f"<pubDate>{published}</pubDate>")
    if item.get("guid"):
        out.append(f'<guid isPermaLink="false">{escape(str(item["guid"]))}</guid>')
    if item.get("source"):
        source_url = str(item.get("source_url") or item.get("url") or "https://news.example.org/")
        out.append(f"<source url={quoteattr(source_url)}>{escape(str(item['source']))}</source>")
    out.append("</item>")
    return "".join(out)


def rfc822(value: object) -> str | None:
    """datetime / date / ISO string → an RSS pubDate; None for no date."""
    if value is None or value == "":
        return None
    when: datetime
    if isinstance(value, datetime):
        when = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day, tzinfo=UTC)
    else:
        when = datetime.fromisoformat(str(value))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
    return format_datetime(when.astimezone(UTC), usegmt=True)
