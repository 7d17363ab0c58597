"""Article leads cached by URL, on every dialect under test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import ArticleLead, Match, ParsedItem
from bot.storage.articles import cached_articles, save_articles, set_summaries, unrelevant_items
from bot.storage.db import Database
from bot.storage.feeds import add_feed
from bot.storage.items import FeedItems, load_items, store_new_items
from bot.storage.stories import save_matches

NOW = datetime(2025, 11, 2, 8, 0, tzinfo=UTC)
URL = "https://news.example/a/1"


def test_a_lead_is_cached_by_url_and_a_later_fetch_overwrites_it(db: Database) -> None:
    db.transaction(lambda s: save_articles(s, {URL: ArticleLead("", "timeout")}, now=NOW))
    later = NOW + timedelta(hours=1)
    db.transaction(lambda s: save_articles(s, {URL: ArticleLead("The lead.")}, now=later))

    found = db.transaction(lambda s: cached_articles(s, [URL, "https://news.example/other"]))

    assert found == {URL: ArticleLead("The lead.", None)}


def test_only_alertable_items_matched_not_relevant_are_candidates(db: Database) -> None:
    feed = db.transaction(lambda s: add_feed(s, "https://news.example/rss", "N", now=NOW))

    def item(n: int) -> ParsedItem:
        return ParsedItem(f"k{n}", f"Headline {n}", "", f"{URL}{n}", NOW, "Outlet")

    batch = FeedItems(feed.id, [item(n) for n in range(3)])
    stored = db.transaction(lambda s: store_new_items(s, [batch], now=NOW))
    ids = [i.id for i in stored]
    verdicts = [
        Match(ids[0], False, 0.1, (), "no"),
        Match(ids[1], True, 0.9, ("diplomacy",), "yes"),
    ]
    db.transaction(lambda s: save_matches(s, verdicts, now=NOW))  # ids[2]: not matched yet

    found = db.transaction(lambda s: unrelevant_items(s, ids))

    assert [(i.id, f.id if f else None) for i, f in found] == [(ids[0], feed.id)]
    db.transaction(lambda s: set_summaries(s, {ids[0]: "The article's lead."}))
    assert db.transaction(lambda s: load_items(s, [ids[0]]))[0].summary == "The article's lead."
