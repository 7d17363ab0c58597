"""Feed discovery: a site's address → the feeds its page names, fetched through the guarded
fetcher from a loopback site."""

from __future__ import annotations

from pathlib import Path

from bot.config import PollConfig
from bot.core.discovery import FeedLink, discover, feed_links
from tests.adapters.hostile import bad_characters
from tests.feedserver import FeedServer

PAGES = Path(__file__).resolve().parents[1] / "testdata" / "discovery"


def test_a_wordpress_page_names_its_feeds_in_page_order() -> None:
    links = feed_links((PAGES / "wordpress.html").read_bytes(), "https://theprint.in/defence/")
    assert links == [
        FeedLink("https://theprint.in/feed/", "ThePrint » Feed", "application/rss+xml"),
        FeedLink("https://theprint.in/comments/feed/", "ThePrint » Comments Feed",
                 "application/rss+xml"),
        FeedLink("https://theprint.in/category/defence/feed/", "ThePrint » Defence Category Feed",
                 "application/rss+xml"),
    ]  # fmt: skip


def test_links_resolve_against_the_base_and_only_http_ones_are_kept() -> None:
    links = feed_links((PAGES / "relative-base.html").read_bytes(), "https://example.org/")
    assert [link.url for link in links] == [
        "https://static.example.org/news/atom.xml",
        "https://static.example.org/feed.json",
    ]
    assert links[0].kind == "application/atom+xml"
    assert all(bad_characters(link.title, allowed_formats="") == [] for link in links)


async def test_a_site_address_finds_its_feed(feed_server: FeedServer) -> None:
    feed = feed_server.add_feed("rss.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    page = '<html><head><link rel="alternate" type="application/rss+xml" href="/rss.xml">'
    site = feed_server.set_response("/", body=page, content_type="text/html; charset=utf-8")
    found = await discover(site, PollConfig(), allow_private=True)
    assert not found.is_feed and found.problem == ""
    assert [link.url for link in found.links] == [feed]
    # The feed's own address is recognised as a feed.
    direct = await discover(feed, PollConfig(), allow_private=True)
    assert direct.is_feed and direct.title == "Fixture News"


async def test_a_page_naming_no_feed_says_so(feed_server: FeedServer) -> None:
    site = feed_server.set_response("/", body="<html><p>hi</p></html>", content_type="text/html")
    found = await discover(site, PollConfig(), allow_private=True)
    assert found.links == [] and "neither a feed nor a page naming one" in found.problem


async def test_discovery_goes_through_the_private_address_guard(feed_server: FeedServer) -> None:
    site = feed_server.set_response("/", body="<html></html>", content_type="text/html")
    found = await discover(site, PollConfig())  # loopback, not allowed
    assert not found.is_feed and found.links == []
    assert "private" in found.problem.lower() or "loopback" in found.problem.lower()
    assert feed_server.requests_for("/") == []
