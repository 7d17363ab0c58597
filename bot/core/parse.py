"""feedparser → ParsedItems: plain-text title and summary, UTC dates, canonical links, keys."""

from __future__ import annotations

import calendar
import hashlib
import html
import logging
import re
import time
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feedparser
from selectolax.lexbor import LexborHTMLParser

from bot.core.models import Feed, ParsedItem

logger = logging.getLogger(__name__)

# Long summaries add nothing to matching or a story card and bloat the items table.
MAX_SUMMARY_CHARS = 4000
MAX_TITLE_CHARS = 1000

# Query parameters that only track the reader; the same article with and without them is one.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ref",
        "ref_src",
        "cmpid",
        "ocid",
        "igshid",
        "yclid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "smid",
        "ito",
        "ns_mchannel",
        "ns_source",
        "ns_campaign",
        "ns_linkname",
        "ns_fee",
        "soc_src",
        "soc_trk",
        "at_medium",
        "at_campaign",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "__twitter", "_ga")

_SPACE = re.compile(r"\s+")
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One fetched body after parsing. ``error`` is set when the body is not a usable feed."""

    items: tuple[ParsedItem, ...]
    title: str = ""
    error: str | None = None

    @property
    def empty(self) -> bool:
        return self.error is None and not self.items


def parse_feed(body: bytes, feed: Feed, *, content_type: str | None = None) -> ParsedFeed:
    """Parse one feed body. CPU-bound: call it from a worker thread, never on the event loop."""
    if not body.strip():
        return ParsedFeed((), error="the response body is empty (the site sent no feed)")
    if _looks_like_html(body, content_type):
        return ParsedFeed(
            (),
            error="the address serves an HTML page, not a feed "
            "(use the site's RSS or Atom link instead)",
        )
    headers = {"content-type": content_type} if content_type else {}
    # We strip HTML to text ourselves; feedparser's sanitizer and URI rewriting would be
    # ~40% of its time spent on markup we throw away.
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries: list[Any] = parsed.get("entries") or []
    if not entries:
        # feedparser recovers what it can from broken XML; with nothing recovered, the
        # breakage is the news, not "no items".
        if parsed.get("bozo"):
            reason = _bozo_reason(parsed.get("bozo_exception"))
            return ParsedFeed(
                (), error=f"the body is not a well-formed RSS or Atom feed ({reason})"
            )
        if not parsed.get("version"):
            return ParsedFeed((), error="the body is not an RSS or Atom feed")
    channel: Mapping[str, Any] = parsed.get("feed") or {}
    items = tuple(_items(entries, feed, channel))
    return ParsedFeed(items, title=clean_text(str(channel.get("title", ""))))


def parse_many(bodies: Iterable[tuple[bytes, Feed, str | None]]) -> list[ParsedFeed]:
    """Parse several bodies in one go, so one thread hop serves a whole batch of feeds."""
    return [parse_feed(body, feed, content_type=ctype) for body, feed, ctype in bodies]


def _looks_like_html(body: bytes, content_type: str | None) -> bool:
    head = body[:1024]
    if _HTML_START.match(head):
        return True
    return bool(
        content_type
        and "html" in content_type.lower()
        and b"<rss" not in head
        and b"<feed" not in head
        and b"<rdf" not in head.lower()
    )


def _bozo_reason(exc: object) -> str:
    if exc is None:
        return "unknown error"
    text = _SPACE.sub(" ", str(exc)).strip()
    return text[:160] or exc.__class__.__name__


def _items(entries: list[Any], feed: Feed, channel: Mapping[str, Any]) -> Iterable[ParsedItem]:
    site = canonical_url(str(channel.get("link") or ""))
    guids = Counter(str(e.get("id") or "").strip() for e in entries)
    for entry in entries:
        title = clean_text(_text_of(entry, "title"))[:MAX_TITLE_CHARS]
        summary = clean_text(_summary_of(entry))[:MAX_SUMMARY_CHARS]
        url = canonical_url(str(entry.get("link") or ""))
        published = _date_of(entry)
        guid = str(entry.get("id") or "").strip() or None
        source = _source_of(entry, feed)
        trusted_guid = guid if guid and guids[guid] == 1 and canonical_url(guid) != site else None
        key = item_key(feed, trusted_guid, url, title, published)
        yield ParsedItem(
            key=key,
            title=title or (url or "(untitled)"),
            summary=summary,
            url=url,
            published=published,
            source=source,
            guid=guid,
        )


def item_key(
    feed: Feed, guid: str | None, url: str | None, title: str, published: datetime | None
) -> str:
    """The stable identity of an item: sha256 hex (64 chars, fits items.key).

    Feeds lie about GUIDs (miniflux's internal/reader/rss/adapter.go documents the same
    fallbacks), so each step down says why it is there.
    """
    if guid:
        # A GUID that is a full URL is global; a bare one ("1234", "post-7") is only unique
        # within its feed, so it is scoped by the feed id (stable across feed URL redirects).
        scope = "" if canonical_url(guid) else f"feed:{feed.id}\n"
        return _sha("guid\n" + scope + guid)
    if url:
        # No GUID (or a repeated one, or the site's home page as every item's GUID):
        # the canonical link is the next best identity and also dedups across feeds.
        return _sha("url\n" + url)
    # Neither: title plus date within this feed. Two items with the same title and date in
    # one feed are taken as the same item, which is what a reader would think too.
    stamp = published.isoformat() if published else ""
    return _sha(f"title\nfeed:{feed.id}\n{title}\n{stamp}")


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _text_of(entry: Mapping[str, Any], name: str) -> str:
    return str(entry.get(name) or "")


def _summary_of(entry: Mapping[str, Any]) -> str:
    summary = entry.get("summary")
    if summary:
        return str(summary)
    for content in entry.get("content") or ():
        value = content.get("value")
        if value:
            return str(value)
    return ""


def _date_of(entry: Mapping[str, Any]) -> datetime | None:
    # feedparser's *_parsed structs are already normalised to UTC.
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(name)
        if isinstance(value, time.struct_time):
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, OSError, ValueError):
                continue
    return None


def _source_of(entry: Mapping[str, Any], feed: Feed) -> str:
    # Aggregators (Google News and the like) name the real outlet in <source>.
    source = entry.get("source")
    if isinstance(source, Mapping):
        name = clean_text(str(source.get("title") or ""))
        if name:
            return name[:200]
    return feed.name[:200]


def clean_text(value: str) -> str:
    """HTML or plain text → one line of plain text: tags dropped, entities decoded."""
    if not value:
        return ""
    if "<" not in value:
        # Fast path: most titles and many summaries carry no markup at all.
        return _SPACE.sub(" ", html.unescape(value)).strip()
    tree = LexborHTMLParser(value)
    tree.strip_tags(["script", "style", "noscript", "iframe", "template"])
    text = tree.text(separator=" ") or ""
    return _SPACE.sub(" ", text).strip()


def canonical_url(value: str) -> str | None:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters.

    Returns None for anything that is not an absolute http(s) link.
    """
    value = value.strip()
    if not value:
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return None
    netloc = host.lower()
    if ":" in netloc:  # IPv6 literal
        netloc = f"[{netloc}]"
    if port is not None and f":{port}" != _DEFAULT_PORTS[scheme]:
        netloc += f":{port}"
    # Kept in their order and their original encoding; only trackers are dropped.
    query = "&".join(p for p in parts.query.split("&") if p and not _is_tracker(p))
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _is_tracker(pair: str) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
