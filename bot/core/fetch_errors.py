"""What each fetch failure tells a person: one line, what was wrong and what to do.

Library exception text (parser excerpts, byte dumps) never reaches a message: it says nothing
to an admin, and it can carry the site's own bytes.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import aiohttp

from bot.core.netguard import AddressRefused

RETRIED = "it is retried with backoff"

_HTTP_HINTS = {
    400: "the site rejects the request as malformed; check the feed address",
    401: "the site wants a login; the feed is not public: use its public address or remove it",
    403: "the site refuses our requests; check the address or ask the site",
    404: "the feed address is wrong or the feed was removed; check it",
    410: "the site says the feed is gone for good; find its new address",
    429: "the site asks us to slow down",
}

# Bot checks (JavaScript challenges, CAPTCHAs) served instead of the feed, by vendor: a body
# marker or header each vendor's page carries. Read from the first few kB of a 403/429/503.
_CHALLENGES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("Cloudflare", re.compile(r"just a moment\.\.\.|attention required! \| cloudflare|"
                              r"cf-browser-verification|/cdn-cgi/challenge-platform|cf-chl-")),
    ("DDoS-Guard", re.compile(r"ddos-guard")),
    ("Sucuri", re.compile(r"sucuri website firewall|sucuri\.net")),
    ("Akamai", re.compile(r"errors\.edgesuite\.net|akamai")),
    ("DataDome", re.compile(r"captcha-delivery\.com|datadome")),
    ("Imperva", re.compile(r"incapsula incident|_incapsula_resource")),
    ("a CAPTCHA", re.compile(r"captcha|are you a robot|verify you are human")),
)  # fmt: skip
_CHALLENGE_HEADERS = (
    ("cf-mitigated", "challenge", "Cloudflare"),
    ("server", "ddos-guard", "DDoS-Guard"),
    ("x-sucuri-id", "", "Sucuri"),
    ("x-datadome", "", "DataDome"),
    ("x-datadome-cid", "", "DataDome"),
)
CHALLENGE_READ = 32 * 1024


def bot_check(headers: Mapping[str, str], head: bytes) -> str | None:
    """The vendor of the bot check a response is, or None when it is not one."""
    lowered = {k.lower(): v.lower() for k, v in headers.items()}
    for name, value, vendor in _CHALLENGE_HEADERS:
        if name in lowered and value in lowered[name]:
            return vendor
    text = head[:CHALLENGE_READ].decode("utf-8", "replace").lower()
    return next((vendor for vendor, marker in _CHALLENGES if marker.search(text)), None)


def describe_bot_check(status: int, vendor: str) -> str:
    return (
        f"HTTP {status}: the site shows a bot check ({vendor}) instead of the feed; "
        "ask the site to allow newsbot or use another address"
    )


def describe_http_status(status: int, reason: str | None) -> str:
    # The reason phrase is the site's own text: kept only when it is short and plain.
    plain = reason if reason and len(reason) <= 40 and reason.isprintable() else None
    text = f"HTTP {status}" + (f" {plain}" if plain else "")
    hint = _HTTP_HINTS.get(status)
    if hint is None and status >= 500:
        hint = f"the site has a server-side problem; {RETRIED}"
    elif hint is None and status >= 400:
        hint = "the site refuses this request; check the feed address or ask the site"
    return f"{text}: {hint}" if hint else text


def describe_client_error(exc: aiohttp.ClientError, url: str) -> str:
    """One short phrase per kind of network failure; no tracebacks or library text in chat."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"the host name {exc.host} does not resolve (DNS lookup failed); check the address"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return (
            f"the TLS certificate of {exc.host} is not valid (expired, self-signed or for "
            "another name); ask the site to fix it, or use its correct address"
        )
    if isinstance(exc, aiohttp.ClientSSLError):
        return (
            "the secure (https) connection could not be set up; the site's TLS is broken, "
            "or that port does not speak https: check the address"
        )
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, AddressRefused):
            return str(exc.os_error)
        reason = _os_reason(exc.os_error)
        return (
            f"cannot connect to {exc.host}:{exc.port} ({reason.lower()}); the host is "
            f"unreachable, {RETRIED}"
        )
    if isinstance(exc, aiohttp.TooManyRedirects):
        return "too many redirects; the address loops. Use the feed's final address"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"the server closed the connection before answering; {RETRIED}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return _payload_problem(exc)
    if isinstance(exc, aiohttp.InvalidURL):
        return f"the feed address is not a valid URL ({url}); correct it"
    if isinstance(exc, aiohttp.ClientResponseError):
        return _protocol_problem(exc.message)
    return f"the request failed ({exc.__class__.__name__}); {RETRIED}"


def _payload_problem(exc: aiohttp.ClientPayloadError) -> str:
    text = str(exc).lower()
    if "content-encoding" in text or "decompress" in text:
        return (
            "the site's compressed response is corrupt (its Content-Encoding does not "
            f"match the body); the server is misbehaving, {RETRIED}"
        )
    return (
        "the response was cut off before its end (the site sent less than it announced "
        f"and closed the connection); {RETRIED}"
    )


def _protocol_problem(message: str) -> str:
    """aiohttp's parser errors arrive as a 400 ClientResponseError carrying its text."""
    text = message.lower()
    if "got more than" in text or "too many headers" in text or "too long" in text:
        return (
            "the site's response headers exceed 8 KB; the server is misbehaving. "
            "Ask the site to fix it, or use another address"
        )
    if "content-length" in text or "data after" in text:
        return (
            "the site's Content-Length does not match the body it sent; the server or a "
            f"proxy is broken, {RETRIED}. Ask the site if it persists"
        )
    if "status line" in text or "invalid status" in text or "expected http/" in text:
        return (
            "the site did not answer in HTTP (a malformed status line); check the address and port"
        )
    if "chunk" in text:
        return f"the site sent a broken chunked body; the server is misbehaving, {RETRIED}"
    return f"the site sent a malformed HTTP response; the server is misbehaving, {RETRIED}"


def _os_reason(err: OSError) -> str:
    # asyncio puts "Connect call failed (addr)" in strerror; the errno says it plainly.
    if isinstance(err, ConnectionRefusedError):
        return "connection refused"
    if err.errno:
        return os.strerror(err.errno)
    return err.__class__.__name__
