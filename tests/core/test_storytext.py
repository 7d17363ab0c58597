"""The words that tell one event from another: a sentence's background weighs less."""

from __future__ import annotations

import re

from bot.core.storytext import Featurizer

ASIDE = re.compile(r"\b(?:despite|amid)\b", re.IGNORECASE)


def features(
    title: str,
    summary: str,
    generic: frozenset[str],
    word_weight: float,
    aside: re.Pattern[str] | None = None,
    aside_weight: float = 1.0,
) -> dict[str, float]:
    return Featurizer(generic, word_weight, aside, aside_weight)(title, summary)


def test_words_after_despite_weigh_less_than_the_event_s_own() -> None:
    weights = features("Contingent reaches Alaska despite tariff row", "", frozenset(), 1.0,
                       ASIDE, 0.3)  # fmt: skip
    assert weights["alaska"] == 1.5  # a name in the main clause
    assert weights["tariff"] == 0.3  # a word of the background
    assert weights["row"] == 0.3


def test_the_background_ends_with_its_sentence_and_a_word_keeps_its_highest_weight() -> None:
    weights = features("Exercise opens", "Troops arrive amid the 50% tariff. The tariff stays.",
                       frozenset(), 1.0, ASIDE, 0.3)  # fmt: skip
    assert weights["50%"] == 2.0 * 0.3
    assert weights["tariff"] == 1.0  # named again outside the background
    assert weights["arrive"] == 1.0


def test_without_aside_words_every_word_weighs_in_full() -> None:
    assert features("Contingent reaches Alaska despite tariff row", "", frozenset(), 1.0) == (
        features("Contingent reaches Alaska despite tariff row", "", frozenset(), 1.0, ASIDE, 1.0)
    )
    assert (
        features("Contingent reaches Alaska despite tariff row", "", frozenset(), 1.0)["tariff"]
        == 1.0
    )
