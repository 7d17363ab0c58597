"""The leave-one-topic-out run holds every part of the actor data specific to one topic."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.config import load_config
from bot.core.matching import Matcher
from bot.core.models import Item
from bot.settings import DEFAULT_CONFIG
from bot.topicholdout import held_matcher


def _item(title: str, summary: str) -> Item:
    seen = datetime(2026, 1, 1, tzinfo=UTC)
    return Item(id=1, key="k", feed_id=None, title=title, summary=summary, url=None,
                source="Test Wire", published=None, first_seen=seen)  # fmt: skip


def test_a_held_topics_formats_and_config_anchors_are_gone_the_rest_stays() -> None:
    cfg = load_config(DEFAULT_CONFIG)
    quad = _item("Quad summit opens in Wilmington", "Leaders discussed Indo-Pacific security.")
    assert Matcher.from_config(cfg).match(quad).relevant
    held = held_matcher(cfg, "indo-pacific")
    assert held.match(quad).evidence["rule"] == "no-us-actor"
    # Knowledge not specific to the held topic still decides: offices, firms, other formats.
    other = _item("Yudh Abhyas opens in Rajasthan", "US and Indian soldiers began drills.")
    assert held.match(other).relevant
