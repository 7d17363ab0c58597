"""OPML, the subscription-list format every feed reader imports and exports: reading one
into feeds to add (listparser), and writing the bot's feeds as one (the stdlib's ElementTree).

An OPML file comes from elsewhere, so it is untrusted: read from bytes only (listparser would
fetch a string that looks like a URL), capped in size and in feeds, refused outright when it
declares entities (the billion-laughs shape), and only http(s) feed addresses are kept; the
others are listed as refused with the reason.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlsplit

import listparser

from bot.core.textsafety import untrusted_text

MAX_BYTES = 2 * 10**6  # a reader's export of thousands of feeds is well under this
MAX_FEEDS = 2000
MAX_NAME = 200
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)


class OpmlError(ValueError):
    """The file as a whole cannot be read; the message says why, in one line."""


@dataclass(frozen=True)
class OpmlFeed:
    name: str
    url: str


@dataclass(frozen=True)
class OpmlList:
    """What a file offers: the feeds to add, and the entries refused with their reason."""

    feeds: list[OpmlFeed] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def read_opml(data: bytes) -> OpmlList:
    """The feeds an OPML document lists, deduplicated by address, in the file's order."""
    if len(data) > MAX_BYTES:
        raise OpmlError(f"the file is {len(data):,} bytes; at most {MAX_BYTES:,} are read")
    if _ENTITY_DECLARATION.search(data):
        raise OpmlError("the file declares XML entities; an OPML list never needs them")
    parsed = listparser.parse(bytes(data))
    if not parsed.feeds and (parsed.bozo or not parsed.version):
        raise OpmlError("not an OPML subscription list (no <outline xmlUrl=…> entries found)")
    if len(parsed.feeds) > MAX_FEEDS:
        raise OpmlError(f"the file lists {len(parsed.feeds):,} feeds; at most {MAX_FEEDS:,}")
    result = OpmlList()
    seen: set[str] = set()
    for entry in parsed.feeds:
        url = str(entry.get("url") or "").strip()
        shown = untrusted_text(url)[:200]
        reason = _refusal(url)
        if reason:
            result.refused.append(f"{shown or '(empty)'}: {reason}")
            continue
        if url in seen:
            continue
        seen.add(url)
        host = urlsplit(url).hostname or url
        name = untrusted_text(str(entry.get("title") or "")) or host
        result.feeds.append(OpmlFeed(name[:MAX_NAME], url))
    return result


def _refusal(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a valid address"
    if parts.scheme.lower() not in ("http", "https"):
        return "only http:// and https:// feeds are added"
    if not parts.hostname:
        return "the address has no host"
    if url != untrusted_text(url) or " " in url:
        return "the address holds spaces or invisible characters"
    return None


def write_opml(
    feeds: Iterable[OpmlFeed], *, title: str = "newsbot feeds", now: datetime | None = None
) -> bytes:
    """An OPML 2.0 document listing ``feeds`` (UTF-8, with its XML declaration)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    ET.SubElement(head, "dateCreated").text = format_datetime(now or datetime.now(UTC))
    body = ET.SubElement(root, "body")
    for feed in feeds:
        ET.SubElement(body, "outline", type="rss", text=feed.name, title=feed.name,
                      xmlUrl=feed.url)  # fmt: skip
    ET.indent(root)
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True)) + b"\n"
