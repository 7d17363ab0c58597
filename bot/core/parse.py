"""feedparser → ParsedItems: plain-text title and summary, UTC dates, canonical links, keys."""

from __future__ import annotations

import hashlib
import html
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import feedparser
from selectolax.lexbor import LexborNode, create_tag

from bot.core import saxdriver
from bot.core.models import Feed, ParsedItem

logger = logging.getLogger(__name__)

saxdriver.use()

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
# The common shape of a feed link; anything else goes through urllib.
_PLAIN_URL = re.compile(
    r"^([Hh][Tt][Tt][Pp][Ss]?)://([A-Za-z0-9.-]+(?::\d{1,5})?)(/[^?#\s]*)?"
    r"(?:\?([^#\s]*))?(?:#\S*)?$"
)
# Anything urllib could still read as an http(s) link starts like this; GUIDs such as
# "urn:…" or "tag:…" and bare ids are turned away without taking them apart.
_HTTP_LIKE = re.compile(r"\s*https?:", re.IGNORECASE)
_INVISIBLE = ("script", "style", "noscript", "iframe", "template")
_INVISIBLE_OPEN = tuple(f"<{tag}" for tag in _INVISIBLE)
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b",
    re.IGNORECASE | re.DOTALL,
)
_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


# Given the keys of a feed's entries, which of them are stored already.
KnownKeys = Callable[[Sequence[str]], Collection[str]]


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """One fetched body after parsing. ``error`` is set when the body is not a usable feed.

    ``items`` leaves out the entries a ``known`` check said are stored already; ``listed``
    counts every entry the feed lists.
    """

    items: tuple[ParsedItem, ...]
    title: str = ""
    error: str | None = None
    listed: int = 0

    @property
    def empty(self) -> bool:
        return self.error is None and not self.listed


def parse_feed(
    body: bytes, feed: Feed, *, content_type: str | None = None, known: KnownKeys | None = None
) -> ParsedFeed:
    """Parse one feed body. CPU-bound: call it from a worker thread, never on the event loop.

    With ``known``, entries already stored are left out before their text is cleaned: in a
    routine poll most of a changed feed's entries were seen before, and cleaning is most of
    the work after feedparser's.
    """
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
    channel: dict[str, Any] = parsed.get("feed") or {}
    clean = TextCleaner()
    items = tuple(_items(entries, feed, channel, known, clean))
    title = clean(str(channel.get("title", "")))
    return ParsedFeed(items, title=title, listed=len(entries))


def parse_safely(
    body: bytes, feed: Feed, content_type: str | None = None, known: KnownKeys | None = None
) -> ParsedFeed:
    """``parse_feed`` that turns a parser crash on hostile input into this feed's error."""
    try:
        return parse_feed(body, feed, content_type=content_type, known=known)
    except Exception as exc:
        logger.exception("parsing feed %s failed", feed.id)
        return ParsedFeed((), error=f"the feed could not be parsed ({exc.__class__.__name__})")


def parse_many(bodies: Iterable[tuple[bytes, Feed, str | None]]) -> list[ParsedFeed]:
    """Parse several bodies in one go, so one hop to a thread or process serves many feeds."""
    return [parse_safely(body, feed, ctype) for body, feed, ctype in bodies]


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


@dataclass(frozen=True, slots=True)
class _Identified:
    """An entry with what its key needs, before any of its text is cleaned."""

    entry: dict[str, Any]
    key: str
    url: str | None
    guid: str | None
    published: datetime | None
    title: str | None  # cleaned already only when the key needed it


def _items(
    entries: list[Any],
    feed: Feed,
    channel: dict[str, Any],
    known: KnownKeys | None,
    clean: TextCleaner,
) -> Iterable[ParsedItem]:
    identified = list(_identify(entries, feed, channel, clean))
    stored = known([i.key for i in identified]) if known and identified else ()
    for i in identified:
        if i.key in stored:
            continue
        title = i.title if i.title is not None else _title_of(i.entry, clean)
        yield ParsedItem(
            key=i.key,
            title=title or (i.url or "(untitled)"),
            summary=clean(_summary_of(i.entry))[:MAX_SUMMARY_CHARS],
            url=i.url,
            published=i.published,
            source=_source_of(i.entry, feed, clean),
            guid=i.guid,
        )


