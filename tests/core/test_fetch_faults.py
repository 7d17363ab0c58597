"""Every fetch failure is one clear line that says what to do, never a library's own text.

The broken answers come from a raw socket server on 127.0.0.1 (aiohttp.web will not send a
lying Content-Length or a 9 KB header); the fetcher is the real one.
"""

from __future__ import annotations

import gzip

import pytest

from bot.config import PollConfig
from bot.core.fetch import Fetcher, FetchStatus
from bot.core.models import Feed
from tests.rawserver import RawServer

POLL = PollConfig(timeout=0.5, max_bytes=100_000, concurrency=4)
RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
# What a raw library message or a site's bytes look like; none may reach the user.
RAW = ("b'", "message=", "Error", "Got more than", "Data after", "<?xml", "aaaa", "^", "\n")


def head(status: str = "200 OK", *lines: str) -> bytes:
    return ("\r\n".join([f"HTTP/1.1 {status}", *lines]) + "\r\n\r\n").encode()


def redirect(to: str, status: str = "302 Found") -> bytes:
    return head(status, f"Location: {to}", "Content-Length: 0")


def page(status: str, body: str, *lines: str) -> bytes:
    data = body.encode()
    return head(status, f"Content-Length: {len(data)}", "Content-Type: text/html", *lines) + data


CLOUDFLARE = "<html><head><title>Just a moment...</title></head><body>Checking</body></html>"

# (case, answer for /feed, extra paths, expected phrase)
FAULTS: list[tuple[str, bytes, dict[str, bytes], str]] = [
    ("huge header", head("200 OK", "X-Big: " + "a" * 9000, "Content-Length: 2") + b"ok", {},
     "the site's response headers exceed 8 KB; the server is misbehaving"),
    ("too many headers",
     head("200 OK", *[f"X-{i}: {'b' * 90}" for i in range(200)], "Content-Length: 2") + b"ok",
     {}, "the site's response headers exceed 8 KB"),
    ("Content-Length longer than the body", head("200 OK", "Content-Length: 500") + RSS, {},
     "the response was cut off before its end"),
    ("data after Connection: close",
     head("200 OK", "Content-Length: 10", "Connection: close") + RSS, {},
     "the site's Content-Length does not match the body it sent"),
    ("duplicate Content-Length",
     head("200 OK", "Content-Length: 5", "Content-Length: 6") + b"hello!",
     {}, "the site's Content-Length does not match the body it sent"),
    ("malformed status line", b"HTTP/1.1 OK\r\n\r\n", {},
     "the site did not answer in HTTP (a malformed status line); check the address and port"),
    ("not HTTP at all", b"SSH-2.0-OpenSSH_9.0\r\n", {}, "a malformed status line"),
    ("broken chunk size", head("200 OK", "Transfer-Encoding: chunked") + b"zz\r\nabc\r\n", {},
     "the site sent a broken chunked body"),
    ("chunked body cut short", head("200 OK", "Transfer-Encoding: chunked") + b"100\r\nabc", {},
     "the response was cut off before its end"),
    ("corrupt gzip", head("200 OK", "Content-Encoding: gzip", "Content-Length: 5") + b"hello", {},
     "the site's compressed response is corrupt"),
    ("closed without answering", b"", {}, "the server closed the connection before answering"),
    ("redirect to file:", redirect("file:///etc/passwd"), {},
     "the site redirected to a file: address, which the bot never follows (only http and https)"),
    ("redirect to ftp:", redirect("ftp://127.0.0.1/feed.xml"), {}, "redirected to a ftp: address"),
    ("redirect to data:", redirect("data:text/xml,<rss/>"), {}, "redirected to a data: address"),
    ("redirect to javascript:", redirect("javascript:alert(1)"), {},
     "redirected to a javascript: address"),
    ("redirect without Location", head("302 Found", "Content-Length: 0"), {},
     "the site answered HTTP 302 (a redirect) without saying where to"),
    ("redirect loop", redirect("/loop"), {"/loop": redirect("/feed", "301 Moved Permanently")},
     "the site's redirects loop back to"),
    ("too many redirects", redirect("/hop/0"),
     {f"/hop/{n}": redirect(f"/hop/{n + 1}") for n in range(12)},
     "more than 10 redirects in a row; use the feed's final address"),
    ("no answer (timeout)", b"", {}, "the site sent no answer within 0.5s (timeout)"),
    ("stall mid-body", head("200 OK", "Content-Length: 5000") + RSS, {},
     "the site stalled: its response did not finish within 0.5s (timeout)"),
    ("403 Cloudflare header", page("403 Forbidden", "denied", "cf-mitigated: challenge"), {},
     "HTTP 403: the site shows a bot check (Cloudflare) instead of the feed; ask the site to "
     "allow newsbot or use another address"),
    ("403 Just a moment", page("403 Forbidden", CLOUDFLARE), {}, "bot check (Cloudflare)"),
    ("403 Attention Required", page("403 Forbidden", "<title>Attention Required! | Cloudflare"
                                    "</title>"), {}, "bot check (Cloudflare)"),
    ("503 DDoS-Guard", page("503 Service Unavailable", "<title>DDoS-Guard</title>"), {},
     "HTTP 503: the site shows a bot check (DDoS-Guard)"),
    ("403 Sucuri", page("403 Forbidden", "Sucuri WebSite Firewall - Access Denied"), {},
     "bot check (Sucuri)"),
    ("403 Akamai", page("403 Forbidden", "Access Denied. Reference #18.1 errors.edgesuite.net"),
     {}, "bot check (Akamai)"),
    ("403 DataDome", page("403 Forbidden", "<script src='https://ct.captcha-delivery.com/c.js'>"),
     {}, "bot check (DataDome)"),
    ("403 captcha", page("403 Forbidden", "<h1>Please solve this CAPTCHA</h1>"), {},
     "bot check (a CAPTCHA)"),
    ("403 plain", page("403 Forbidden", "no"), {},
     "HTTP 403 Forbidden: the site refuses our requests; check the address or ask the site"),
    ("410 Gone", page("410 Gone", "gone"), {}, "HTTP 410 Gone: the site says the feed is gone"),
]  # fmt: skip
STALLS = {"no answer (timeout)": {"stall_before": 2.0}, "stall mid-body": {"stall_after": 2.0}}


