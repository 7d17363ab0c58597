"""The matcher follows the labelling rules: both countries as actors, the relationship as the
subject, at least one topic; third-country stories, lists and lookalikes come out negative."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import AppConfig, ConfigError, load_config
from bot.config.matching import MatchingError
from bot.core.matching import Matcher
from bot.core.models import Item, Match
from bot.settings import DEFAULT_CONFIG


def judge(matcher: Matcher, title: str, summary: str = "") -> Match:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    item = Item(id=1, key="k", feed_id=None, title=title, summary=summary, url=None,
                source="Test Wire", published=None, first_seen=seen)  # fmt: skip
    return matcher.match(item)


# --------------------------------------------------------------------------- relevant


def test_defence_ministers_signing_a_framework_is_relevant_with_its_topics(
    matcher: Matcher,
) -> None:
    m = judge(
        matcher,
        "Rajnath Singh and Hegseth sign 10-year defence framework",
        "The Pentagon chief and India's defence minister signed the framework in Kuala Lumpur, "
        "covering co-production, intelligence sharing and joint exercises.",
    )
    assert m.relevant
    assert {"framework-agreement", "diplomacy"} <= set(m.topics)
    assert m.evidence["rule"] == "relevant"


def test_us_side_named_only_as_a_company_and_engine_counts(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "HAL and GE Aerospace close in on F414 engine co-production deal",
        "Hindustan Aeronautics expects to finalise terms for making the engines in Bengaluru "
        "with technology transfer for the Tejas Mk2 programme.",
    )
    assert m.relevant
    assert "defence-industry" in m.topics
    actors = m.evidence["actors"]
    assert isinstance(actors, dict)
    assert "GE Aerospace" in actors["us"]


def test_weapon_system_alone_stands_for_the_us(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "Indian Army to co-produce Javelin missiles under new arrangement",
        "The deal covers joint production of the anti-tank missile in India.",
    )
    assert m.relevant and "defence-industry" in m.topics


def test_tariff_story_without_defence_words_is_relevant_under_trade(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "Washington raises duties on Indian shrimp exporters",
        "The US Commerce Department set new anti-dumping tariffs on shrimp from India, "
        "a blow to exporters in Andhra Pradesh as trade talks continue.",
    )
    assert m.relevant and m.topics == ("trade-tensions",)


def test_visa_measure_falling_on_indian_workers_is_relevant(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "New H-1B wage rule worries Indian IT firms",
        "Infosys and TCS say the Labor Department's wage floor raises the cost of each visa.",
    )
    assert m.relevant and "visa-immigration" in m.topics


def test_a_named_bilateral_exercise_stands_for_both_sides(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "Yudh Abhyas opens in Rajasthan desert",
        "Soldiers from both armies began two weeks of counter-terrorism drills.",
    )
    assert m.relevant and "military-exercises" in m.topics


# --------------------------------------------------------------------------- hard negatives


@pytest.mark.parametrize(
    ("kind", "title", "summary"),
    [
        ("India with France", "India signs deal for 26 Rafale Marine jets with France",
         "Dassault will deliver the carrier fighters to the Indian Navy; Macron called the "
         "contract a milestone in the India-France strategic partnership."),
        ("India with Russia", "Moscow to speed up S-400 deliveries to India",
         "Russian defence minister Belousov told Rajnath Singh the remaining squadrons of the "
         "air-defence system would arrive next year; the two sides also discussed joint drills."),
        ("India with Japan", "India and Japan hold first Dharma Guardian drill of the year",
         "Japanese and Indian troops trained together in Rajasthan as Tokyo and New Delhi "
         "deepen defence cooperation and technology transfer."),
        ("US with Japan", "Hegseth and Japan's defence minister agree to co-produce missiles",
         "The Pentagon and Tokyo will jointly produce air-to-air missiles, deepening the "
         "US-Japan alliance amid China's assertiveness in the Indo-Pacific."),
        ("US with the Philippines", "US Marines and Philippine troops open Balikatan drills",
         "Thousands of American and Filipino troops began the annual exercise in Luzon."),
        ("India's own budget", "Defence gets record capital outlay in Union Budget",
         "The finance minister raised India's defence budget by 9%, with more money for "
         "fighter jets, drones and submarines built in India."),
        ("India's markets", "Sensex climbs 600 points as defence stocks rally",
         "HAL and Bharat Electronics led gains on the Indian stock market after strong "
         "order books."),
        ("same words, other story", "Heavy rain lashes Malabar region of Kerala",
         "Schools in the Malabar coast districts were shut as the Indian weather office "
         "issued a red alert; rescue drills were held in Kozhikode."),
    ],
)  # fmt: skip
def test_hard_negatives_are_not_relevant(
    matcher: Matcher, kind: str, title: str, summary: str
) -> None:
    m = judge(matcher, title, summary)
    assert not m.relevant, f"{kind}: {m.why}"
    assert m.topics == ()


def test_both_countries_in_a_list_of_twenty_is_not_relevant(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "G20 environment ministers adopt ocean declaration",
        "Ministers from Argentina, Australia, Brazil, Canada, China, France, Germany, India, "
        "Indonesia, Italy, Japan, Mexico, Russia, Saudi Arabia, South Africa, South Korea, "
        "Turkiye, the UK, the US and the EU backed the text on maritime pollution and security.",
    )
    assert not m.relevant
    actors = m.evidence["actors"]
    assert isinstance(actors, dict)
    assert "India" in actors["in_lists"] and "US" in actors["in_lists"]


def test_third_country_dominating_the_story_makes_it_negative(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "India sends troops to Russia's Zapad exercise; US among observers",
        "Russian and Belarusian forces lead the drills near Moscow, which the Kremlin says "
        "show Russia's reach; Indian officers will train alongside.",
    )
    assert not m.relevant
    assert m.evidence["rule"] == "third-country"


def test_both_countries_outside_every_topic_is_not_relevant(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "Fugitive extradited from US to India in fraud case",
        "Indian investigators took custody of the businessman after a US court rejected his "
        "appeals.",
    )
    assert not m.relevant
    assert m.evidence["rule"] == "no-topic"


def test_lower_case_us_is_a_pronoun_not_the_country(matcher: Matcher) -> None:
    m = judge(matcher, "Let us talk tariffs, says Indian trade body", "Exporters want relief.")
    assert not m.relevant
    assert m.evidence["rule"] == "no-us-actor"


# --------------------------------------------------------------------------- explanation


def test_decision_carries_a_one_line_why_and_json_evidence(matcher: Matcher) -> None:
    m = judge(matcher, "Trump and Modi discuss tariff relief in phone call")
    assert m.relevant
    assert "\n" not in m.why and m.why.startswith("Relevant")
    evidence = json.loads(json.dumps(m.evidence))
    assert evidence["actors"]["us"] == ["Trump"]
    assert evidence["actors"]["india"] == ["Modi"]
    assert evidence["topic_terms"]["trade-tensions"] == ["tariff relief"]
    assert evidence["score"] == m.score


def test_matching_is_deterministic(matcher: Matcher) -> None:
    a = judge(matcher, "US and India hold Malabar drills", "Navies of both sides trained.")
    b = judge(matcher, "US and India hold Malabar drills", "Navies of both sides trained.")
    assert a == b


# --------------------------------------------------------------------------- config


def _with_matching(cfg: AppConfig, tmp_path: Path, **section: Any) -> Path:
    """The config as a file, its ``matching:`` section changed."""
    data = cfg.model_dump(mode="json")
    data["matching"].update(section)
    path = tmp_path / "newsbot.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_bad_matching_section_gives_a_clear_error_with_its_line(
    cfg: AppConfig, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"newsbot\.yaml:\d+: matching\.dominance: .*number"):
        load_config(_with_matching(cfg, tmp_path, dominance="lots"))


def test_misspelt_matching_setting_is_named(cfg: AppConfig, tmp_path: Path) -> None:
    grouping = {**cfg.matching.grouping.model_dump(), "jion": 0.3}
    with pytest.raises(ConfigError, match=r"matching\.grouping\.jion: unknown setting"):
        load_config(_with_matching(cfg, tmp_path, grouping=grouping))


def test_missing_actor_lists_are_reported(cfg: AppConfig, tmp_path: Path) -> None:
    path = _with_matching(cfg, tmp_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["matching"]["us_actors"]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"matching\.us_actors: required setting is missing"):
        load_config(path)


def test_pair_rule_naming_an_unknown_topic_is_an_error(cfg: AppConfig, tmp_path: Path) -> None:
    rules = [{"topic": "diplomcy", "us": ["Trump"], "india": ["Modi"]}]
    bad = load_config(_with_matching(cfg, tmp_path, pair_rules=rules))
    with pytest.raises(MatchingError, match=r"matching\.pair_rules\.0\.topic: 'diplomcy' is not"):
        Matcher.from_config(bad)


def test_leaders_of_both_sides_in_contact_make_a_diplomacy_topic(matcher: Matcher) -> None:
    m = judge(matcher, "Trump and Modi speak by phone on Russian oil purchases")
    assert m.relevant and "diplomacy" in m.topics
    terms = m.evidence["topic_terms"]
    assert isinstance(terms, dict) and "(officials of both sides)" in terms["diplomacy"]


def test_leaders_named_together_without_a_contact_are_not_diplomacy(matcher: Matcher) -> None:
    # Diplomacy is a contact act (meeting, call, visit, talks), not two names in one headline.
    m = judge(matcher, "Trump says Modi promised to cut Russian oil purchases")
    assert m.relevant and m.topics == ("trade-tensions",)


def test_immigration_enforcement_on_indian_students_is_relevant(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "ICE detains dozens of Indian students in Texas raids",
        "Immigration and Customs Enforcement officers held students on F-1 visas.",
    )
    assert m.relevant and m.topics == ("visa-immigration",)


def test_a_newspaper_name_is_not_an_actor(matcher: Matcher) -> None:
    m = judge(matcher, "Washington Post: India's monsoon arrives early", "Rain hit Kerala.")
    assert not m.relevant and m.evidence["rule"] == "no-us-actor"


def test_a_retuned_matcher_decides_as_one_built_from_the_edited_config(
    cfg: AppConfig, matcher: Matcher
) -> None:
    lines = (DEFAULT_CONFIG.parents[1] / "tests" / "testdata" / "eval" / "dev.jsonl").read_text()
    items = [
        Item(n, str(n), None, o["title"], o.get("summary", ""), None, "X", None,
             datetime(2025, 1, 1, tzinfo=UTC))
        for n, o in enumerate(json.loads(line) for line in lines.splitlines())
    ]  # fmt: skip
    topics = [
        t.model_copy(update={"terms": t.terms[1:], "threshold": 1.5 if i == 2 else t.threshold})
        for i, t in enumerate(cfg.topics)
    ]
    edited = cfg.model_copy(
        update={
            "topics": topics,
            "thresholds": cfg.thresholds.model_copy(update={"relevance": 0.8}),
        }
    )
    built, retuned = Matcher.from_config(edited), matcher.retuned(edited)
    assert [built.match(i) for i in items] == [retuned.match(i) for i in items]
    assert [matcher.match(i) for i in items] != [retuned.match(i) for i in items]
    actors = [cfg.topics[0].model_copy(update={"actors": ["Zorblax Accord"]}), *cfg.topics[1:]]
    with pytest.raises(ValueError, match="only topic-term and threshold edits"):
        matcher.retuned(cfg.model_copy(update={"topics": actors}))


def test_the_evidence_names_the_people_by_surname_and_the_formats_by_topic(
    matcher: Matcher,
) -> None:
    found = judge(matcher, "Pete Hegseth and Rajnath Singh sign Security of Supply Arrangement",
                  "Hegseth called the SOSA a step for both militaries.")  # fmt: skip
    assert found.evidence["persons"] == {"us": ["hegseth"], "india": ["singh"]}
    assert found.evidence["format_topics"] == ["logistics-intel"]
