"""JSON Feed 1.0 and 1.1 read like any feed: same keys, same cleaning, same skipping."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.config import PollConfig
from bot.core.feedstate import FeedStatus
from bot.core.ingest import Poller
from bot.core.models import Feed
from bot.core.parse import item_key, parse_feed
from bot.storage.db import Database
from bot.storage.feeds import add_feed
from bot.storage.tables import ItemRow
from tests.feedserver import FeedServer

FEED = Feed(id=7, url="https://blog.example.org/feed.json", name="Example Blog")
NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
V11 = "https://jsonfeed.org/version/1.1"
POLL = PollConfig(interval=900, timeout=5, backoff_base=60, backoff_max=480, concurrency=10)


def body(items: Sequence[Any], version: str = V11, **feed: Any) -> bytes:
    doc = {"version": version, "title": "Example Blog", **feed, "items": list(items)}
    return json.dumps(doc).encode()


def test_a_json_feed_1_1_is_read_field_by_field() -> None:
    items = [
        {
            "id": "https://blog.example.org/p/1",
            "url": "https://blog.example.org/p/1?utm_source=feed",
            "title": "India &amp; US  sign\u200b pact",
            "content_html": "<p>The <b>pact</b> covers <script>x()</script>engines.</p>",
            "date_published": "2025-11-02T08:00:00+05:30",
            "authors": [{"name": "A. Writer"}],
        },
        {
            "id": 2,  # the spec says string; a number is read as one
            "external_url": "https://elsewhere.example/story",
            "title": "Linked story",
            "summary": "Plain text <not a tag> & more",
            "content_text": "ignored when a summary is there",
            "date_modified": "2025-11-01T10:00:00Z",
        },
        {"id": "3", "url": "https://blog.example.org/p/3", "content_text": "Text only a < b"},
    ]
    parsed = parse_feed(
        body(items, home_page_url="https://blog.example.org/"),
        FEED,
        content_type="application/feed+json",
        now=NOW,
    )

    assert parsed.error is None and parsed.title == "Example Blog" and parsed.listed == 3
    first, second, third = parsed.items
    assert first.url == "https://blog.example.org/p/1"
    assert first.title == "India & US sign pact"
    assert first.summary == "The pact covers engines."
    assert first.published == datetime(2025, 11, 2, 2, 30, tzinfo=UTC)
    assert first.key == item_key(FEED, "https://blog.example.org/p/1", None, "", None)
    assert second.url == "https://elsewhere.example/story" and second.guid == "2"
    assert second.summary == "Plain text <not a tag> & more"
    assert second.published == datetime(2025, 11, 1, 10, 0, tzinfo=UTC)
    assert second.key == item_key(FEED, "2", None, "", None)  # scoped to the feed
    assert third.title == "Text only a < b" and third.summary == "Text only a < b"
    assert {i.source for i in parsed.items} == {"Example Blog"}


def test_a_json_feed_1_0_without_a_content_type_is_recognised_by_its_version() -> None:
    items = [{"id": "1", "url": "https://b.example/1", "title": "One", "author": {"name": "W"}}]
    parsed = parse_feed(body(items, version="https://jsonfeed.org/version/1"), FEED, now=NOW)
    assert parsed.error is None and [i.title for i in parsed.items] == ["One"]


def test_json_feed_items_take_the_same_skipping_and_dating_path() -> None:
    items = [
        {"id": "a", "url": "https://b.example/a", "title": "Kept",
         "date_published": "1970-01-01T00:00:00Z"},
        {"id": "b"},  # nothing to show
        "not an object",
        {"id": "c", "url": "https://b.example/c", "title": "Stored already"},
    ]  # fmt: skip
    stored = {item_key(FEED, "c", None, "", None)}
    parsed = parse_feed(body(items), FEED, known=lambda keys: stored & set(keys), now=NOW)

    assert [i.title for i in parsed.items] == ["Kept"]
    assert parsed.items[0].published is None  # the epoch is no publication date
    assert parsed.skipped == 2 and parsed.listed == 4


@pytest.mark.parametrize(
    ("data", "content_type", "error"),
    [
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": [', "application/feed+json",
         "the body is not valid JSON"),
        (b"\xff\xfe garbage", "application/json", "the body is not valid JSON"),
        (b'{"name": "an API answer"}', "application/json", "JSON but not a JSON Feed"),
        (b'{"name": "an API answer"}', None, "JSON but not a JSON Feed"),
        (b'[1, 2, 3]', "application/json", "JSON but not a JSON Feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}', None,
         'has no "items" list'),
        (b"[" * 100_000, "application/json", "the body is not valid JSON (RecursionError)"),
    ],
)  # fmt: skip
def test_json_that_is_not_a_json_feed_gives_one_clear_line(
    data: bytes, content_type: str | None, error: str
) -> None:
    parsed = parse_feed(data, FEED, content_type=content_type)
    assert parsed.items == ()
    assert parsed.error is not None and error in parsed.error and "\n" not in parsed.error


def test_rss_served_with_a_json_content_type_is_still_read_as_rss() -> None:
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>A</title><link>https://x.example/a</link></item></channel></rss>"
    )
    parsed = parse_feed(rss, FEED, content_type="application/json")
    assert parsed.error is None and [i.title for i in parsed.items] == ["A"]


async def test_the_poller_stores_a_json_feed_once_like_any_feed(
    db: Database, feed_server: FeedServer
) -> None:
    items = [{"id": f"p{n}", "url": f"https://blog.example.org/p/{n}", "title": f"Post {n}",
              "content_text": f"Body {n}", "date_published": "2025-11-02T08:00:00Z"}
             for n in range(3)]  # fmt: skip
    url = feed_server.set_feed(
        "/feed.json", body(items), content_type="application/feed+json", etag=False,
        last_modified=None,
    )  # fmt: skip
    await db.run(lambda s: add_feed(s, url, "Example Blog", now=NOW, allow_private=True))
    poller = Poller(db, POLL)

    first = await poller.poll_due(NOW)
    again = await poller.poll_due(NOW + timedelta(minutes=15), force=True)

    assert len(first.new_items) == 3 and again.new_items == []
    assert [o.status for o in again.outcomes] == [FeedStatus.OK]
    titles = await db.run(lambda s: sorted(s.scalars(select(ItemRow.title))))
    assert titles == ["Post 0", "Post 1", "Post 2"]
