"""Google News items: the article's own link, its outlet, no boilerplate, one item per article.

Tokens are built here the way Google builds them: base64url (unpadded) of a protobuf message
whose field 4 is the article link (field 26 the AMP link), or, in newer tokens, an opaque
``AU_yqL…`` id that only a call to Google resolves.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig, PollConfig, load_config
from bot.core.cards import load_card
from bot.core.googlenews import decode_token
from bot.core.ingest import Poller
from bot.core.matching import Matcher
from bot.core.models import Feed, Item, ParsedItem
from bot.core.parse import parse_feed
from bot.core.stories import StoryGrouper
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from bot.storage.feeds import add_feed
from bot.storage.items import FeedItems, store_new_items
from bot.storage.tables import ItemRow
from tests.feedserver import FeedServer, rss_from_items

FEED = Feed(id=3, url="https://news.google.com/rss/search?q=india+us", name="Google News: India US")
NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
POLL = PollConfig(interval=900, timeout=5, backoff_base=60, backoff_max=480, concurrency=10)
ARTICLE = "https://www.thehindu.com/news/national/india-us-pact/article70230001.ece"
EXPLAINER = "https://www.thehindu.com/news/national/defence-deal-explained/article70230003.ece"
LONG_ARTICLE = "https://www.hindustantimes.com/india-news/" + "long-slug-" * 15 + "101730.html"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def token(url: str, amp: str | None = None, *, field: int = 4) -> str:
    data = b"\x08\x13" + bytes([field << 3 | 2]) + varint(len(url.encode())) + url.encode()
    if amp is not None:
        data += b"\xd2\x01" + varint(len(amp.encode())) + amp.encode()
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


NEW_STYLE = token("AU_yqLPcr9Y2nNnOjN3VhNjQ3LThkYmItNGZjZi1iM2U3LTA0YzA1YjJmZmU1Mg")


def google_item(tok: str, title: str, outlet: str | None, **extra: Any) -> dict[str, Any]:
    headline = title.rsplit(" - ", 1)[0]
    description = (
        f'<a href="https://news.google.com/rss/articles/{tok}?oc=5" target="_blank">'
        f'{headline}</a>&nbsp;&nbsp;<font color="#6f6f6f">{outlet or "Outlet"}</font>'
    )
    item = {
        "title": title,
        "url": f"https://news.google.com/rss/articles/{tok}?oc=5",
        "summary": description,
        "guid": tok,
        "published": "2025-11-02T08:00:00+00:00",
    }
    if outlet:
        item |= {"source": outlet, "source_url": "https://www.thehindu.com"}
    return item | extra


def test_old_tokens_decode_to_the_article_link() -> None:
    assert token(ARTICLE).startswith("CBMi")  # what Google's older tokens look like
    assert decode_token(token(ARTICLE)) == ARTICLE  # one-byte length
    assert len(LONG_ARTICLE) > 127 and decode_token(token(LONG_ARTICLE)) == LONG_ARTICLE
    amp = ARTICLE.replace("/news/", "/amp/news/")
    assert decode_token(token(ARTICLE, amp)) == ARTICLE  # the AMP variant: the page itself
    assert decode_token(token("", amp)) == amp  # only an AMP link: better than none
    assert decode_token(token(ARTICLE) + "==") == ARTICLE  # padded


@pytest.mark.parametrize(
    "tok",
    [NEW_STYLE, "not*base64", token(ARTICLE)[:20], token("javascript:alert(1)"), ""],
)
def test_tokens_without_an_article_link_decode_to_nothing(tok: str) -> None:
    assert decode_token(tok) is None


def test_google_news_items_become_the_article_with_its_outlet_and_no_boilerplate() -> None:
    cluster = (
        f'<ol><li><a href="https://news.google.com/rss/articles/{token(LONG_ARTICLE)}?oc=5">'
        'Hegseth and Rajnath sign pact</a>&nbsp;&nbsp;<font color="#6f6f6f">HT</font></li>'
        '<li><a href="https://news.google.com/rss/articles/CBMiX?oc=5">Related headline</a>'
        '&nbsp;&nbsp;<font color="#6f6f6f">WION</font></li>'
        '<li><strong><a href="https://news.google.com/stories/CAAqNggK?oc=5">'
        "View Full Coverage on Google News</a></strong></li></ol>"
    )
    items = [
        google_item(token(ARTICLE + "?utm_source=gn"), "India, US sign pact - The Hindu",
                    "The Hindu"),
        google_item(token(LONG_ARTICLE), "Hegseth and Rajnath sign pact - HT", None,
                    summary=cluster, url=f"https://news.google.com/articles/{token(LONG_ARTICLE)}"),
        google_item(NEW_STYLE, "Defence deal explained - The Hindu", "The Hindu"),
        google_item(token(ARTICLE.replace("70230001", "70230002")), "India - US talks - WION",
                    "WION", url="https://news.google.com/__i/rss/rd/articles/"
                    + token(ARTICLE.replace("70230001", "70230002")) + "?oc=5&hl=en-IN"),
    ]  # fmt: skip
    parsed = parse_feed(rss_from_items(items).encode(), FEED, now=NOW)

    decoded, clustered, opaque, dashed = parsed.items
    assert decoded.url == ARTICLE  # decoded, then canonicalised: no utm_source
    assert (decoded.title, decoded.source, decoded.summary) == (
        "India, US sign pact",
        "The Hindu",
        "",
    )
    assert clustered.url == LONG_ARTICLE
    assert (clustered.title, clustered.source, clustered.summary) == (
        "Hegseth and Rajnath sign pact",
        "HT",
        "",
    )  # outlet from the title's suffix
    assert opaque.url == f"https://news.google.com/rss/articles/{NEW_STYLE}?oc=5"
    assert opaque.title == "Defence deal explained"
    assert opaque.source == "The Hindu (via Google News)"
    assert dashed.url == ARTICLE.replace("70230001", "70230002")
    assert dashed.title == "India - US talks" and dashed.source == "WION"
    assert not any("Google News" in i.summary for i in parsed.items)


def test_a_google_description_with_real_text_keeps_the_text_only() -> None:
    description = (
        f'<a href="https://news.google.com/rss/articles/{token(ARTICLE)}">India, US sign pact</a>'
        '&nbsp;&nbsp;<font color="#6f6f6f">The Hindu</font><p>India, US sign pact: the ten-year '
        "framework covers engines.</p>"
    )
    items = [google_item(token(ARTICLE), "India, US sign pact - The Hindu", "The Hindu",
                         summary=description)]  # fmt: skip
    (item,) = parse_feed(rss_from_items(items).encode(), FEED, now=NOW).items
    assert item.summary == "the ten-year framework covers engines."


async def test_one_item_per_article_across_a_google_feed_and_the_outlets_own(
    db: Database, feed_server: FeedServer
) -> None:
    own = [
        {"title": "India, US sign pact", "url": ARTICLE + "?utm_source=rss&utm_medium=feed",
         "summary": "The ten-year framework covers engines.", "guid": "th-70230001",
         "published": "2025-11-02T08:00:00+00:00"},
        {"title": "Defence deal explained", "url": EXPLAINER, "guid": "th-70230003",
         "summary": "What the framework covers.", "published": "2025-11-02T09:00:00+00:00"},
    ]  # fmt: skip
    via_google = google_item(token(ARTICLE), "India, US sign pact - The Hindu", "The Hindu")
    opaque = google_item(NEW_STYLE, "Defence deal explained - The Hindu", "The Hindu")
    # The outlet's copy of the explainer comes first; Google lists it a cycle later.
    google_url = feed_server.add_feed("/google", [via_google])
    own_url = feed_server.add_feed("/hindu", own)
    for url, name in ((google_url, "Google News"), (own_url, "The Hindu")):
        await db.run(lambda s, u=url, n=name: add_feed(s, u, n, now=NOW, allow_private=True))
    poller = Poller(db, POLL)

    first = await poller.poll_due(NOW)
    feed_server.add_feed("/google", [opaque, via_google])
    again = await poller.poll_due(NOW + timedelta(minutes=15), force=True)

    rows = await db.run(lambda s: list(s.scalars(select(ItemRow).order_by(ItemRow.id))))
    assert sorted((r.url, r.source, r.title) for r in rows) == sorted([
        (ARTICLE, "The Hindu", "India, US sign pact"),
        (EXPLAINER, "The Hindu", "Defence deal explained"),
    ])  # fmt: skip
    assert len(first.new_items) == 2 and again.new_items == []


def test_an_undecoded_google_item_is_not_stored_beside_the_outlets_own_copy(
    db: Database,
) -> None:
    google_body = rss_from_items(
        [google_item(NEW_STYLE, "Defence deal explained - The Hindu", "The Hindu")]
    ).encode()
    google = parse_feed(google_body, FEED, now=NOW).items
    own_feed = Feed(id=4, url="https://www.thehindu.com/feeder/default.rss", name="The Hindu")
    own_body = rss_from_items([{"title": "Defence deal  explained", "url": EXPLAINER}]).encode()
    own = parse_feed(own_body, own_feed, now=NOW).items
    other = parse_feed(
        rss_from_items([google_item(NEW_STYLE + "x", "Another story - WION", "WION")]).encode(),
        FEED,
        now=NOW,
    ).items

    def store(*batches: tuple[ParsedItem, ...]) -> list[Item]:
        return db.transaction(
            lambda s: store_new_items(s, [FeedItems(None, b) for b in batches], now=NOW)
        )

    together = store(google, own)  # one batch: the direct copy wins
    later = store(google + other)  # a later batch: the stored direct copy stands for it

    assert [(i.url, i.source) for i in together] == [(EXPLAINER, "The Hindu")]
    assert [i.source for i in later] == ["WION (via Google News)"]
    rows = db.transaction(lambda s: sorted(r.url or "" for r in s.scalars(select(ItemRow))))
    assert rows == sorted([EXPLAINER, f"https://news.google.com/rss/articles/{NEW_STYLE}x?oc=5"])


def test_the_outlets_own_copy_arriving_later_takes_over_the_stored_google_row(
    db: Database,
) -> None:
    google_body = rss_from_items(
        [google_item(NEW_STYLE, "Defence deal explained - The Hindu", "The Hindu")]
    ).encode()
    google = parse_feed(google_body, FEED, now=NOW).items
    own_feed = Feed(id=4, url="https://www.thehindu.com/feeder/default.rss", name="The Hindu")
    own_body = rss_from_items([{"title": "Defence deal  explained", "url": EXPLAINER}]).encode()
    own = parse_feed(own_body, own_feed, now=NOW).items

    def store(batch: tuple[ParsedItem, ...]) -> list[Item]:
        return db.transaction(lambda s: store_new_items(s, [FeedItems(None, batch)], now=NOW))

    first = store(google)  # Google's copy first, under the Google link
    later = store(own)  # then the outlet's own: no second row, the first one gets its link

    assert [i.source for i in first] == ["The Hindu (via Google News)"]
    assert later == []
    rows = db.transaction(lambda s: [(r.id, r.url, r.source) for r in s.scalars(select(ItemRow))])
    assert rows == [(first[0].id, EXPLAINER, "The Hindu")]
    assert store(own) == []  # and it is known by its link from now on


def test_a_card_lists_an_article_once_even_when_google_could_not_name_its_link(
    db: Database,
) -> None:
    cfg: AppConfig = load_config(DEFAULT_CONFIG)
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    title = "India, US sign 10-year defence framework in Kuala Lumpur"
    summary = "Rajnath Singh and Pete Hegseth signed the framework on the sidelines of ADMM-Plus."
    reports = [
        ("The Hindu (via Google News)", title, "", f"https://news.google.com/rss/articles/{NEW_STYLE}"),
        ("The Hindu", title, summary, ARTICLE),
        ("WION", "Hegseth, Rajnath ink decade-long defence pact", summary, "https://wion.example/a"),
    ]  # fmt: skip

    def run(session: Session) -> int:
        story_ids = set()
        for n, (outlet, headline, text, url) in enumerate(reports):
            at = NOW + timedelta(hours=n)
            row = ItemRow(key=f"k{n}", url=url, title=headline, summary=text, source=outlet,
                          published_at=at, first_seen_at=at)  # fmt: skip
            session.add(row)
            session.flush()
            item = Item(id=row.id, key=row.key, feed_id=None, title=headline, summary=text,
                        url=url, source=outlet, published=at, first_seen=at)  # fmt: skip
            match = matcher.match(item)
            assert match.relevant, match.why
            story_ids.add(grouper.assign(session, item, match).story_id)
        assert len(story_ids) == 1
        return story_ids.pop()

    story = db.transaction(run)
    card = db.transaction(lambda s: load_card(s, story))

    # The outlet's own link stands for the article; Google's redirect is not listed again.
    assert [(s.outlet, s.url) for s in card.sources] == [
        ("The Hindu", ARTICLE),
        ("WION", "https://wion.example/a"),
    ]
