"""Feed bodies → ParsedItems: plain safe text, plausible UTC dates, canonical links, keys.

RSS and Atom go through feedparser, JSON Feed through ``jsonfeed``; both give entries in
feedparser's shape, so every entry takes the same path from here: identity (``item_key``),
cleaning (``htmltext`` then ``textsafety``), Google News tidying (``googlenews``), dates
(``dates``) and links (``links``).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.sax import SAXParseException

import feedparser

from bot.core import dates, googlenews, jsonfeed, saxdriver
from bot.core.htmltext import TextCleaner, clean_text
from bot.core.links import canonical_url
from bot.core.models import Feed, ParsedItem
from bot.core.textsafety import untrusted_text

__all__ = [
    "KnownKeys",
    "ParsedFeed",
    "TextCleaner",
    "canonical_url",
    "clean_text",
    "item_key",
    "parse_feed",
    "parse_many",
    "parse_safely",
]

logger = logging.getLogger(__name__)

saxdriver.use()

# Long summaries add nothing to matching or a story card and bloat the items table.
MAX_SUMMARY_CHARS = 4000
MAX_TITLE_CHARS = 1000
# A headline taken from a summary: about a line of a chat message.
HEADLINE_FROM_SUMMARY_CHARS = 100
UNTITLED = "(untitled)"

_SPACE = re.compile(r"\s+")
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)

# A whole body that is one short line naming a file or an address: what feedparser would
# have opened had it been handed the bytes. Said so plainly instead of "not well-formed".
_PATH_OR_ADDRESS = re.compile(
    rb"\A\s*(?:/|~/|\\\\|[A-Za-z]:[\\/]|(?:file|https?|ftp|feed):)[^\s<>]{0,2000}\s*\Z"
)

# Given the keys of a feed's entries, which of them are stored already.
KnownKeys = Callable[[Sequence[str]], Collection[str]]


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One fetched body after parsing. ``error`` is set when the body is not a usable feed.

    ``items`` leaves out the entries a ``known`` check said are stored already; ``listed``
    counts every entry the feed lists; ``skipped`` the entries with nothing to show (no
    title, no summary, no link), which are never stored.
    """

    items: tuple[ParsedItem, ...]
    title: str = ""
    error: str | None = None
    listed: int = 0
    skipped: int = 0

    @property
    def empty(self) -> bool:
        return self.error is None and not self.listed


