"""The ``matching:`` section of the config: the matcher's actor lists, weights and thresholds,
its pair rules, and the story grouper's settings (``grouping:``). Validated with the rest of
the file (``bot.config.load_config``): a wrong key or value is reported with its line."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MatchingError(ValueError):
    """The matcher's knowledge (the config's ``matching:`` section, its data files) is invalid;
    the message says what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldWeights(_Strict):
    title: float = Field(default=3.0, ge=0)
    lead: float = Field(default=2.0, ge=0)
    body: float = Field(default=1.0, ge=0)


# English connectives that open a background clause (language data, not tuning).
ASIDE_WORDS = ("despite", "amid", "amidst", "even as", "notwithstanding", "in the face of",
               "against the backdrop of")  # fmt: skip


class GroupingSettings(_Strict):
    """Story grouping knobs (see bot/core/stories.py)."""

    # A report joins an open story at thresholds.story (within thresholds.story_window), or,
    # when the story is older but not older than long_window, at this similarity.
    strong: float = Field(default=0.45, ge=0, le=1)
    long_window_days: float = Field(default=16.0, ge=0)
    # A new story is linked to an earlier one this similar within link_window_days.
    link: float = Field(default=0.2, ge=0, le=1)
    link_window_days: float = Field(default=120.0, ge=0)
    # Weight of a plain word against a name (1.5) or a number (2.0).
    word_weight: float = Field(default=1.0, ge=0)
    # Added to the token cosine: × the topics' Jaccard overlap, × closeness within the window.
    topic_weight: float = Field(default=0.15, ge=0, le=1)
    # The token cosine a report needs before topic and date add anything.
    min_cosine: float = Field(default=0.1, ge=0, le=1)
    date_weight: float = Field(default=0.1, ge=0, le=1)
    # Added to the similarity for the same act (bot/core/events.py) and, × their overlap,
    # the same participants: reports of one event days apart join.
    event_weight: float = Field(default=0.1, ge=0, le=1)
    # Taken from it for a report placed somewhere else than every place the story names. Off
    # by default: without place aliases (Delaware/Wilmington) it splits more than it saves,
    # and cross-validation chose 0 in every fold.
    place_weight: float = Field(default=0.0, ge=0, le=1)
    # Taken from it for a report about other bilateral formats than every one the story names
    # (by their topics: the Security of Supply Arrangement against the defence framework).
    object_weight: float = Field(default=0.0, ge=0, le=1)
    # Taken from it for a report whose named people on one side are all others than the
    # story's (another visitor, another minister's call).
    person_weight: float = Field(default=0.0, ge=0, le=1)
    # Words that say nothing about which event it is (beyond stopwords and gazetteers).
    generic_words: list[str] = Field(default_factory=list)
    max_signature_tokens: int = Field(default=80, ge=10)
    # The rest of a sentence after one of these words is background, not the event ("the
    # contingent arrives despite the tariff row"): its words weigh aside_weight of their own.
    aside_words: list[str] = Field(default_factory=lambda: list(ASIDE_WORDS))
    aside_weight: float = Field(default=0.3, ge=0, le=1)
    # Each bilateral format the matcher named (iCET, Yudh Abhyas) weighs this much again as a
    # feature of its own: the surest sign of which event a report is about.
    format_weight: float = Field(default=1.0, ge=0)


class PairRule(_Strict):
    """A topic that a named person on each side makes by themselves (leaders, ministers)."""

    topic: str
    us: list[str] = Field(min_length=1)
    india: list[str] = Field(min_length=1)


class MatchingSettings(_Strict):
    """The ``matching:`` section: gazetteers, neutral phrases and the rule parameters."""

    us_actors: list[str] = Field(min_length=1)
    india_actors: list[str] = Field(min_length=1)
    third_countries: dict[str, list[str]] = Field(default_factory=dict)
    neutral_phrases: list[str] = Field(default_factory=list)
    weights: FieldWeights = FieldWeights()
    # Each side needs at least this much weight (a lead-sentence mention is weights.lead).
    min_side: float = Field(default=1.0, ge=0)
    # Side weight at which the pair counts fully; a title mention on both sides reaches it.
    full_side: float = Field(default=3.0, gt=0)
    # This many distinct countries named in a row are a list; those mentions do not count.
    list_countries: int = Field(default=3, ge=2)
    # A third country weighing more than dominance × the weaker side makes it another story.
    dominance: float = Field(default=1.0, gt=0)
    # A third country named in passing (after "in", "on", "from" ...) weighs this much of it.
    third_passing: float = Field(default=0.5, ge=0, le=1)
    # A topic is hit when its weighted term hits reach this (a topic's threshold overrides).
    topic_threshold: float = Field(default=2.0, gt=0)
    # Topic weight at which the topic evidence counts fully.
    full_topic: float = Field(default=3.0, gt=0)
    # Both sides' office-holders named together add to a topic (the weaker mention's weight).
    pair_rules: list[PairRule] = Field(default_factory=list)
    # Topics that need a high-level office-holder (leader, minister, NSA, ambassador: the
    # knowledge's level high) or a pair rule among the actors: high-level diplomacy.
    high_level_topics: list[str] = Field(default_factory=list)
    grouping: GroupingSettings = GroupingSettings()


# matching.grouping.join and thresholds.story both claimed to be the story threshold; only
# the first was read. thresholds.story is now the one knob (the admin command edits it).
RETIRED_JOIN = (
    "matching.grouping.join: this setting was retired: the story join threshold is "
    "thresholds.story (the one `/news admin threshold story` changes)",
    "move its value to thresholds.story and delete this line",
)


def retired_join(matching: object) -> object | None:
    """The value of a retired ``matching.grouping.join`` in a matching section, if any."""
    grouping = matching.get("grouping") if isinstance(matching, dict) else None
    value: object | None = grouping.get("join") if isinstance(grouping, dict) else None
    return value
