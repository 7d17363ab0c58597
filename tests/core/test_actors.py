"""Sides recognised by role and knowledge (bot/data/actors.yaml), not by remembered names:
offices by nationality, services by context, firms, platforms and bilateral formats; third
countries weighed by their role in the sentence; the knowledge file checked with file:line."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import AppConfig, ConfigError
from bot.core.actors import load_knowledge
from bot.core.matching import Matcher, MatchingError
from bot.core.models import Item, Match


def judge(matcher: Matcher, title: str, summary: str = "") -> Match:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    item = Item(id=1, key="k", feed_id=None, title=title, summary=summary, url=None,
                source="Test Wire", published=None, first_seen=seen)  # fmt: skip
    return matcher.match(item)


def decided_by(m: Match, side: str) -> str:
    deciders = m.evidence["decided_by"]
    assert isinstance(deciders, dict)
    return str(deciders[side])


# --------------------------------------------------------------------------- offices


def test_offices_take_the_side_of_their_nationality(matcher: Matcher) -> None:
    summary = "The two discussed information sharing and maritime domain awareness."
    m = judge(matcher, "American admiral meets India's Navy chief", summary)
    assert m.relevant, m.why
    assert "logistics-intel" in m.topics
    assert decided_by(m, "us") == "American admiral (office, by nationality)"
    assert decided_by(m, "india").startswith("India's Navy chief (")
    assert "US side: American admiral (office, by nationality)" in m.why


def test_the_same_office_of_another_country_is_not_a_side(matcher: Matcher) -> None:
    summary = "The two discussed information sharing and maritime domain awareness."
    m = judge(matcher, "Japanese admiral meets India's Navy chief", summary)
    assert not m.relevant and m.evidence["rule"] == "no-us-actor"


def test_an_envoy_named_by_office_makes_a_high_level_contact(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "The American envoy calls on India's foreign secretary",
        "They held talks on the coming visit and on defence cooperation.",
    )
    assert m.relevant and "diplomacy" in m.topics
    assert decided_by(m, "us").startswith("American envoy (")


def test_officials_meeting_without_a_high_level_holder_is_not_diplomacy(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "US and Indian officials meet on tariff cuts",
        "The talks in New Delhi covered duties on steel and farm goods.",
    )
    assert m.relevant and "trade-tensions" in m.topics
    assert "diplomacy" not in m.topics
    terms = m.evidence["topic_terms"]
    assert isinstance(terms, dict) and "(no high-level actor)" in terms["diplomacy"]


# --------------------------------------------------------------------------- services in context


def test_a_service_named_alone_takes_the_side_of_the_government_context(
    matcher: Matcher,
) -> None:
    m = judge(
        matcher,
        "Army to receive first Javelins next month",
        "India's defence ministry said the anti-tank missiles would be co-produced.",
    )
    assert m.relevant and "defence-industry" in m.topics
    assert decided_by(m, "india") == "Army (force, by context)"
    assert decided_by(m, "us") == "Javelins (platform)"


def test_a_service_in_an_even_context_stands_for_nobody(matcher: Matcher) -> None:
    m = judge(matcher, "Navy to receive new sonobuoys next month")
    assert not m.relevant and m.evidence["rule"] == "no-india-actor"


# --------------------------------------------------------------------------- firms and formats


def test_a_us_manufacturer_delivering_to_an_indian_service_is_relevant(matcher: Matcher) -> None:
    m = judge(matcher, "Lockheed Martin delivers sixth C-130J to the Indian Air Force")
    assert m.relevant and "defence-industry" in m.topics
    assert decided_by(m, "us") == "Lockheed Martin (firm)"


def test_a_bilateral_format_stands_for_both_sides(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "2+2 intersessional held in New Delhi",
        "Officials reviewed defence and security cooperation.",
    )
    assert m.relevant and "diplomacy" in m.topics
    actors = m.evidence["actors"]
    assert isinstance(actors, dict) and actors["both"] == ["2+2 intersessional"]
    assert decided_by(m, "us") == "2+2 intersessional (format)"


def test_brahmos_is_indian_and_never_american(matcher: Matcher) -> None:
    m = judge(matcher, "BrahMos order for the Navy signed", "The missiles are made in India.")
    assert not m.relevant and m.evidence["rule"] == "no-us-actor"


# --------------------------------------------------------------------------- third countries


def test_a_third_country_as_subject_outweighs_the_pair(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "Japan signs drone deal with India; US firm to supply engines",
        "Tokyo will co-produce the drones with India's defence ministry.",
    )
    assert not m.relevant and m.evidence["rule"] == "third-country", m.why


def test_the_same_country_named_in_passing_does_not(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "India signs drone deal with US firm at expo in Japan",
        "India's defence ministry will co-produce the drones at a plant near Tokyo.",
    )
    assert m.relevant, m.why
    actors = m.evidence["actors"]
    assert isinstance(actors, dict)
    assert "Japan (Japan, in passing)" in actors["third"]


def test_sanctions_on_a_third_countrys_firms_acting_on_indian_firms(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "US sanctions on Rosneft force Indian refiners to halt Russian crude purchases",
        "Reliance said it would comply with the US measures against Rosneft and Lukoil.",
    )
    assert m.relevant and "trade-tensions" in m.topics, m.why


def test_a_third_country_counts_once_per_sentence_not_per_mention(matcher: Matcher) -> None:
    m = judge(
        matcher,
        "US and India hold Malabar drills",
        "Japan, Japanese warships and Japan's navy joined; Japan's ministers watched.",
    )
    weights = m.evidence["third_weight"]
    assert isinstance(weights, dict) and weights["Japan"] == 2.0


# --------------------------------------------------------------------------- the knowledge file


def test_the_shipped_knowledge_loads_and_every_block_names_its_source() -> None:
    knowledge = load_knowledge()
    assert knowledge.actors["Lockheed Martin"].side == "us"
    assert knowledge.actors["2+2"].side == "both"
    text = knowledge.path.read_text(encoding="utf-8")
    assert text.count("  - side:") == text.count("    source:")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "actors.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_a_malformed_entry_is_rejected_with_file_and_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "blocks:\n"
        "  - side: us\n"
        "    kind: firm\n"
        "    source: US manufacturers' annual reports\n"
        "    names: [Boeing]\n"
        "  - side: usa\n"
        "    kind: firm\n"
        "    source: US manufacturers' annual reports\n"
        "    names: [Lockheed Martin]\n",
    )
    with pytest.raises(ConfigError) as err:
        load_knowledge(path)
    assert str(err.value).startswith(f"{path.resolve()}:6: blocks.1.side: ")


def test_a_block_without_a_source_is_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "blocks:\n  - side: us\n    kind: firm\n    names: [Boeing]\n")
    with pytest.raises(ConfigError, match=r":2: blocks\.0\.source: Field required"):
        load_knowledge(path)


def test_a_name_given_to_both_sides_is_rejected_on_its_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "blocks:\n"
        "  - side: us\n    kind: firm\n    source: annual reports of the firms\n"
        "    names: [Boeing]\n"
        "  - side: india\n    kind: firm\n    source: annual reports of the firms\n"
        "    names:\n      - HAL\n      - boeing\n",
    )
    with pytest.raises(ConfigError, match=r":11: blocks\.1\.names\.1: 'boeing' is already a us"):
        load_knowledge(path)


def test_a_format_naming_an_unknown_topic_is_a_matching_error(
    tmp_path: Path, cfg: AppConfig
) -> None:
    path = _write(
        tmp_path,
        "blocks:\n  - side: both\n    kind: format\n    topic: diplomcy\n"
        "    source: state.gov joint statements\n    names: [2+2]\n",
    )
    with pytest.raises(MatchingError, match=r"'diplomcy', which is not a topic id"):
        Matcher.from_config(cfg, load_knowledge(path))


def test_without_a_topics_formats_the_format_stands_for_nobody(cfg: AppConfig) -> None:
    held = Matcher.from_config(cfg, load_knowledge().without_topic("diplomacy"))
    m = judge(held, "2+2 intersessional held in New Delhi", "Officials reviewed cooperation.")
    assert not m.relevant and m.evidence["rule"] == "no-us-actor"
