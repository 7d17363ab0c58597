"""Story cards: a headline chosen from the reports, a plain extract that never cuts a word,
the outlets oldest first, and the link to an earlier story."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.cards import MAX_EXTRACT, StoryNotFound, load_card, shorten
from bot.core.matching import Matcher
from bot.core.models import Item, StoryCard
from bot.core.stories import StoryGrouper
from bot.storage.db import Database
from bot.storage.tables import ItemRow

DAY0 = datetime(2025, 11, 7, 8, 0, tzinfo=UTC)


def build_story(db: Database, cfg: AppConfig, reports: list[tuple[str, str, str]]) -> int:
    """Store, match and group reports (outlet, title, summary) an hour apart; the story id."""
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)

    def run(session: Session) -> int:
        story_ids = set()
        for n, (outlet, title, summary) in enumerate(reports):
            at = DAY0 + timedelta(hours=n)
            row = ItemRow(key=f"k{n}", url=f"https://{n}.example/a", title=title,
                          summary=summary, source=outlet, published_at=at,
                          first_seen_at=at)  # fmt: skip
            session.add(row)
            session.flush()
            item = Item(id=row.id, key=row.key, feed_id=None, title=title, summary=summary,
                        url=row.url, source=outlet, published=at, first_seen=at)  # fmt: skip
            match = matcher.match(item)
            assert match.relevant, match.why
            story_ids.add(grouper.assign(session, item, match).story_id)
        assert len(story_ids) == 1
        return story_ids.pop()

    return db.transaction(run)


def card(db: Database, story_id: int) -> StoryCard:
    return db.transaction(lambda s: load_card(s, story_id))


LONG = " ".join(
    ["Hindustan Aeronautics signed a contract with General Electric for 113 F404 engines"]
    + ["and support equipment for the Tejas Mk1A fleet, with deliveries phased carefully"] * 6
)


def test_card_extract_never_cuts_a_word_and_carries_no_markup(db: Database, cfg: AppConfig) -> None:
    story = build_story(db, cfg, [
        ("Deccan Herald", "HAL signs <b>F404</b> engine deal with GE",
         f"<p>{LONG}.</p> <a href='https://x.example'>Read more</a>"),
        ("Business Standard", "GE engine contract covers 97 Tejas jets &amp; spares",
         "HAL&#39;s deal with GE covers 113 engines for the 97-jet order."),
    ])  # fmt: skip
    c = card(db, story)
    assert len(c.extract) <= MAX_EXTRACT
    assert not re.search(r"[<>]|&amp;|&#\d+;", c.extract + c.headline)
    source_words = set(re.findall(r"[\w'-]+", LONG + " HAL's deal with GE covers 113 engines "
                                  "for the 97-jet order Read more"))  # fmt: skip
    for word in re.findall(r"[\w'-]+", c.extract):
        assert word in source_words, f"{word!r} is not a whole word of the reports"
    assert c.headline in {"HAL signs F404 engine deal with GE",
                          "GE engine contract covers 97 Tejas jets & spares"}  # fmt: skip


def test_card_lists_outlets_oldest_first_with_topics(db: Database, cfg: AppConfig) -> None:
    story = build_story(db, cfg, [
        ("The Hindu", "India, US sign 10-year defence framework in Kuala Lumpur",
         "Rajnath Singh and Pete Hegseth signed the framework on the sidelines of ADMM-Plus."),
        ("WION", "Hegseth, Rajnath ink decade-long defence pact at ADMM-Plus",
         "The US defence secretary and India's Rajnath Singh signed the 10-year framework "
         "in Kuala Lumpur, calling it a new chapter."),
    ])  # fmt: skip
    c = card(db, story)
    assert [s.outlet for s in c.sources] == ["The Hindu", "WION"]
    assert c.sources[0].published == DAY0
    assert c.first_seen == DAY0
    assert c.published == DAY0  # the first report's own date
    assert "framework-agreement" in c.topics
    assert c.url == "https://0.example/a"
    assert c.linked_story_key is None


def test_card_publication_time_is_the_first_reports_or_unknown(
    db: Database, cfg: AppConfig
) -> None:
    story = build_story(db, cfg, [
        ("The Hindu", "India, US sign 10-year defence framework in Kuala Lumpur",
         "Rajnath Singh and Pete Hegseth signed the framework on the sidelines of ADMM-Plus."),
        ("WION", "Hegseth, Rajnath ink decade-long defence pact at ADMM-Plus",
         "The US defence secretary and India's Rajnath Singh signed the 10-year framework."),
    ])  # fmt: skip
    earlier = DAY0 - timedelta(hours=5)
    db.transaction(lambda s: s.execute(update(ItemRow).where(ItemRow.key == "k0")
                                       .values(published_at=earlier)))  # fmt: skip
    assert card(db, story).published == earlier
    db.transaction(lambda s: s.execute(update(ItemRow).values(published_at=None)))
    undated = card(db, story)
    assert undated.published is None
    assert undated.first_seen == DAY0


def test_headline_prefers_a_news_title_to_an_explainer(db: Database, cfg: AppConfig) -> None:
    story = build_story(db, cfg, [
        ("Explainers Daily", "Explainer: what Trump's 18% tariff on India means",
         "Trump cut the US tariff on Indian goods to 18% after a call with Modi."),
        ("Wire", "Trump cuts tariff on Indian goods to 18% after Modi call",
         "The US will also drop the 25% Russian-oil penalty on India, Trump said."),
    ])  # fmt: skip
    assert card(db, story).headline == "Trump cuts tariff on Indian goods to 18% after Modi call"


def test_extract_is_not_the_first_sentence_blindly(db: Database, cfg: AppConfig) -> None:
    story = build_story(db, cfg, [
        ("Wire", "US and India agree trade deal cutting tariff to 18%",
         "It came after weeks of speculation. Trump said the US would cut its tariff on "
         "Indian goods from 25% to 18% and drop the Russian-oil penalty after a call with Modi."),
        ("Paper", "Tariff on India cut to 18% as trade deal agreed",
         "The US tariff on Indian goods falls from 25% to 18% under the deal, Trump said."),
    ])  # fmt: skip
    assert not card(db, story).extract.startswith("It came after")


def test_shorten_cuts_between_words() -> None:
    text = "alpha beta gamma delta epsilon"
    assert shorten(text, 100) == text
    assert shorten(text, 14) == "alpha beta…"
    assert shorten(text, 17) == "alpha beta gamma…"


def test_missing_story_is_reported(db: Database) -> None:
    with pytest.raises(StoryNotFound):
        db.transaction(lambda s: load_card(s, 999))
