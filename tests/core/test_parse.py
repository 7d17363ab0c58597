"""Parsing feeds into clean items: plain text, UTC dates, canonical links, stable keys."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import feedparser
import pytest

from bot.config import load_config
from bot.core.htmltext import TextCleaner, clean_text
from bot.core.links import canonical_url
from bot.core.matching import Matcher
from bot.core.models import Feed, Item
from bot.core.parse import item_key, parse_feed
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from bot.storage.items import FeedItems, store_new_items
from tests.feedserver import rss_from_items

FEEDS = Path(__file__).resolve().parents[1] / "testdata" / "feeds"
FEED = Feed(id=7, url="https://defence-desk.example.in/rss", name="Defence Desk")


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("https://example.org/a", "https://example.org/a"),
        ("HTTPS://Example.ORG/Path/Kept", "https://example.org/Path/Kept"),
        ("https://example.org", "https://example.org/"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("http://example.org:8080/a", "http://example.org:8080/a"),
        ("https://example.org/a#comments", "https://example.org/a"),
        ("https://example.org/a?utm_source=rss&utm_medium=feed", "https://example.org/a"),
        ("https://example.org/a?id=3&fbclid=x&gclid=y&page=2", "https://example.org/a?id=3&page=2"),
        (
            "https://example.org/a?mc_cid=1&mc_eid=2&ref=home&cmpid=c&ocid=o",
            "https://example.org/a",
        ),
        ("https://example.org/a?UTM_Campaign=x&q=a%20b", "https://example.org/a?q=a%20b"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("https://user@Example.org/a?utm_source=x", "https://example.org/a"),
        ("https://[2001:DB8::1]/a", "https://[2001:db8::1]/a"),
        ("ftp://example.org/file", None),
        ("javascript:alert(1)", None),
        ("/relative/path", None),
        ("", None),
    ],
)
def test_links_are_canonicalised(link: str, canonical: str | None) -> None:
    assert canonical_url(link) == canonical


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("Plain title", "Plain title"),
        ("  spaced \n\t out  ", "spaced out"),
        ("Tom &amp; Jerry &#8217;s", "Tom & Jerry ’s"),
        ("<p>Hello <b>world</b></p><p>again</p>", "Hello world again"),
        ("<p>a<script>alert('x')</script>b</p><style>p{}</style>", "a b"),
        ("<img src='x.jpg'/>Caption &amp; more", "Caption & more"),
        ("&lt;b&gt;escaped markup&lt;/b&gt; stays text", "<b>escaped markup</b> stays text"),
        ("<div><ul><li>one</li><li>two</li></ul></div>", "one two"),
        ("", ""),
    ],
)
def test_html_becomes_one_line_of_plain_text(raw: str, text: str) -> None:
    assert clean_text(raw) == text


def test_one_summarys_broken_markup_cannot_spill_into_the_next() -> None:
    clean = TextCleaner()  # one shared document for a whole feed's items

    texts = [
        clean("<p>first</div></div><b>unclosed <script>hidden"),
        clean("<textarea>raw <p>text"),
        clean("<frameset>swallowing<frame>"),
        clean("<b>fourth</b> &amp; last"),
    ]

    assert texts == ["first unclosed", "raw <p>text", "swallowing", "fourth & last"]


def test_rss_fixture_gives_clean_items() -> None:
    parsed = parse_feed((FEEDS / "rss_mixed.xml").read_bytes(), FEED)

    assert parsed.error is None
    assert parsed.title == "Defence Desk & Friends"
    assert len(parsed.items) == 8
    first, second, third = parsed.items[:3]
    assert first.url == (
        "https://newsable.asianetnews.com/gallery/india-defence/"
        "tiger-triumph-india-and-us-launch-drills-on-eastern-seaboard-sajv6z"
    )
    assert second.url == (
        "https://www.thehindu.com/news/national/"
        "india-us-tri-service-exercise-tiger-triumph-commences/article67965058.ece"
    )
    assert first.published == datetime(2024, 3, 18, 4, 0, tzinfo=UTC)  # 09:30 IST
    assert first.summary.startswith("The third edition of the bilateral tri-service HADR")
    assert first.summary.endswith("Read more at Asianet Newsable")
    assert "L&T's Kattupalli" in third.summary
    for item in parsed.items:
        assert "<" not in item.title + item.summary and "&amp;" not in item.summary
        assert len(item.key) == 64
        assert item.source == "Defence Desk"
    assert len({i.key for i in parsed.items}) == 8


def test_rss_items_without_link_or_date_are_kept() -> None:
    items = parse_feed((FEEDS / "rss_mixed.xml").read_bytes(), FEED).items
    no_link = items[5]
    no_date = items[6]
    assert no_link.url is None and no_link.published is not None and no_link.guid is None
    assert no_date.published is None and no_date.url is not None


def test_atom_fixture_gives_clean_items() -> None:
    parsed = parse_feed((FEEDS / "atom_mixed.xml").read_bytes(), FEED)

    assert parsed.error is None and parsed.title == "Strategic Affairs Wire"
    assert len(parsed.items) == 6
    tracked, html_title, html_content, no_link, no_date, _ = parsed.items
    assert tracked.url and "utm_" not in tracked.url and "mc_" not in tracked.url
    assert (
        html_title.title == "Benchmarks end at lifetime peaks as lenders lead; Sensex tops 78,000"
    )
    assert html_content.summary.endswith("one two")
    assert no_link.url is None and no_link.guid == "tag:wire.example.com,2025:dev-012"
    assert no_date.published is None
    assert tracked.published == datetime(2024, 6, 19, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fixture", "content_type", "error"),
    [
        ("not_a_feed.html", "text/html; charset=utf-8", "HTML page, not a feed"),
        ("not_a_feed.html", None, "HTML page, not a feed"),
        ("malformed.xml", "application/rss+xml", "not a well-formed RSS or Atom feed"),
    ],
)
def test_bodies_that_are_not_feeds_give_a_clear_error(
    fixture: str, content_type: str | None, error: str
) -> None:
    parsed = parse_feed((FEEDS / fixture).read_bytes(), FEED, content_type=content_type)
    assert parsed.items == () and parsed.error is not None and error in parsed.error


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", "response body is empty"),
        (b"   \n", "response body is empty"),
        (b"just some text", "not a well-formed RSS or Atom feed"),
        (b'{"items": []}', "JSON but not a JSON Feed"),
    ],
)
def test_odd_bodies_give_a_clear_error(body: bytes, error: str) -> None:
    parsed = parse_feed(body, FEED)
    assert parsed.error is not None and error in parsed.error


def test_a_valid_feed_without_items_is_empty_not_an_error() -> None:
    parsed = parse_feed((FEEDS / "empty.xml").read_bytes(), FEED)
    assert parsed.error is None and parsed.empty and parsed.title == "Quiet Desk"


def _keys(items: Sequence[Mapping[str, object]], feed: Feed = FEED) -> list[str]:
    return [i.key for i in parse_feed(rss_from_items(items).encode(), feed).items]


def test_the_guid_is_the_identity_when_it_is_trustworthy() -> None:
    a = {"title": "A", "url": "https://x.example/a", "guid": "post-1"}
    moved = {"title": "A (updated)", "url": "https://x.example/a-new", "guid": "post-1"}
    assert _keys([a]) == _keys([moved])


def test_a_bare_guid_is_only_unique_within_its_feed() -> None:
    a = {"title": "A", "url": "https://x.example/a", "guid": "1234"}
    other_feed = Feed(id=8, url="https://other.example/rss", name="Other")
    assert _keys([a]) != _keys([a], other_feed)


def test_a_repeated_guid_falls_back_to_the_link() -> None:
    items = [
        {"title": "A", "url": "https://x.example/a", "guid": "same"},
        {"title": "B", "url": "https://x.example/b", "guid": "same"},
    ]
    keys = _keys(items)
    assert len(set(keys)) == 2
    assert keys[0] == item_key(FEED, None, "https://x.example/a", "A", None)


def test_without_guid_or_link_the_title_and_date_identify_the_item() -> None:
    items = [
        {"title": "Same title", "published": "2025-11-01"},
        {"title": "Same title", "published": "2025-11-02"},
        {"title": "Other title", "published": "2025-11-01"},
    ]
    keys = _keys(items)
    assert len(set(keys)) == 3
    assert keys == _keys(items)  # stable across polls


def test_entries_already_stored_are_left_out_but_still_counted() -> None:
    items = [{"title": f"Report {n}", "url": f"https://x.example/{n}"} for n in range(3)]
    body = rss_from_items(items).encode()
    keys = _keys(items)
    asked: list[list[str]] = []

    def known(batch: Sequence[str]) -> set[str]:
        asked.append(list(batch))
        return {keys[0], keys[2]}

    parsed = parse_feed(body, FEED, known=known)

    assert asked == [keys]  # one question for the whole feed
    assert [i.title for i in parsed.items] == ["Report 1"]
    assert parsed.listed == 3 and not parsed.empty


def test_a_feed_whose_entries_are_all_stored_is_not_empty() -> None:
    body = rss_from_items([{"title": "Old", "url": "https://x.example/old"}]).encode()
    parsed = parse_feed(body, FEED, known=lambda keys: set(keys))
    assert parsed.items == () and parsed.listed == 1 and not parsed.empty


def test_an_aggregators_source_element_names_the_outlet() -> None:
    body = rss_from_items([{"title": "A", "url": "https://x.example/a", "source": "The Hindu"}])
    assert parse_feed(body.encode(), FEED).items[0].source == "The Hindu"


def test_escaping_in_the_fixture_builder_survives_a_round_trip() -> None:
    tricky = {"title": "A < B & C > D \"quoted\"", "summary": "<p>x &amp; y</p>",
              "url": "https://x.example/a?b=1&c=2"}  # fmt: skip
    item = parse_feed(rss_from_items([tricky], title="T & T").encode(), FEED).items[0]
    assert item.title == 'A < B & C > D "quoted"'
    assert item.summary == "x & y"
    assert item.url == "https://x.example/a?b=1&c=2"


# -- a body that names a file is never opened ------------------------------------------

PATH_ERROR = (
    "the body is only a file path or web address, not a feed; nothing was opened or fetched "
    "from it (check the feed's address with the site)"
)

# Audit hooks cannot be removed, so this one records only while a test holds the list.
_opened: list[str] | None = None
_hook_installed = False


def _record_open(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _opened is not None:
        path = args[0]
        _opened.append(path.decode(errors="replace") if isinstance(path, bytes) else str(path))


@contextmanager
def files_opened() -> Iterator[list[str]]:
    """Every path ``open`` was called with inside the block, as the interpreter audits it."""
    global _opened, _hook_installed
    if not _hook_installed:
        sys.addaudithook(_record_open)
        _hook_installed = True
    _opened = seen = []
    try:
        yield seen
    finally:
        _opened = None


@pytest.mark.parametrize(
    ("folder", "error"),
    [
        ("feeds", PATH_ERROR),
        # A space keeps the path from looking like one; feedparser still gets only a stream.
        ("my feeds", "the body is not a well-formed RSS or Atom feed"),
    ],
)
def test_a_body_that_is_the_path_of_a_feed_file_is_not_read_as_that_file(
    tmp_path: Path, folder: str, error: str
) -> None:
    local = tmp_path / folder / "secret-feed.xml"
    local.parent.mkdir()
    local.write_text(rss_from_items([{"title": "Local secret", "url": "https://x.example/s"}]))
    body = str(local).encode()
    # The hook does see feedparser open a path it is handed as bytes: the danger is real.
    with files_opened() as control:
        assert feedparser.parse(body).entries[0].title == "Local secret"
    assert str(local) in control

    with files_opened() as opened:
        parsed = parse_feed(body, FEED)

    assert not any("secret-feed" in p for p in opened)
    assert parsed.items == () and parsed.listed == 0
    assert parsed.error is not None and parsed.error.startswith(error)
    assert "\n" not in parsed.error


def test_a_body_that_names_dev_zero_is_refused_without_opening_it() -> None:
    with files_opened() as opened:
        parsed = parse_feed(b"/dev/zero", FEED, content_type="application/rss+xml")

    assert "/dev/zero" not in opened
    assert parsed.items == () and parsed.error == PATH_ERROR


@pytest.mark.parametrize(
    "body",
    [b"/etc/passwd\n", b"  file:///etc/passwd", b"http://169.254.169.254/latest/meta-data/",
     b"C:\\feeds\\local.xml", b"~/feeds/local.xml"],
)  # fmt: skip
def test_any_body_that_is_only_a_path_or_address_says_so_in_one_line(body: bytes) -> None:
    with files_opened() as opened:
        parsed = parse_feed(body, FEED)
    assert parsed.items == () and parsed.error == PATH_ERROR
    assert not any(p.startswith(("/etc", "C:", "~")) for p in opened)


# -- text safety at the parse boundary -------------------------------------------------

DIRTY_TITLE = "In\u200bdia and U\u200dS sign 10-year def\u00adence frame\u2060work"
CLEAN_TITLE = "India and US sign 10-year defence framework"


def test_every_stored_field_is_made_safe_and_the_clean_title_is_judged_relevant(
    db: Database,
) -> None:
    body = rss_from_items(
        [
            {
                "title": DIRTY_TITLE,
                "summary": "<p>The \u202etxt.exe\u202c pact &xxe; was signed.</p>",
                "url": "https://x.example/a\u202eb",
                "guid": "id-\u200b1",
                "source": "The \u2066Hindu\u2069",
            }
        ],
        title="Desk\u200b \u202eFeed",
    ).encode()
    matcher = Matcher.from_config(load_config(DEFAULT_CONFIG))
    # Left dirty, the matcher misses both countries: this is what the cleaning fixes.
    dirty = Item(id=0, key="k", feed_id=None, title=DIRTY_TITLE, summary="", url=None,
                 source="x", published=None, first_seen=NOW)  # fmt: skip
    assert not matcher.match(dirty).relevant

    parsed = parse_feed(body, FEED, now=NOW)
    stored = db.transaction(lambda s: store_new_items(s, [FeedItems(None, parsed.items)], now=NOW))

    assert parsed.title == "Desk Feed"
    (item,) = stored
    assert item.title == CLEAN_TITLE
    assert item.summary == "The txt.exe pact was signed."
    assert item.source == "The Hindu"
    assert item.url == "https://x.example/a%E2%80%AEb"
    assert parsed.items[0].guid == "id-1"
    assert matcher.match(item).relevant


# -- entries with nothing to show, headlines, dates ------------------------------------


def test_an_entry_with_no_title_summary_or_link_is_skipped_counted_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    body = rss_from_items(
        [
            {"title": "Kept", "url": "https://x.example/kept"},
            {"guid": "empty-1", "published": "2025-11-01"},
            {"title": "\u200b", "summary": "<p> </p>"},
        ]
    ).encode()
    with caplog.at_level(logging.WARNING, logger="bot.core.parse"):
        parsed = parse_feed(body, FEED, now=NOW)

    assert [i.title for i in parsed.items] == ["Kept"]
    assert parsed.skipped == 2 and parsed.listed == 3
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        'feed "Defence Desk" (id 7): 2 of 3 entries skipped: no title, no summary and no link'
    ]


def test_an_untitled_entry_takes_its_headline_from_its_summary_never_its_link() -> None:
    long_summary = (
        "<p>Indian and American troops began the Tiger Triumph amphibious exercise off "
        "Visakhapatnam on Monday, with ships, aircraft and marines from both sides.</p>"
    )
    body = rss_from_items(
        [
            {"url": "https://x.example/a", "summary": long_summary},
            {"url": "https://x.example/b", "summary": "Short note on the drills."},
            {"url": "https://x.example/c"},
        ]
    ).encode()
    long_item, short_item, bare = parse_feed(body, FEED, now=NOW).items

    assert long_item.title == (
        "Indian and American troops began the Tiger Triumph amphibious exercise off "
        "Visakhapatnam on Monday…"
    )
    assert len(long_item.title) <= 100 and long_item.summary.startswith(long_item.title[:-1])
    assert short_item.title == "Short note on the drills."
    assert bare.title == "(untitled)" and "x.example" not in bare.title


NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("published", "kept"),
    [
        ("1970-01-01T00:00:00+00:00", False),  # the epoch
        ("1994-12-31T23:59:59+00:00", False),
        ("1995-01-01T00:00:00+00:00", True),
        ((NOW + timedelta(hours=23)).isoformat(), True),  # a time zone ahead
        ((NOW + timedelta(days=2)).isoformat(), False),
        ("2125-06-01T00:00:00+00:00", False),
        ("2025-11-02T08:00:00+05:30", True),
    ],
)
def test_dates_that_cannot_be_a_publication_date_count_as_unknown(
    published: str, kept: bool
) -> None:
    body = rss_from_items([{"title": "A", "url": "https://x.example/a", "published": published}])
    (item,) = parse_feed(body.encode(), FEED, now=NOW).items
    expected = datetime.fromisoformat(published).astimezone(UTC) if kept else None
    assert item.published == expected


def test_an_implausible_published_date_gives_way_to_a_plausible_updated_one() -> None:
    body = (
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        b'<entry><title>A</title><id>tag:x,2025:a</id><link href="https://x.example/a"/>'
        b"<published>1970-01-01T00:00:00Z</published><updated>2025-11-02T10:00:00Z</updated>"
        b"</entry></feed>"
    )
    (item,) = parse_feed(body, FEED, now=NOW).items
    assert item.published == datetime(2025, 11, 2, 10, 0, tzinfo=UTC)
