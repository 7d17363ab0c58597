"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) → entries in feedparser's shape.

The spec is a handful of fields, so they are read here rather than through a library: the
feed's ``title`` and ``home_page_url``; each item's ``id``, ``url`` (or ``external_url``),
``title``, ``summary``, ``content_html`` / ``content_text``, ``date_published``,
``date_modified`` and ``authors`` (1.1) or ``author`` (1.0). The entries then take the same
path as RSS and Atom entries: same keys, cleaning, text safety and date checks.
"""

from __future__ import annotations

import html
import json
from typing import Any

from bot.core.dates import parse_date

VERSION_PREFIXES = ("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")
JSON_TYPES = ("application/feed+json", "application/json")
_BOM = b"\xef\xbb\xbf"


class NotAJsonFeed(ValueError):
    """The body is JSON (or says it is) but not a JSON Feed; the message is one clear line."""


def looks_like_json(body: bytes, content_type: str | None) -> bool:
    """A body that opens like a JSON object, or one declared as JSON that is not markup."""
    head = body[:64].lstrip(_BOM + b" \t\r\n")
    if head.startswith(b"{"):
        return True
    # Some sites label RSS as application/json; markup is left to the XML parser.
    return _declared_json(content_type) and not head.startswith(b"<")


def read_json_feed(
    body: bytes, content_type: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(channel, entries) of a JSON Feed body.

    None when the body is not JSON at all and was not declared as JSON (an XML parser may
    still make sense of it); ``NotAJsonFeed`` when it is JSON, or declared so, but no JSON
    Feed.
    """
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and UnicodeDecodeError too
        if not _declared_json(content_type):
            return None
        reason = exc.__class__.__name__ if isinstance(exc, RecursionError) else _first_line(exc)
        raise NotAJsonFeed(
            f"the body is not valid JSON ({reason}); the feed is broken at the site's end"
        ) from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        VERSION_PREFIXES
    ):
        raise NotAJsonFeed(
            'the body is JSON but not a JSON Feed (no "version": "https://jsonfeed.org/version/1…");'
            " use the site's RSS, Atom or JSON Feed address"
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise NotAJsonFeed(
            'the JSON Feed has no "items" list; the feed is broken at the site\'s end'
        )
    channel = {
        "title": _text(document.get("title")),
        "link": _string(document.get("home_page_url")),
    }
    # An item that is not an object becomes an empty entry, skipped and counted as such.
    return channel, [_entry(item) if isinstance(item, dict) else {} for item in items]


def _declared_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    base = content_type.split(";", 1)[0].strip().lower()
    return base in JSON_TYPES or base.endswith("+json")


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:120] or exc.__class__.__name__


def _entry(item: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": _string(item.get("id")),
        "link": _string(item.get("url")) or _string(item.get("external_url")),
        "title": _text(item.get("title")),
        "summary": _summary(item),
    }
    for field, name in (
        ("date_published", "published_parsed"),
        ("date_modified", "updated_parsed"),
    ):
        parsed = parse_date(item.get(field))
        if parsed is not None:
            entry[name] = parsed
    author = _author(item)
    if author:
        entry["author"] = author
    return entry


def _summary(item: dict[str, Any]) -> str:
    # The spec's summary is plain text, content_html HTML, content_text plain text; plain
    # text is escaped so the HTML-to-text step gives it back unchanged.
    summary, content_html, content_text = (
        item.get(k) for k in ("summary", "content_html", "content_text")
    )
    if isinstance(summary, str) and summary.strip():
        return html.escape(summary, quote=False)
    if isinstance(content_html, str) and content_html.strip():
        return content_html
    if isinstance(content_text, str) and content_text.strip():
        return html.escape(content_text, quote=False)
    return ""


def _author(item: dict[str, Any]) -> str:
    authors = item.get("authors")
    if not isinstance(authors, list):
        single = item.get("author")  # JSON Feed 1.0
        authors = [single] if isinstance(single, dict) else []
    names = [_string(a.get("name")) for a in authors if isinstance(a, dict)]
    return ", ".join(n for n in names if n)


def _text(value: object) -> str:
    # Titles are plain text in JSON Feed; escaped so that "&amp;" stays what it says.
    return html.escape(value, quote=False) if isinstance(value, str) else ""


def _string(value: object) -> str:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # ids are strings by the spec; some feeds send numbers
    return ""
