"""HTTP for feeds: conditional GET, total timeout, size cap, redirects, Retry-After and backoff."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from yarl import URL

from bot.config import PollConfig
from bot.core.models import Feed
from bot.core.netguard import private_address_of

logger = logging.getLogger(__name__)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)
PERMANENT_REDIRECTS = frozenset({301, 308})
# A Retry-After far in the future is honoured, but not beyond a week: sites mistype it.
MAX_RETRY_AFTER = 7 * 86400.0
_CHUNK = 64 * 1024
_SECRET_WORDS = ("key", "token", "secret", "pass", "auth", "sig", "session", "sid")

_HTTP_HINTS = {
    401: "the site wants a login; the feed is not public",
    403: "the site refuses our requests; check the address or ask the site",
    404: "the feed address is wrong or the feed was removed; check it",
    410: "the site says the feed is gone for good; remove it or find its new address",
    429: "the site asks us to slow down",
}


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


class RedirectRefused(aiohttp.ClientError):
    """A public site redirected us to a private address: never followed (SSRF)."""


async def _refuse_private_redirect(
    _session: aiohttp.ClientSession,
    _ctx: object,
    params: aiohttp.TraceRequestRedirectParams,
) -> None:
    """A feed on a public host must not bounce the bot onto an internal service. A feed that
    is itself on a private host (configured so on purpose, as in tests) may redirect there."""
    location = params.response.headers.get("Location")
    if not location:
        return
    target = params.url.join(URL(location))
    if not target.host or not params.url.host:
        return
    try:
        private_target = await private_address_of(target.host, target.port or 443)
        if private_target is None:
            return
        if await private_address_of(params.url.host, params.url.port or 443) is not None:
            return
    except OSError:
        return  # the request itself will fail with a clear "does not resolve" message
    raise RedirectRefused(
        f"the site redirected to {target.host}, a private address ({private_target}); refused"
    )


class Fetcher:
    """One shared ClientSession; at most ``poll.concurrency`` requests in flight.

    Use as ``async with Fetcher(poll) as fetcher: await fetcher.fetch(feed)``.
    """

    def __init__(self, poll: PollConfig) -> None:
        self.poll = poll
        self._session: aiohttp.ClientSession | None = None
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
        connector = aiohttp.TCPConnector(
            limit=self.poll.concurrency, limit_per_host=0, ttl_dns_cache=300
        )
        traces = []
        if not self.poll.allow_private_addresses:
            guard = aiohttp.TraceConfig()
            guard.on_request_redirect.append(_refuse_private_redirect)
            traces.append(guard)
        self._session = aiohttp.ClientSession(
            connector=connector,
            trace_configs=traces,
            timeout=aiohttp.ClientTimeout(total=self.poll.timeout),
            headers={"User-Agent": self.poll.user_agent, "Accept": ACCEPT},
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, feed: Feed) -> FetchResult:
        """GET one feed. Never raises for network or HTTP trouble: the result says what failed."""
        if self._session is None:
            await self.start()
        assert self._session is not None
        async with self._slots:
            started = time.perf_counter()
            try:
                result = await self._get(self._session, feed)
            except TimeoutError:
                result = _failed(
                    feed, f"no complete answer within {self.poll.timeout:g}s (timeout)"
                )
            except RedirectRefused as exc:
                result = _failed(feed, str(exc))
            except aiohttp.ClientError as exc:
                result = _failed(feed, describe_client_error(exc, safe_url(feed.url)))
            except ValueError:  # yarl/aiohttp reject some malformed URLs this way
                result = _failed(feed, "the feed address is not a valid URL; correct it")
            except Exception as exc:  # a surprise in one feed must not end the whole cycle
                logger.exception(
                    "fetching feed %s (%s) failed unexpectedly", feed.id, safe_url(feed.url)
                )
                result = _failed(
                    feed, f"unexpected error while fetching ({exc.__class__.__name__})"
                )
            return _with_seconds(result, time.perf_counter() - started)

    async def _get(self, session: aiohttp.ClientSession, feed: Feed) -> FetchResult:
        headers: dict[str, str] = {}
        if feed.etag:
            headers["If-None-Match"] = feed.etag
        if feed.last_modified:
            headers["If-Modified-Since"] = feed.last_modified
        async with session.get(URL(feed.url, encoded=False), headers=headers) as resp:
            moved_to = _permanent_target(resp)
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
                retry_after = None
                if resp.status in (429, 503):
                    retry_after = parse_retry_after(resp.headers.get("Retry-After"))
                return FetchResult(
                    feed,
                    FetchStatus.FAILED,
                    resp.status,
                    moved_to=moved_to,
                    error=describe_http_status(resp.status, resp.reason),
                    retry_after=retry_after,
                )
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


def _permanent_target(resp: aiohttp.ClientResponse) -> str | None:
    # A temporary hop anywhere on the way means the old address is still the one to keep.
    if resp.history and all(h.status in PERMANENT_REDIRECTS for h in resp.history):
        return str(resp.url)
    return None


def describe_http_status(status: int, reason: str | None) -> str:
    text = f"HTTP {status}" + (f" {reason}" if reason else "")
    hint = _HTTP_HINTS.get(status)
    if hint is None and status >= 500:
        hint = "the site has a server-side problem"
    return f"{text}: {hint}" if hint else text


def describe_client_error(exc: aiohttp.ClientError, url: str) -> str:
    """One short phrase per kind of network failure; no tracebacks in chat."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"the host name {exc.host} does not resolve (DNS lookup failed)"
    if isinstance(exc, aiohttp.ClientConnectorError):
        reason = _os_reason(exc.os_error)
        return (
            f"cannot connect to {exc.host}:{exc.port} ({reason.lower()}); the host is unreachable"
        )
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "too many redirects; the address loops"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the server closed the connection before answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "the response was cut off or badly encoded"
    if isinstance(exc, aiohttp.InvalidURL):
        return f"the feed address is not a valid URL ({url})"
    return f"the request failed ({exc.__class__.__name__}: {exc})"


def _os_reason(err: OSError) -> str:
    # asyncio puts "Connect call failed (addr)" in strerror; the errno says it plainly.
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if err.errno:
        return os.strerror(err.errno)
    return err.__class__.__name__


def _failed(feed: Feed, error: str) -> FetchResult:
    return FetchResult(feed, FetchStatus.FAILED, error=error)


def _with_seconds(result: FetchResult, seconds: float) -> FetchResult:
    return replace(result, seconds=seconds)


def _size(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"
