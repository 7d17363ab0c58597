"""HTTP for feeds: conditional GET, total timeout, size cap, redirects, Retry-After and backoff."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from bot.config import PollConfig
from bot.core.fetch_errors import (
    CHALLENGE_READ,
    RETRIED,
    bot_check,
    describe_bot_check,
    describe_client_error,
    describe_http_status,
)
from bot.core.models import Feed
from bot.core.netguard import Dial, dialling, guarded_socket

logger = logging.getLogger(__name__)

# The DNS a fetcher asks (aiohttp's resolver interface): the system's unless one is given.
Resolver = AbstractResolver

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PERMANENT_REDIRECTS = frozenset({301, 308})
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 10
# A Retry-After far in the future is honoured, but not beyond a week: sites mistype it.
MAX_RETRY_AFTER = 7 * 86400.0
_CHUNK = 64 * 1024
_SECRET_WORDS = ("key", "token", "secret", "pass", "auth", "sig", "session", "sid")


class FetchStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one request left behind. ``error`` is a short phrase saying what was wrong."""

    feed: Feed
    status: FetchStatus
    http_status: int | None = None
    body: bytes = b""
    content_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    # Set only when every redirect on the way was permanent (301/308): the feed has moved.
    moved_to: str | None = None
    error: str | None = None
    retry_after: float | None = None  # seconds, from a 429/503's Retry-After
    seconds: float = 0.0


