"""feedparser parses with the buffering expat driver, and gets exactly what the stock one gives."""

from __future__ import annotations

import io
import xml.sax
from pathlib import Path
from typing import Any

import feedparser
import feedparser.api
import pytest

import bot.core.parse  # noqa: F401  (importing the parser installs the driver)
from bot.core.saxdriver import BufferingExpatParser
from tests.feedserver import rss_from_items

FEEDS = Path(__file__).resolve().parents[1] / "testdata" / "feeds"
STOCK = ["xml.sax.expatreader"]


class TextPieces(xml.sax.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []

    def characters(self, content: str) -> None:
        self.pieces.append(content)


def pieces_of(doc: bytes, drivers: list[str]) -> list[str]:
    handler = TextPieces()
    reader = xml.sax.make_parser(drivers)
    reader.setContentHandler(handler)
    source = xml.sax.xmlreader.InputSource()
    source.setByteStream(io.BytesIO(doc))
    reader.parse(source)
    return handler.pieces


def parse_with(body: bytes, drivers: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as m:
        m.setattr(feedparser.api, "PREFERRED_XML_PARSERS", drivers)
        result = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    # Exceptions compare by identity; what they say is what must match.
    if "bozo_exception" in result:
        result["bozo_exception"] = repr(result["bozo_exception"])
    return result


def test_feedparser_tries_the_buffering_driver_first() -> None:
    reader = xml.sax.make_parser(feedparser.api.PREFERRED_XML_PARSERS)
    assert isinstance(reader, BufferingExpatParser)


def test_escaped_html_arrives_in_one_piece_not_one_per_entity() -> None:
    doc = b"<d>&lt;p&gt;one\ntwo &amp; three&lt;/p&gt;</d>"

    stock = pieces_of(doc, STOCK)
    buffered = pieces_of(doc, feedparser.api.PREFERRED_XML_PARSERS)

    assert buffered == ["<p>one\ntwo & three</p>"]
    assert len(stock) > 1 and "".join(stock) == buffered[0]


@pytest.mark.parametrize("name", sorted(p.name for p in FEEDS.iterdir()))
def test_every_fixture_parses_exactly_as_with_the_stock_driver(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (FEEDS / name).read_bytes()
    assert parse_with(body, STOCK, monkeypatch) == parse_with(
        body, feedparser.api.PREFERRED_XML_PARSERS, monkeypatch
    )


def test_long_entity_heavy_summaries_parse_exactly_as_with_the_stock_driver(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Longer than expat's text buffer, so a buffered piece is split too.
    summary = "<p>" + "A &amp; B said “x” \n" * 2000 + "</p>"
    body = rss_from_items([{"title": "T & U", "summary": summary, "url": "https://e.x/a"}] * 3)

    stock = parse_with(body.encode(), STOCK, monkeypatch)
    buffered = parse_with(body.encode(), feedparser.api.PREFERRED_XML_PARSERS, monkeypatch)

    assert buffered == stock
    assert buffered.entries[0].summary == summary
