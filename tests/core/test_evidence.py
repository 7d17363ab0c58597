"""A match's evidence read back as sentences: the real matcher's record of real reports."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.evidence import evidence_sentences
from bot.core.matching import Matcher
from bot.core.models import Item

NOW = datetime(2025, 11, 3, tzinfo=UTC)


def item(title: str, summary: str = "") -> Item:
    return Item(id=1, key="k", feed_id=None, title=title, summary=summary, url=None,
                source="Fixture News", published=NOW, first_seen=NOW)  # fmt: skip


def read(matcher: Matcher, title: str, summary: str = "") -> str:
    return " ".join(evidence_sentences(matcher.match(item(title, summary)).evidence))


def test_a_relevant_report_names_each_sides_actor_the_topic_terms_and_the_rule(
    matcher: Matcher,
) -> None:
    text = read(matcher, "India and US sign 10-year defence framework",
                "Rajnath Singh and Pete Hegseth signed the framework in Kuala Lumpur.")  # fmt: skip
    assert "The US side was" in text and "the Indian side was" in text
    assert "Topic terms found: framework-agreement (" in text
    assert "Decided by the rule `relevant`" in text
    assert "What was lacking" not in text
    assert "{" not in text and '"' not in text


def test_a_miss_says_what_was_lacking(matcher: Matcher) -> None:
    text = read(matcher, "India beat Australia in the third one-day cricket match")
    assert "Decided by the rule `no-us-actor`: no US actor as a subject" in text
    assert "What was lacking: a US person, office, force, firm, platform" in text


def test_a_report_under_no_topic_names_the_closest_one(matcher: Matcher) -> None:
    evidence = {"rule": "no-topic", "topic_scores": {"diplomacy": 1.0, "trade-tensions": 0.5},
                "side_weight": {"us": 3.0, "india": 3.0}}  # fmt: skip
    text = " ".join(evidence_sentences(evidence))
    assert "What was lacking: enough topic terms (closest: diplomacy at weight 1.0)" in text


def test_a_third_country_miss_weighs_the_pair_against_it() -> None:
    evidence = {"rule": "third-country", "third_weight": {"China": 6.0, "Japan": 1.0},
                "side_weight": {"us": 2.0, "india": 3.0}}  # fmt: skip
    text = " ".join(evidence_sentences(evidence))
    assert "What was lacking: the pair weighing more than China (2.0 against 6.0)" in text


def test_no_stored_evidence_says_so() -> None:
    assert evidence_sentences({}) == ["No evidence was stored for this report."]