def safe_url(url: str) -> str:
    """A feed address fit for logs and chat: no user:password, secret-looking values hidden.

    Private feeds carry keys in their address (``?token=…``, ``user:pass@``); those must not
    reach a log line or a channel.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(an address that cannot be parsed)"
    netloc = (f"[{host}]" if ":" in host else host) + port
    query = "&".join(_redact(pair) for pair in parts.query.split("&")) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _redact(pair: str) -> str:
    name, sep, _ = pair.partition("=")
    if sep and any(word in name.lower() for word in _SECRET_WORDS):
        return f"{name}=…"
    return pair


def backoff_delay(failures: int, poll: PollConfig) -> float:
    """Seconds to wait after the ``failures``-th failure in a row: base, 2×base, … up to max."""
    if failures <= 0:
        return poll.interval
    exponent = min(failures - 1, 32)  # 2**32 × any base is far beyond any sane maximum
    return float(min(poll.backoff_base * 2**exponent, poll.backoff_max))


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) → seconds from now, or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


class FetchProblem(Exception):
    """A fetch that cannot go on; its text is the one line the user sees."""


class Fetcher:
    """ClientSessions sharing at most ``poll.concurrency`` requests in flight.

    Every connection passes the private-address guard (:mod:`bot.core.netguard`) on the
    address actually dialled. A pooled connection skips that check when it is reused, so the
    pools are split by what they may hold: the public session's pool only ever holds public
    addresses, and feeds allowed onto a private network get one session per own host, whose
    pool can hold a private connection only to that host, the one host every feed using it
    may reach. ``resolver`` (aiohttp's) is the DNS the connectors use; None: the system's.

    Use as ``async with Fetcher(poll) as fetcher: await fetcher.fetch(feed)``.
    """

    def __init__(self, poll: PollConfig, *, resolver: Resolver | None = None) -> None:
        self.poll = poll
        self.resolver = resolver
        self._session: aiohttp.ClientSession | None = None
        self._private_sessions: dict[str, aiohttp.ClientSession] = {}
        # The connector limit alone would let queued requests eat their own timeout while
        # waiting for a free connection; the semaphore starts the clock only once admitted.
        self._slots = asyncio.Semaphore(poll.concurrency)

    async def __aenter__(self) -> Fetcher:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        if self._session is not None:
            return
        self._session = self._new_session()

    def _new_session(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.poll.concurrency,
            limit_per_host=0,
            ttl_dns_cache=300,
            resolver=self.resolver,
            socket_factory=guarded_socket,
        )
        return aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=self.poll.timeout),
            headers={"User-Agent": self.poll.user_agent, "Accept": ACCEPT},
        )

    async def close(self) -> None:
        for session in (self._session, *self._private_sessions.values()):
            if session is not None:
                await session.close()
        self._session = None
        self._private_sessions.clear()

    async def fetch(self, feed: Feed, *, linked_from: Feed | None = None) -> FetchResult:
        """GET one feed. Never raises for network or HTTP trouble: the result says what failed.

        ``linked_from``: ``feed`` is a page that feed links to (an article); it may reach what
        that feed may reach (a private address only on that feed's own host).
        """
        if self._session is None:
            await self.start()
        owner = linked_from or feed
        dial = Dial(owner.name, _host_of(owner.url), owner.allow_private)
        session = self._session_for(dial)
        async with self._slots:
            started = time.perf_counter()
            with dialling(dial):
                result = await self._fetch_guarded(session, feed, dial)
            return _with_seconds(result, time.perf_counter() - started)

    def _session_for(self, dial: Dial) -> aiohttp.ClientSession:
        if not dial.allow_private:
            assert self._session is not None
            return self._session
        host = (dial.feed_host or "").lower()
        session = self._private_sessions.get(host)
        if session is None:
            session = self._private_sessions[host] = self._new_session()
        return session

    async def _fetch_guarded(
        self, session: aiohttp.ClientSession, feed: Feed, dial: Dial
    ) -> FetchResult:
        try:
            return await self._get(session, feed, dial)
        except TimeoutError as exc:
            return _failed(feed, self._timeout_problem(exc, dial))
        except FetchProblem as exc:
            return _failed(feed, str(exc))
        except aiohttp.ClientConnectorError as exc:
            # With several addresses the refusal can come back inside a combined OSError.
            return _failed(feed, dial.refused or describe_client_error(exc, safe_url(feed.url)))
        except aiohttp.ClientError as exc:
            return _failed(feed, describe_client_error(exc, safe_url(feed.url)))
        except ValueError:  # yarl/aiohttp reject some malformed URLs this way
            return _failed(feed, "the feed address is not a valid URL; correct it")
        except Exception as exc:  # a surprise in one feed must not end the whole cycle
            logger.exception("fetching feed %s (%s) failed", feed.id, safe_url(feed.url))
            return _failed(feed, f"unexpected error while fetching ({exc.__class__.__name__})")

    def _timeout_problem(self, exc: TimeoutError, dial: Dial) -> str:
        limit = f"{self.poll.timeout:g}s"
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            return f"no connection to {dial.host} within {limit} (timeout); {RETRIED}"
        if dial.reading:
            return (
                f"the site stalled: its response did not finish within {limit} (timeout); {RETRIED}"
            )
        return f"the site sent no answer within {limit} (timeout); {RETRIED}"

    async def _get(self, session: aiohttp.ClientSession, feed: Feed, dial: Dial) -> FetchResult:
        headers: dict[str, str] = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        url = URL(feed.url, encoded=False)
        seen = {str(url)}
        permanent: bool | None = None  # None: no redirect yet
        for _ in range(MAX_REDIRECTS + 1):
            dial.host, dial.reading, dial.refused = url.host, False, None
            async with session.get(url, headers=headers, allow_redirects=False) as resp:
                target = _redirect_target(resp)
                if target is None:
                    dial.reading = True
                    return await self._answer(resp, feed, str(url) if permanent else None)
            permanent = resp.status in PERMANENT_REDIRECTS and permanent is not False
            if str(target) in seen:
                raise FetchProblem(
                    f"the site's redirects loop back to {safe_url(str(target))}; the site is "
                    "misconfigured: ask it to fix the redirect, or use the feed's final address"
                )
            seen.add(str(target))
            url = target
        raise FetchProblem(
            f"more than {MAX_REDIRECTS} redirects in a row; use the feed's final address"
        )

    async def _answer(
        self, resp: aiohttp.ClientResponse, feed: Feed, moved_to: str | None
    ) -> FetchResult:
        if resp.status == 304:
            return FetchResult(
                feed,
                FetchStatus.NOT_MODIFIED,
                304,
                etag=resp.headers.get("ETag") or feed.etag,
                last_modified=resp.headers.get("Last-Modified") or feed.last_modified,
                moved_to=moved_to,
            )
        if resp.status >= 400:
            return await self._refused(resp, feed, moved_to)
        body = await self._read_capped(resp)
        if body is None:
            return FetchResult(
                feed,
                FetchStatus.FAILED,
                resp.status,
                moved_to=moved_to,
                error=f"the response is larger than the "
                f"{_size(self.poll.max_bytes)} cap (poll.max_bytes)",
            )
        return FetchResult(
            feed,
            FetchStatus.OK,
            resp.status,
            body=body,
            content_type=resp.headers.get("Content-Type"),
            etag=resp.headers.get("ETag"),
            last_modified=resp.headers.get("Last-Modified"),
            moved_to=moved_to,
        )

    async def _refused(
        self, resp: aiohttp.ClientResponse, feed: Feed, moved_to: str | None
    ) -> FetchResult:
        retry_after = None
        if resp.status in (429, 503):
            retry_after = parse_retry_after(resp.headers.get("Retry-After"))
        error = describe_http_status(resp.status, resp.reason)
        if resp.status in (403, 429, 503):
            try:
                head = await resp.content.read(CHALLENGE_READ)
            except (aiohttp.ClientError, TimeoutError):
                head = b""
            vendor = bot_check(resp.headers, head)
            if vendor is not None:
                error = describe_bot_check(resp.status, vendor)
        return FetchResult(
            feed,
            FetchStatus.FAILED,
            resp.status,
            moved_to=moved_to,
            error=error,
            retry_after=retry_after,
        )

    async def _read_capped(self, resp: aiohttp.ClientResponse) -> bytes | None:
        """The body, or None as soon as it exceeds max_bytes (counted after decompression)."""
        cap = self.poll.max_bytes
        if resp.content_length is not None and resp.content_length > cap:
            return None
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_chunked(_CHUNK):
            total += len(chunk)
            if total > cap:
                return None
            chunks.append(chunk)
        return b"".join(chunks)


def _host_of(url: str) -> str | None:
    # As yarl spells it, the form each hop's host is compared in.
    try:
        return URL(url, encoded=False).host
    except ValueError:
        return None


def _redirect_target(resp: aiohttp.ClientResponse) -> URL | None:
    """Where a redirect leads, or None when ``resp`` is the answer. Raises FetchProblem for a
    redirect the bot will not follow."""
    if resp.status not in REDIRECTS:
        return None
    location = resp.headers.get("Location")
    if not location:
        raise FetchProblem(
            f"the site answered HTTP {resp.status} (a redirect) without saying where to; "
            "the server is misconfigured, check the address"
        )
    try:
        target = resp.url.join(URL(location))
    except ValueError:
        raise FetchProblem(
            "the site redirected to an address that is not a valid URL; use the feed's "
            "final address"
        ) from None
    if target.scheme not in ("http", "https") or not target.host:
        scheme = target.scheme if target.scheme.isalnum() and len(target.scheme) < 20 else "?"
        raise FetchProblem(
            f"the site redirected to a {scheme}: address, which the bot never follows "
            "(only http and https); ask the site to fix it, or use the feed's final address"
        )
    return target


def _failed(feed: Feed, error: str) -> FetchResult:
    return FetchResult(feed, FetchStatus.FAILED, error=error)


def _with_seconds(result: FetchResult, seconds: float) -> FetchResult:
    return replace(result, seconds=seconds)


def _size(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"