def _identify(
    entries: list[Any], feed: Feed, channel: dict[str, Any], clean: TextCleaner
) -> Iterable[_Identified]:
    # dict.get, not FeedParserDict's aliasing __getitem__: this loop runs for every item.
    get = dict.get
    site = canonical_url(str(get(channel, "link") or ""))
    guids = Counter(str(get(e, "id") or "").strip() for e in entries)
    for entry in entries:
        url = canonical_url(str(get(entry, "link") or ""))
        published = _date_of(entry)
        guid = str(get(entry, "id") or "").strip() or None
        guid_url = canonical_url(guid) if guid else None
        # A GUID repeated within the feed, or the site's home page as every item's GUID,
        # identifies nothing.
        trusted = guid if guid and guids[guid] == 1 and (not site or guid_url != site) else None
        # Only an entry with neither a usable GUID nor a link is identified by its title.
        title = _title_of(entry, clean) if not trusted and not url else None
        key = item_key(feed, trusted, url, title or "", published, guid_is_url=guid_url is not None)
        yield _Identified(entry, key, url, guid, published, title)


def _title_of(entry: dict[str, Any], clean: TextCleaner) -> str:
    return clean(str(dict.get(entry, "title") or ""))[:MAX_TITLE_CHARS]


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


def _date_of(entry: dict[str, Any]) -> datetime | None:
    # feedparser's *_parsed structs are already normalised to UTC.
    for name in ("published_parsed", "updated_parsed", "created_parsed"):
        value = dict.get(entry, name)
        if isinstance(value, time.struct_time):
            try:
                return datetime(*value[:6], tzinfo=UTC)
            except (OverflowError, ValueError):
                continue
    return None


def _source_of(entry: dict[str, Any], feed: Feed, clean: TextCleaner) -> str:
    # Aggregators (Google News and the like) name the real outlet in <source>.
    source = dict.get(entry, "source")
    if isinstance(source, Mapping):
        name = clean(str(source.get("title") or ""))
        if name:
            return name[:200]
    return feed.name[:200]


def clean_text(value: str) -> str:
    """HTML or plain text → one line of plain text: tags dropped, entities decoded."""
    return TextCleaner()(value)


class TextCleaner:
    """``clean_text`` for many values, with one HTML document shared among them.

    Setting up a lexbor document costs about 20 µs, several times the parse of a typical
    summary, so each snippet is parsed into one reused element instead, as ``innerHTML``
    would be. Fragment parsing keeps each snippet to itself (a stray ``</div>`` cannot close
    the holder). The document gives its memory back only when it goes, so a cleaner serves
    one feed, never a whole process; it is not thread-safe either.
    """

    def __init__(self) -> None:
        self._holder: LexborNode | None = None

    def __call__(self, value: str) -> str:
        if not value:
            return ""
        if "<" not in value:
            # Fast path: most titles and many summaries carry no markup at all.
            if "&" in value:
                value = html.unescape(value)
            return " ".join(value.split())
        holder = self._holder
        if holder is None:
            holder = self._holder = create_tag("div")
        holder.inner_html = value
        lowered = value.lower()
        if any(tag in lowered for tag in _INVISIBLE_OPEN):
            holder.strip_tags(list(_INVISIBLE))
        return " ".join((holder.text(separator=" ") or "").split())


def canonical_url(value: str) -> str | None:
    """Lower-case scheme and host, no default port, no fragment, no tracking parameters.

    Returns None for anything that is not an absolute http(s) link.
    """
    m = _PLAIN_URL.match(value)
    if m is None:
        return _canonical_slow(value) if _HTTP_LIKE.match(value) else None
    scheme, host, path, query = m.group(1).lower(), m.group(2).lower(), m.group(3), m.group(4)
    if host.endswith(_DEFAULT_PORTS[scheme]):
        host = host[: -len(_DEFAULT_PORTS[scheme])]
    if query:
        query = _drop_trackers(query)
    return f"{scheme}://{host}{path or '/'}" + (f"?{query}" if query else "")


def _canonical_slow(value: str) -> str | None:
    # Userinfo, IPv6 literals, stray spaces and the like: let urllib take them apart.
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
    return urlunsplit((scheme, netloc, parts.path or "/", _drop_trackers(parts.query), ""))


def _drop_trackers(query: str) -> str:
    # Kept in their order and their original encoding; only trackers are dropped.
    return "&".join(p for p in query.split("&") if p and not _is_tracker(p))


def _is_tracker(pair: str) -> bool:
    name = pair.split("=", 1)[0].lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)
