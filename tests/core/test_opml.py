"""OPML in and out: real readers' exports, and hostile files (entities, size, schemes, escapes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.opml import MAX_BYTES, MAX_FEEDS, OpmlError, OpmlFeed, read_opml, write_opml
from tests.adapters.hostile import bad_characters

OPML = Path(__file__).resolve().parents[1] / "testdata" / "opml"


def test_a_netnewswire_export_with_folders_gives_each_feed_once() -> None:
    listed = read_opml((OPML / "netnewswire.opml").read_bytes())
    assert listed.feeds == [
        OpmlFeed(
            "The Hindu - National", "https://www.thehindu.com/news/national/feeder/default.rss"
        ),
        OpmlFeed("ThePrint", "https://theprint.in/feed/"),
        OpmlFeed("Breaking Defense", "https://breakingdefense.com/feed/"),
    ]
    assert listed.refused == []


def test_a_feedly_export_decodes_entities_and_names_an_untitled_feed_by_its_host() -> None:
    listed = read_opml((OPML / "feedly.opml").read_bytes())
    assert [f.url for f in listed.feeds] == [
        "https://pib.gov.in/RssMain.aspx?ModId=3&Lang=1&Regid=3",
        "https://www.defense.gov/DesktopModules/ArticleCS/RSS.ashx?ContentType=1&Site=945&max=10",
    ]
    assert [f.name for f in listed.feeds] == ["Ministry of Defence – PIB", "www.defense.gov"]


def test_only_http_feeds_are_kept_and_each_refusal_says_why() -> None:
    listed = read_opml((OPML / "schemes.opml").read_bytes())
    assert [f.url for f in listed.feeds] == [
        "https://news.example.org/rss.xml",
        "http://evil.example.net/feed",
    ]
    refused = "\n".join(listed.refused)
    for url in ("file:///etc/passwd", "javascript:alert(document.cookie)",
                "ftp://ftp.example.org/feed.xml", "gopher://example.org/1/feed"):  # fmt: skip
        assert f"{url}: only http:// and https:// feeds are added" in refused
    assert "http:///rss: the address has no host" in refused
    # A title carrying a terminal escape and a bidi override arrives as plain text.
    evil = listed.feeds[1].name
    assert bad_characters(evil, allowed_formats="") == [] and "\x1b" not in evil
    assert "Evil" in evil


@pytest.mark.parametrize("name", ["billion-laughs.opml", "xxe.opml"])
def test_a_file_declaring_entities_is_refused(name: str) -> None:
    with pytest.raises(OpmlError, match="declares XML entities"):
        read_opml((OPML / name).read_bytes())


@pytest.mark.parametrize("name", ["billion-laughs.opml", "xxe.opml"])
def test_entities_in_another_encoding_are_never_expanded(name: str) -> None:
    # UTF-16 slips past the byte check; the parser itself must not expand or fetch anything.
    declared = '<?xml version="1.0" encoding="UTF-16"?>'
    text = (OPML / name).read_text().replace('<?xml version="1.0"?>', declared)
    started = time.monotonic()
    listed = read_opml(text.encode("utf-16"))
    assert time.monotonic() - started < 2
    assert listed.feeds == [OpmlFeed("example.org", "https://example.org/rss")]


def test_a_huge_file_is_refused_before_parsing() -> None:
    outline = b'<outline type="rss" text="x" xmlUrl="https://example.org/rss"/>'
    data = (
        b'<opml version="2.0"><body>'
        + outline * (MAX_BYTES // len(outline) + 1)
        + b"</body></opml>"
    )
    with pytest.raises(OpmlError, match="at most 2,000,000 are read"):
        read_opml(data)


def test_too_many_feeds_are_refused() -> None:
    body = "".join(f'<outline type="rss" text="f{i}" xmlUrl="https://example.org/{i}"/>'
                   for i in range(MAX_FEEDS + 1))  # fmt: skip
    with pytest.raises(OpmlError, match="lists 2,001 feeds"):
        read_opml(f'<opml version="2.0"><body>{body}</body></opml>'.encode())


def test_a_page_that_is_not_opml_is_refused() -> None:
    with pytest.raises(OpmlError, match="not an OPML subscription list"):
        read_opml((OPML / "not-opml.html").read_bytes())


def test_export_reads_back_as_the_same_feeds() -> None:
    feeds = [OpmlFeed("The Hindu & Co <national>", "https://www.thehindu.com/a?x=1&y=2"),
             OpmlFeed("ThePrint", "https://theprint.in/feed/")]  # fmt: skip
    document = write_opml(feeds, now=datetime(2026, 11, 28, 9, 0, tzinfo=UTC))
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert b"<dateCreated>Sat, 28 Nov 2026 09:00:00 +0000</dateCreated>" in document
    assert read_opml(document).feeds == feeds
