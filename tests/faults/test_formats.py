"""Formats: path-like bodies, empty bodies, HTML pages, JSON Feed, Google News, truncated XML."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.models import Feed
from bot.core.parse import parse_feed
from tests.faults.harness import (
    COCHIN,
    HEALTHY,
    QUAD,
    SOSA,
    Fault,
    Outcome,
    Sites,
    fresh,
    params,
    rss,
    run,
)

BOILERPLATE = "View Full Coverage on Google News"


def local_feed(sites: Sites) -> str:
    path = sites.tmp / "local-feed.xml"
    path.write_text(rss(fresh(QUAD)))
    return sites.web.set_response("/feed", body=str(path), content_type="application/rss+xml")


def local_feed_unread(o: Outcome) -> None:
    assert QUAD["url"] not in [i.url for i in o.all_items], "the local file's item was stored"


def json_feed(version: str) -> Any:
    def item(row: dict[str, Any]) -> dict[str, Any]:
        when = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        body = {"id": row["url"], "url": row["url"], "title": row["title"], "date_published": when}
        if version == "1":
            return body | {"summary": row["summary"], "author": {"name": row["source"]}}
        return body | {"content_text": row["summary"], "authors": [{"name": row["source"]}]}

    doc = {
        "version": f"https://jsonfeed.org/version/{version}",
        "title": "Hostile JSON",
        "home_page_url": "https://json.example.org/",
        "items": [item(COCHIN), item(SOSA)],
    }
    data = json.dumps(doc)
    return lambda sites: sites.web.set_feed(
        "/feed.json", data, content_type="application/feed+json"
    )


def both_read(o: Outcome) -> None:
    assert sorted(i.url or "" for i in o.items) == sorted([COCHIN["url"], SOSA["url"]])
    shown = [s.url for c in o.cards for s in c.sources]
    assert COCHIN["url"] in shown and SOSA["url"] in shown


def google_token(url: str) -> str:
    """An article token as Google News RSS links carried it: a small protobuf, base64url."""
    raw = url.encode()
    payload = b"\x08\x13\x22" + bytes([len(raw)]) + raw + b"\xd2\x01\x00"
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def google_item(row: dict[str, Any]) -> str:
    link = f"https://news.google.com/rss/articles/CBMi{google_token(row['url'])[4:]}?oc=5"
    description = (
        f'<ol><li><a href="{link}" target="_blank">{row["title"]}</a>&nbsp;&nbsp;'
        f'<font color="#6f6f6f">{row["source"]}</font></li><li><strong>'
        f'<a href="https://news.google.com/stories/CAAqNggKIjBDQklTSGpvSmMzUnZjbmt0TXpZ?oc=5" '
        f'target="_blank">{BOILERPLATE}</a></strong></li></ol>'
    )
    published = datetime.now(UTC) - timedelta(hours=1)
    item = fresh(
        row,
        title=f"{row['title']} - {row['source']}",
        url=link,
        guid=link[-40:],
        summary=description,
        published=published,
        source_url="https://" + row["url"].split("/")[2],
    )
    return rss(item)


def google(row: dict[str, Any]) -> Any:
    return lambda sites: sites.web.set_feed("/gn", google_item(row))


def google_read(o: Outcome) -> None:
    assert len(o.items) == 1
    item = o.items[0]
    assert item.url == COCHIN["url"], f"link not decoded: {item.url}"
    assert item.title == COCHIN["title"], f"title keeps its suffix: {item.title!r}"
    assert BOILERPLATE not in item.summary
    assert item.source == COCHIN["source"]


def one_copy_of_healthy(o: Outcome) -> None:
    copies = [i for i in o.all_items if i.title.startswith(HEALTHY["title"])]
    assert len(copies) == 1, f"the article is stored {len(copies)} times"
    assert not [i for i in o.all_items if "news.google.com" in (i.url or "")]


def truncated(sites: Sites) -> str:
    body = rss(fresh(COCHIN), fresh(SOSA)).encode()
    cut = body.index(b"<item>", body.index(b"<item>") + 1) + 60  # inside the second item
    return sites.web.set_feed("/feed", body[:cut])


def first_item_only(o: Outcome) -> None:
    assert [i.url for i in o.items] in ([COCHIN["url"]], []), o.titles()


FAULTS = [
    Fault(
        "path-body-feed-file",
        local_feed,
        fails=("",),
        advice=False,
        stored=0,
        check=local_feed_unread,
    ),
    Fault(
        "empty-body",
        lambda s: s.web.set_feed("/feed", b""),
        fails=("empty",),
        advice=False,
        stored=0,
    ),
    Fault(
        "garbage-text-body",
        lambda s: s.web.set_feed("/feed", "this is not a feed {]", content_type="text/xml"),
        fails=("well-formed|not an RSS",),
        advice=False,
        stored=0,
    ),
    Fault(
        "xml-but-not-a-feed",
        lambda s: s.web.set_feed("/feed", '<?xml version="1.0"?><note><to>you</to></note>'),
        fails=("not an RSS",),
        advice=False,
        stored=0,
    ),
    Fault(
        "html-page-instead-of-feed",
        lambda s: s.web.set_feed(
            "/feed",
            "<!doctype html><html><body><h1>News</h1></body></html>",
            content_type="text/html; charset=utf-8",
        ),
        fails=("HTML",),
        stored=0,
    ),
    Fault(
        "json-feed-1.1",
        json_feed("1.1"),
        stored=2,
        check=both_read,
    ),
    Fault(
        "json-feed-1.0",
        json_feed("1"),
        stored=2,
        check=both_read,
    ),
    Fault("google-news-items", google(COCHIN), check=google_read),
    Fault(
        "google-news-same-article-as-another-feed",
        google(HEALTHY),
        check=one_copy_of_healthy,
    ),
    Fault(
        "truncated-xml",
        truncated,
        check=first_item_only,
    ),
]


@pytest.mark.parametrize("fault", params(FAULTS))
async def test_formats(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    await run(fault, sites, loopback_only)


def _opens_paths(sites: Sites) -> bool:
    """Whether the parser still reads a body that names a file (a small one, safely)."""
    probe = sites.tmp / "probe.xml"
    probe.write_text(rss(fresh(QUAD)))
    return bool(parse_feed(str(probe).encode(), Feed(0, "http://127.0.0.1/", "probe")).items)


# Its own test: it must not run against a parser that opens paths (see below).
DEV_ZERO = Fault(
    "path-body-dev-zero",
    lambda s: s.web.set_response("/feed", body="/dev/zero"),
    fails=("",),
    advice=False,
    stored=0,
)


@pytest.mark.parametrize("fault", params([DEV_ZERO]))
async def test_path_body_dev_zero(fault: Fault, sites: Sites, loopback_only: list[Any]) -> None:
    # Run against a parser that opens paths, /dev/zero would be read until memory runs out
    # (about 2 GB): a small file probes first, and a regression fails here without that.
    assert not _opens_paths(sites), "the parser opens a path named by a feed body again"
    await run(fault, sites, loopback_only)
