"""The matcher knows a side by its role, not only by a remembered name: offices by the
nationality before them, services by the government context or the outlet's country,
bilateral formats at any level, firms and platforms by their home country; a third country
weighs by its role in the sentence; diplomacy needs a contact act between the sides."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import ConfigError
from bot.core.matching import Matcher
from bot.core.models import Item, Match
from bot.core.outlets import load_outlets


def judge(matcher: Matcher, title: str, summary: str = "", url: str | None = None) -> Match:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    item = Item(id=1, key="k", feed_id=None, title=title, summary=summary, url=url,
                source="Test Wire", published=None, first_seen=seen)  # fmt: skip
    return matcher.match(item)


def decided(m: Match) -> dict[str, str]:
    by = m.evidence["decided_by"]
    assert isinstance(by, dict)
    return by


def test_an_envoy_by_nationality_meeting_an_office_by_nationality_is_both_sides(
    matcher: Matcher,
) -> None:
    m = judge(matcher, "The US envoy met India's foreign secretary in New Delhi")
    assert m.relevant and "diplomacy" in m.topics
    assert decided(m)["us"].startswith("US envoy") and "by nationality" in decided(m)["india"]


def test_an_unnamed_office_takes_the_side_of_the_capital_before_it(matcher: Matcher) -> None:
    m = judge(matcher, "Washington's newly appointed ambassador calls on Jaishankar",
              "The ambassador held talks on trade and defence ties.")  # fmt: skip
    assert m.relevant and "diplomacy" in m.topics
    assert "by nationality" in decided(m)["us"]


def test_the_army_takes_india_s_side_only_in_an_indian_government_context(
    matcher: Matcher,
) -> None:
    title = "The Army receives its last Apache helicopters from Boeing"
    indian = judge(matcher, title, "The Defence Ministry said the helicopters arrived at Jodhpur.")
    assert indian.relevant and "defence-industry" in indian.topics
    assert "by context" in decided(indian)["india"]
    # Without any government named (and no known outlet), "the Army" could be either's.
    alone = judge(matcher, title, "The helicopters arrived at the base this week.")
    assert not alone.relevant and alone.evidence["rule"] == "no-india-actor"
    # With a US government context, the Army is the US Army: no Indian side.
    us = judge(matcher, title, "The Pentagon said the helicopters arrived at Fort Hood.")
    assert not us.relevant


def test_an_outlet_s_country_decides_a_service_named_alone_when_the_text_names_no_government(
    matcher: Matcher,
) -> None:
    title = "The Army receives its last Apache helicopters from Boeing"
    summary = "The helicopters arrived at the base this week."
    indian = judge(matcher, title, summary, "https://www.thehindu.com/news/national/apache/")
    assert indian.relevant and "outlet" in decided(indian)["india"]
    american = judge(matcher, title, summary, "https://www.defensenews.com/land/apache/")
    assert not american.relevant and american.evidence["rule"] == "no-india-actor"


def test_the_outlet_does_not_override_a_government_named_in_the_text(matcher: Matcher) -> None:
    m = judge(matcher, "The Army receives its last Apache helicopters from Boeing",
              "The Pentagon said the helicopters arrived at Fort Hood.",
              "https://indianexpress.com/article/apache/")  # fmt: skip
    assert not m.relevant


def test_outlets_are_known_by_country_code_and_by_their_own_domain() -> None:
    outlets = load_outlets()
    assert outlets.side_of("https://theprint.in/defence/x/") == "india"
    assert outlets.side_of("https://www.ndtv.com/india-news/x") == "india"
    assert outlets.side_of("https://www.navy.mil/Press-Office/x") == "us"
    assert outlets.side_of("https://www.dawn.com/news/x") is None
    assert outlets.side_of(None) is None


def test_a_bilateral_format_at_officials_level_stands_for_both_sides(matcher: Matcher) -> None:
    m = judge(matcher, "Officials hold 2+2 intersessional meeting",
              "Officials reviewed defence and security cooperation.")  # fmt: skip
    assert m.relevant and "diplomacy" in m.topics


def test_the_framework_s_review_body_meeting_is_a_framework_review(matcher: Matcher) -> None:
    m = judge(matcher, "Defence Policy Group meets in Washington",
              "The Defence Secretary and the Under Secretary of Defense for Policy reviewed "
              "cooperation.")  # fmt: skip
    assert m.relevant and m.topics == ("framework-agreement",)


def test_a_us_manufacturer_s_delivery_to_an_indian_service_is_relevant(matcher: Matcher) -> None:
    m = judge(matcher, "Lockheed Martin delivers sixth C-130J to the Indian Air Force")
    assert m.relevant and m.topics == ("defence-industry",)
    assert decided(m)["us"].startswith("Lockheed Martin (firm")


def test_a_third_country_under_sanctions_with_indian_firms_acting_still_counts_the_pair(
    matcher: Matcher,
) -> None:
    m = judge(matcher, "US sanctions on Russian oil majors: Indian refiners halt purchases",
              "Indian refiners suspended Russian crude orders after Washington sanctioned "
              "Rosneft and Lukoil.")  # fmt: skip
    assert m.relevant and "trade-tensions" in m.topics


def test_diplomacy_needs_a_contact_act_not_two_office_holders(matcher: Matcher) -> None:
    said = judge(matcher, "Goyal says trade pact on track after Lutnick remarks",
                 "Commerce Minister Piyush Goyal said the first tranche is close.")  # fmt: skip
    assert said.relevant and "diplomacy" not in said.topics
    met = judge(matcher, "Goyal meets Lutnick in Washington on trade pact")
    assert met.relevant and "diplomacy" in met.topics


def test_leaders_named_in_a_row_at_a_summit_are_a_high_level_contact(matcher: Matcher) -> None:
    m = judge(matcher, "Quad summit: Modi, Biden, Kishida and Albanese met in Wilmington")
    assert m.relevant and {"indo-pacific", "diplomacy"} <= set(m.topics)


def test_a_topic_s_own_format_adds_its_topic_to_the_knowledge_s(matcher: Matcher) -> None:
    # INDUS-X is a defence-industry format (bot/data/actors.yaml) and, by the config's
    # emerging-tech actors, an emerging-technology one too.
    m = judge(matcher, "INDUS-X summit opens at Stanford")
    assert m.relevant and {"defence-industry", "emerging-tech"} <= set(m.topics)


def test_an_envoy_named_by_posting_is_the_other_side_s(matcher: Matcher) -> None:
    # A newly appointed ambassador by surname the knowledge cannot have: the posting decides.
    m = judge(matcher, "Ambassador to India Smithson presents credentials to President Murmu")
    assert m.relevant and "diplomacy" in m.topics
    assert "by posting" in decided(m)["us"]
    # A third country's envoy to India is not the US side.
    other = judge(matcher, "Japan's ambassador to India presents credentials to President Murmu")
    assert not other.relevant


def test_a_venue_names_where_an_act_happened_not_its_topic(matcher: Matcher) -> None:
    title = "Rajnath Singh and Hegseth sign defence framework on the sidelines of the ADMM-Plus"
    m = judge(matcher, title)
    assert m.relevant and "indo-pacific" not in m.topics
    assert {"framework-agreement", "diplomacy"} <= set(m.topics)
    # The same term as the subject still counts.
    subject = judge(matcher, "Hegseth and Rajnath Singh discuss ADMM-Plus agenda in a call")
    assert "indo-pacific" in subject.topics


def test_an_outlet_block_without_its_source_is_refused_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "outlets.yaml"
    bad.write_text("blocks:\n  - side: india\n    hosts: [.in]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"blocks\.0\.source") as err:
        load_outlets(bad)
    assert str(bad) in str(err.value)
