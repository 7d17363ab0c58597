"""``admin track``'s suggester: key phrases a person would accept, on a real article's text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import AppConfig
from bot.core.track import acceptable, key_phrases, suggest_terms

ROOT = Path(__file__).resolve().parents[2]
ARTICLE = (ROOT / "tests" / "testdata" / "track" / "defence-framework.txt").read_text()
WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
VERBS = {"said", "announced", "signed", "met", "agreed", "posted", "calling", "described"}


def _words(phrases: list[str]) -> set[str]:
    return {w.lower() for p in phrases for w in re.findall(r"[\w-]+", p)}


def test_real_article_yields_names_not_dates_or_verbs(cfg: AppConfig) -> None:
    suggested = [t for terms in suggest_terms(ARTICLE, cfg).values() for t in terms]
    assert suggested
    assert not _words(suggested) & WEEKDAYS
    assert not {w for w in _words(suggested) if w in VERBS}
    # a named thing a person would add: the ASEAN meeting format the deal was signed at
    assert any("ASEAN" in t for t in suggested), suggested
    # no two suggestions are the same name cut differently
    assert len({t.lower() for t in suggested}) == len(suggested)


def test_existing_terms_are_not_proposed_again_but_new_platforms_are(cfg: AppConfig) -> None:
    article = (
        "On Tuesday India and the United States agreed to co-produce Javelin missiles. "
        "Officials said the Ghatak stealth drone programme supports defence industry "
        "cooperation, and the Ghatak stealth drone would be built in Bengaluru by 2030."
    )
    suggested = [t for terms in suggest_terms(article, cfg).values() for t in terms]
    assert any("Ghatak" in t for t in suggested), suggested
    assert not any("Javelin" in t for t in suggested)  # Javelin is a listed term already
    assert not _words(suggested) & (WEEKDAYS | {"2030"})


@pytest.mark.parametrize(
    ("phrase", "ok"),
    [
        ("Friday", False),
        ("announced on Monday", False),
        ("2025", False),
        ("10 2025", False),
        ("said the agreement", False),
        ("of the", False),
        ("Indian government", False),
        ("INDUS-X programme", True),
        ("Stryker combat vehicles", True),
    ],
)
def test_filters(phrase: str, ok: bool) -> None:
    assert acceptable(phrase) is ok


def test_key_phrases_are_ranked_and_deduplicated() -> None:
    phrases = key_phrases(ARTICLE)
    assert phrases and len(phrases) <= 40
    lowered = [p.lower() for p in phrases]
    assert len(set(lowered)) == len(lowered)