@pytest.mark.parametrize(("case", "answer", "more", "phrase"), FAULTS, ids=[f[0] for f in FAULTS])
async def test_each_fault_is_one_clear_line(
    case: str, answer: bytes, more: dict[str, bytes], phrase: str
) -> None:
    async with RawServer() as server:
        url = server.answer("/feed", answer, **STALLS.get(case, {}))
        for path, data in more.items():
            server.answer(path, data)
        async with Fetcher(POLL) as fetcher:
            result = await fetcher.fetch(Feed(1, url, "Fixture", allow_private=True))
    assert result.status is FetchStatus.FAILED
    assert result.error is not None and phrase in result.error
    assert not any(raw in result.error for raw in RAW), result.error


async def test_a_tls_failure_is_named() -> None:
    async with RawServer() as server:  # answers a TLS hello in plain HTTP, as a wrong port does
        url = server.url("/feed").replace("http://", "https://")
        async with Fetcher(POLL) as fetcher:
            result = await fetcher.fetch(Feed(1, url, "Fixture", allow_private=True))
    assert result.error == (
        "the secure (https) connection could not be set up; the site's TLS is broken, or that "
        "port does not speak https: check the address"
    )


async def test_a_valid_gzip_body_still_reads() -> None:
    # The corrupt-gzip case above fails for the corruption, not for gzip itself.
    body = gzip.compress(RSS)
    answer = head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(body)}") + body
    async with RawServer() as server:
        url = server.answer("/feed", answer)
        async with Fetcher(POLL) as fetcher:
            result = await fetcher.fetch(Feed(1, url, "Fixture", allow_private=True))
    assert result.status is FetchStatus.OK and result.body == RSS