def parse_feed(
    body: bytes,
    feed: Feed,
    *,
    content_type: str | None = None,
    known: KnownKeys | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """Parse one feed body. CPU-bound: call it from a worker thread, never on the event loop.

    With ``known``, entries already stored are left out before their text is cleaned: in a
    routine poll most of a changed feed's entries were seen before, and cleaning is most of
    the work after feedparser's. ``now`` bounds believable dates (default: the clock).
    """
    if not body.strip():
        return ParsedFeed((), error="the response body is empty (the site sent no feed)")
    if jsonfeed.looks_like_json(body, content_type):
        try:
            document = jsonfeed.read_json_feed(body, content_type)
        except jsonfeed.NotAJsonFeed as exc:
            return ParsedFeed((), error=str(exc))
        if document is not None:
            return _parsed(document[1], document[0], feed, known, now)
    if _PATH_OR_ADDRESS.match(body):
        return ParsedFeed(
            (),
            error="the body is only a file path or web address, not a feed; nothing was "
            "opened or fetched from it (check the feed's address with the site)",
        )
    if _looks_like_html(body, content_type):
        return ParsedFeed(
            (),
            error="the address serves an HTML page, not a feed "
            "(use the site's RSS or Atom link instead)",
        )
    headers = {"content-type": content_type} if content_type else {}
    # A file-like object, never the bytes themselves: given a str or bytes, feedparser
    # first tries it as a URL or a file name, so a body that is just "/etc/…" or
    # "/dev/zero" would be opened and read from this host. We strip HTML to text ourselves;
    # feedparser's sanitizer and URI rewriting would be ~40% of its time spent on markup
    # we throw away.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    entries: list[Any] = parsed.get("entries") or []
    if not entries:
        # feedparser recovers what it can from broken XML; with nothing recovered, the
        # breakage is the news, not "no items".
        if parsed.get("bozo"):
            reason = _bozo_reason(parsed.get("bozo_exception"), body)
            return ParsedFeed(
                (),
                error=f"the body is not a well-formed RSS or Atom feed ({reason}); "
                "check the address or tell the site its feed is broken",
            )
        if not parsed.get("version"):
            return ParsedFeed((), error="the body is not an RSS or Atom feed")
    return _parsed(entries, parsed.get("feed") or {}, feed, known, now)


def parse_safely(
    body: bytes,
    feed: Feed,
    content_type: str | None = None,
    known: KnownKeys | None = None,
    now: datetime | None = None,
) -> ParsedFeed:
    """``parse_feed`` that turns a parser crash on hostile input into this feed's error."""
    try:
        return parse_feed(body, feed, content_type=content_type, known=known, now=now)
    except Exception as exc:
        logger.exception("parsing feed %s failed", feed.id)
        return ParsedFeed((), error=f"the feed could not be parsed ({exc.__class__.__name__})")


def parse_many(bodies: Iterable[tuple[bytes, Feed, str | None]]) -> list[ParsedFeed]:
    """Parse several bodies in one go, so one hop to a thread or process serves many feeds."""
    return [parse_safely(body, feed, ctype) for body, feed, ctype in bodies]


def _parsed(
    entries: list[Any],
    channel: dict[str, Any],
    feed: Feed,
    known: KnownKeys | None,
    now: datetime | None,
) -> ParsedFeed:
    reader = _EntryReader(feed, channel, now or datetime.now(UTC))
    items = tuple(reader.items(entries, known))
    if reader.skipped:
        logger.warning(
            'feed "%s" (id %s): %d of %d entries skipped: no title, no summary and no link',
            untrusted_text(feed.name),
            feed.id,
            reader.skipped,
            len(entries),
        )
    title = reader.clean(str(channel.get("title", "")))
    return ParsedFeed(items, title=title, listed=len(entries), skipped=reader.skipped)


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


def _bozo_reason(exc: object, body: bytes) -> str:
    """Where the XML breaks, in words: never the parser's own "<unknown>:1:0: …" line."""
    if isinstance(exc, SAXParseException):
        what = untrusted_text(_SPACE.sub(" ", exc.getMessage()))[:80] or "broken XML"
        # feedparser puts an XML declaration line in front of a body that has none.
        declared = body.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml")
        line = max((exc.getLineNumber() or 1) - (0 if declared else 1), 1)
        return f"{what}, near line {line}"
    if exc is None:
        return "unknown error"
    return "it cannot be read as XML"


@dataclass(frozen=True, slots=True)
class _Identified:
    """An entry with what its key needs, before most of its text is cleaned."""

    entry: dict[str, Any]
    key: str
    url: str | None
    guid: str | None
    published: datetime | None
    title: str | None  # cleaned already only when the key or the skip check needed it
    google: googlenews.GoogleLink | None


class _EntryReader:
    """One feed's entries → ParsedItems, with one text cleaner shared among them."""

    def __init__(self, feed: Feed, channel: dict[str, Any], now: datetime) -> None:
        self.feed = feed
        self.channel = channel
        self.now = now
        self.cleaner = TextCleaner()
        self.skipped = 0

    def clean(self, value: str) -> str:
        """Feed text → one line of plain text that is safe to store and show."""
        return untrusted_text(self.cleaner(value))

    def items(self, entries: list[Any], known: KnownKeys | None) -> Iterable[ParsedItem]:
        identified = list(self._identify(entries))
        stored = known([i.key for i in identified]) if known and identified else ()
        for i in identified:
            if i.key not in stored:
                yield self._item(i)

    def _item(self, i: _Identified) -> ParsedItem:
        title = i.title if i.title is not None else self._title_of(i.entry)
        outlet = self._outlet_of(i.entry)
        if i.google is not None:
            title, outlet = googlenews.split_title(title, outlet)
            summary = googlenews.summary_text(_summary_of(i.entry), title, self.cleaner)
            summary = untrusted_text(summary)
            outlet = googlenews.outlet_label(outlet, i.google)
        else:
            summary = self.clean(_summary_of(i.entry))
        summary = summary[:MAX_SUMMARY_CHARS]
        return ParsedItem(
            key=i.key,
            title=title or headline_from(summary) or UNTITLED,
            summary=summary,
            url=i.url,
            published=i.published,
            source=(outlet or untrusted_text(self.feed.name))[:200],
            guid=i.guid,
        )

    def _identify(self, entries: list[Any]) -> Iterable[_Identified]:
        # dict.get, not FeedParserDict's aliasing __getitem__: this loop runs for every item.
        get = dict.get
        feed = self.feed
        site = canonical_url(str(get(self.channel, "link") or ""))
        guids = Counter(str(get(e, "id") or "").strip() for e in entries)
        for entry in entries:
            url = canonical_url(str(get(entry, "link") or ""))
            google = googlenews.article_link(url) if url else None
            if google is not None and google.article_url:
                url = google.article_url
            raw_guid = str(get(entry, "id") or "").strip()
            guid = untrusted_text(raw_guid) or None
            guid_url = canonical_url(guid) if guid else None
            # A GUID repeated within the feed, or the site's home page as every item's GUID,
            # identifies nothing.
            unique = guids[raw_guid] == 1
            trusted = guid if guid and unique and (not site or guid_url != site) else None
            title = None
            if not url:
                title = self._title_of(entry)
                if not title and not self.clean(_summary_of(entry)):
                    self.skipped += 1  # nothing a reader could be shown
                    continue
            published = dates.entry_date(entry, self.now)
            # Only an entry with neither a usable GUID nor a link is identified by its title.
            key = item_key(
                feed, trusted, url, title or "", published, guid_is_url=guid_url is not None
            )
            yield _Identified(entry, key, url, guid, published, title, google)

    def _title_of(self, entry: dict[str, Any]) -> str:
        return self.clean(str(dict.get(entry, "title") or ""))[:MAX_TITLE_CHARS]

    def _outlet_of(self, entry: dict[str, Any]) -> str:
        # Aggregators (Google News and the like) name the real outlet in <source>.
        source = dict.get(entry, "source")
        if isinstance(source, Mapping):
            return self.clean(str(source.get("title") or ""))[:200]
        return ""


def headline_from(summary: str, limit: int = HEADLINE_FROM_SUMMARY_CHARS) -> str:
    """A headline for an untitled entry: the start of its summary, cut between words."""
    if len(summary) <= limit:
        return summary
    cut = summary[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2 and not summary[limit - 1].isspace():
        cut = cut[:space]
    return cut.rstrip(" ,;:-–—") + "…"


def item_key(
    feed: Feed,
    guid: str | None,
    url: str | None,
    title: str,
    published: datetime | None,
    *,
    guid_is_url: bool | None = None,
) -> str:
    """The stable identity of an item: sha256 hex (64 chars, fits items.key).

    Feeds lie about GUIDs (miniflux's internal/reader/rss/adapter.go documents the same
    fallbacks), so each step down says why it is there.
    """
    if guid:
        # A GUID that is a full URL is global; a bare one ("1234", "post-7") is only unique
        # within its feed, so it is scoped by the feed id (stable across feed URL redirects).
        if guid_is_url is None:
            guid_is_url = canonical_url(guid) is not None
        scope = "" if guid_is_url else f"feed:{feed.id}\n"
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


def _summary_of(entry: dict[str, Any]) -> str:
    summary = dict.get(entry, "summary")
    if summary:
        return str(summary)
    for content in dict.get(entry, "content") or ():
        value = content.get("value")
        if value:
            return str(value)
    return ""
