"""The matcher: is an item a follow-up on US–India ties, under which topics, and why.

Pure and deterministic: gazetteers and term lists come from the config (``matching:`` and the
topics' ``terms:``/``actors:``), so tuning is data. The rules follow the labelling rules:

* both countries must appear as actors (governments, forces, firms, officials, programmes);
  a topic's ``actors:`` are bilateral programmes (Yudh Abhyas, iCET) that stand for both;
* mentions weigh by where they are (title > lead sentence > rest), so the relationship must be
  the subject, not a passing mention;
* countries named in a row ("China, the US, Australia and India") are a list: those
  mentions do not count;
* phrases like "outside the US" or "Russian oil" hide the country names inside them;
* a topic's ``pair_rules`` office-holders of both sides named together add to that topic;
* a third country that outweighs the weaker of the two sides makes it another story;
* at least one topic must reach its threshold.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.config import AppConfig
from bot.core.models import Item, Match

logger = logging.getLogger(__name__)

US = "us"
INDIA = "india"
BOTH = "both"  # a bilateral programme: stands for both sides
NEUTRAL = ""  # a phrase that hides the actor names inside it ("outside the US")

TITLE, LEAD, BODY = "title", "lead", "body"

_DASHES = re.compile(r"[-‐‑‒–—―/]")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_DOTTED_US = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?")
# A sentence ends at . ! ? before a capital, except after an initial or a title ("S. Jaishankar").
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bNo\.)"
    r"\s+(?=[\"'(\[]?[A-Z0-9])"
)
# What may stand between two names of one list: "China, the US, Australia and Japan".
_LIST_WORDS = frozenset({"and", "or", "plus", "the", "as", "well"})
_SPACES = re.compile(r"\s+")


class MatchingError(ValueError):
    """The ``matching:`` section of the config is invalid; the message says what to fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldWeights(_Strict):
    title: float = Field(default=3.0, ge=0)
    lead: float = Field(default=2.0, ge=0)
    body: float = Field(default=1.0, ge=0)


class GroupingSettings(_Strict):
    """Story grouping knobs (see bot/core/stories.py)."""

    # A report joins an open story at this similarity (within thresholds.story_window) ...
    join: float = Field(default=0.3, ge=0, le=1)
    # ... or, when the story is older but not older than long_window, at this one.
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
    # Taken from it for a report placed somewhere else than every place the story names.
    place_weight: float = Field(default=0.3, ge=0, le=1)
    # Words that say nothing about which event it is (beyond stopwords and gazetteers).
    generic_words: list[str] = Field(default_factory=list)
    max_signature_tokens: int = Field(default=80, ge=10)


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
    # A topic is hit when its weighted term hits reach this (a topic's threshold overrides).
    topic_threshold: float = Field(default=2.0, gt=0)
    # Topic weight at which the topic evidence counts fully.
    full_topic: float = Field(default=3.0, gt=0)
    # Both sides' office-holders named together add to a topic (the weaker mention's weight).
    pair_rules: list[PairRule] = Field(default_factory=list)
    grouping: GroupingSettings = GroupingSettings()


def load_matching_settings(raw: dict[str, object]) -> MatchingSettings:
    """Validate the config's ``matching:`` section; errors name the setting and the fix."""
    try:
        return MatchingSettings.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in ("matching", *err["loc"]))
        if err["type"] == "extra_forbidden":
            problem = "unknown setting; remove it or correct its spelling"
        elif err["type"] == "missing":
            problem = "required setting is missing; add it (see config/newsbot.yaml)"
        else:
            problem = str(err["msg"]).removeprefix("Value error, ")
        raise MatchingError(f"{where}: {problem}") from None


def normalise(text: str) -> str:
    """Fold the spellings that vary between outlets: dashes, quotes, ``U.S.``, spacing."""
    text = _DOTTED_US.sub("US", text.translate(_QUOTES))
    return _SPACES.sub(" ", _DASHES.sub(" ", text))


def _is_case_sensitive(alias: str) -> bool:
    # "US", "GE", "HAL": all-caps short forms would otherwise match "us", "ge", "hal".
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) <= 5


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[&+][A-Za-z0-9]+)*")


def _phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in _TOKEN.finditer(normalise(phrase)))


class _Gazetteer:
    """Phrases → labels, found by looking up word n-grams (leftmost, longest, non-overlapping).

    A dictionary walk over the words is many times faster than one regex alternation of a few
    hundred phrases, which the 5,000 items/s budget needs.
    """

    def __init__(self, labelled: dict[str, str]) -> None:
        self._folded: dict[tuple[str, ...], str] = {}
        self._exact: dict[tuple[str, ...], str] = {}
        # First word → the lengths of phrases starting with it, longest first.
        self._lengths: dict[str, list[int]] = {}
        for phrase, label in labelled.items():
            toks = _phrase_tokens(phrase)
            if not toks:
                continue
            if _is_case_sensitive(" ".join(toks)):
                self._exact.setdefault(toks, label)
            else:
                toks = tuple(t.lower() for t in toks)
                self._folded.setdefault(toks, label)
            lengths = self._lengths.setdefault(toks[0].lower(), [])
            if len(toks) not in lengths:
                lengths.append(len(toks))
                lengths.sort(reverse=True)

    def find(self, seg: _Segments) -> list[tuple[int, int, str, str]]:
        """(first word, end word, phrase, label) per hit, in text order; never across sentences."""
        hits: list[tuple[int, int, str, str]] = []
        words, lower, sent = seg.words, seg.lower, seg.sentence
        n = len(words)
        first = self._lengths
        free = 0  # words before this one are inside an earlier hit
        for i in [i for i, w in enumerate(lower) if w in first]:
            if i < free:
                continue
            for length in first[lower[i]]:
                end = i + length
                if end > n or sent[end - 1] != sent[i]:
                    continue
                label = self._exact.get(tuple(words[i:end]))
                if label is None:
                    label = self._folded.get(tuple(lower[i:end]))
                if label is not None:
                    hits.append((i, end, " ".join(words[i:end]), label))
                    free = end
                    break
        return hits


@dataclass(frozen=True, slots=True)
class _Segments:
    """The item's words, lower-cased words and sentence numbers (the title is sentence 0)."""

    words: list[str]
    lower: list[str]
    sentence: list[int]

    def field(self, word: int) -> str:
        idx = self.sentence[word]
        return TITLE if idx == 0 else LEAD if idx == 1 else BODY


def _fold(text: str) -> str:
    # Dashes and spacing need no folding here: the word pattern skips them.
    text = text.translate(_QUOTES)
    return _DOTTED_US.sub("US", text) if "U." in text else text


def _segments(title: str, summary: str) -> _Segments:
    parts = [_fold(title)]
    parts += _SENTENCE_END.split(_fold(summary).strip())
    words: list[str] = []
    sentence: list[int] = []
    for idx, part in enumerate(parts):
        found = _TOKEN.findall(part)
        words += found
        sentence += [idx] * len(found)
    return _Segments(words, [w.lower() for w in words], sentence)


@dataclass(frozen=True, slots=True)
class _TopicRule:
    id: str
    threshold: float


class Matcher:
    """Decides relevance and topics for one item at a time; holds only compiled config."""

    def __init__(
        self,
        settings: MatchingSettings,
        topics: list[tuple[str, list[str], list[str], float | None]],
        relevance_threshold: float,
    ) -> None:
        self.settings = settings
        self.relevance_threshold = relevance_threshold
        labelled: dict[str, str] = {}
        for phrase in settings.neutral_phrases:
            labelled[phrase] = NEUTRAL
        for phrase in settings.us_actors:
            labelled.setdefault(phrase, US)
        for phrase in settings.india_actors:
            labelled.setdefault(phrase, INDIA)
        for country, phrases in settings.third_countries.items():
            for phrase in phrases:
                labelled.setdefault(phrase, "third:" + country)
        term_labels: dict[str, str] = {}
        self._topic_rules: list[_TopicRule] = []
        for topic_id, terms, actors, threshold in topics:
            for phrase in actors:
                labelled.setdefault(phrase, BOTH + ":" + topic_id)
            for term in terms:
                # One phrase may belong to several topics ("ship repair").
                term_labels[term] = (
                    term_labels[term] + "," + topic_id if term in term_labels else topic_id
                )
            self._topic_rules.append(
                _TopicRule(
                    topic_id, threshold if threshold is not None else settings.topic_threshold
                )
            )
        known = {t[0] for t in topics}
        self._pair_rules: list[tuple[str, frozenset[str], frozenset[str]]] = []
        for n, rule in enumerate(settings.pair_rules):
            if rule.topic not in known:
                raise MatchingError(
                    f"matching.pair_rules.{n}.topic: {rule.topic!r} is not a topic id; "
                    f"use one of {', '.join(sorted(known))}"
                )
            us = frozenset(" ".join(_phrase_tokens(p)).lower() for p in rule.us)
            india = frozenset(" ".join(_phrase_tokens(p)).lower() for p in rule.india)
            self._pair_rules.append((rule.topic, us, india))
        self._actors = _Gazetteer(labelled)
        self._terms = _Gazetteer(term_labels)

    @classmethod
    def from_config(cls, cfg: AppConfig) -> Matcher:
        settings = load_matching_settings(cfg.matching)
        topics = [(t.id, list(t.terms), list(t.actors), t.threshold) for t in cfg.topics]
        return cls(settings, topics, cfg.thresholds.relevance)

    def match(self, item: Item) -> Match:
        seg = _segments(item.title, item.summary)
        weights = self.settings.weights
        field_weight = {TITLE: weights.title, LEAD: weights.lead, BODY: weights.body}

        side = {US: 0.0, INDIA: 0.0}
        third: dict[str, float] = {}
        found: dict[str, list[str]] = {US: [], INDIA: [], "anchors": [], "third": [], "listed": []}
        anchor_topics: set[str] = set()
        actor_hits = [h for h in self._actors.find(seg) if h[3] != NEUTRAL]
        listed = _listed(seg, actor_hits, self.settings.list_countries)
        for start, _end, phrase, label in actor_hits:
            w = field_weight[seg.field(start)]
            if label.startswith(BOTH):
                side[US] += w
                side[INDIA] += w
                anchor_topics.add(label.split(":", 1)[1])
                _add(found["anchors"], phrase)
            elif start in listed:
                _add(found["listed"], phrase)
            elif label in (US, INDIA):
                side[label] += w
                _add(found[label], phrase)
            else:
                country = label.split(":", 1)[1]
                third[country] = third.get(country, 0.0) + w
                _add(found["third"], f"{phrase} ({country})")

        topic_score: dict[str, float] = {}
        topic_terms: dict[str, list[str]] = {}
        # Topics cannot change a decision that a missing side already made (and most items
        # of a busy feed are that): their terms are looked up only when both sides are there.
        both_sides = min(side.values()) >= self.settings.min_side
        for start, _end, phrase, label in self._terms.find(seg) if both_sides else ():
            w = field_weight[seg.field(start)]
            for topic_id in label.split(","):
                topic_score[topic_id] = topic_score.get(topic_id, 0.0) + w
                _add(topic_terms.setdefault(topic_id, []), phrase)
        for topic_id, us_names, india_names in self._pair_rules if both_sides else ():
            best = {US: 0.0, INDIA: 0.0}
            for start, _end, phrase, label in actor_hits:
                names = us_names if label == US else india_names if label == INDIA else None
                if names is not None and start not in listed and phrase.lower() in names:
                    best[label] = max(best[label], field_weight[seg.field(start)])
            if min(best.values()) > 0:
                topic_score[topic_id] = topic_score.get(topic_id, 0.0) + min(best.values())
                _add(topic_terms.setdefault(topic_id, []), "(officials of both sides)")
        for topic_id in anchor_topics:
            topic_score[topic_id] = topic_score.get(topic_id, 0.0) + self.settings.full_topic
        topics = tuple(r.id for r in self._topic_rules if topic_score.get(r.id, 0.0) >= r.threshold)
        return self._decide(item, side, third, topics, topic_score, topic_terms, found)

    def _decide(
        self,
        item: Item,
        side: dict[str, float],
        third: dict[str, float],
        topics: tuple[str, ...],
        topic_score: dict[str, float],
        topic_terms: dict[str, list[str]],
        found: dict[str, list[str]],
    ) -> Match:
        s = self.settings
        weaker = min(side[US], side[INDIA])
        pair = min(1.0, weaker / s.full_side)
        best_topic = max((topic_score[t] for t in topics), default=0.0)
        topic_part = min(1.0, best_topic / s.full_topic)
        top_third = max(third.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0.0))
        dominated = top_third[1] > s.dominance * weaker
        score = round(pair * (0.5 + 0.5 * topic_part) * (0.4 if dominated else 1.0), 4)
        if side[US] < s.min_side:
            rule = "no-us-actor"
            why = "Not relevant: no US actor as a subject"
        elif side[INDIA] < s.min_side:
            rule = "no-india-actor"
            why = "Not relevant: no Indian actor as a subject"
        elif dominated:
            rule = "third-country"
            why = f"Not relevant: {top_third[0]} outweighs the US–India pair"
        elif not topics:
            rule = "no-topic"
            why = "Not relevant: US and India named, but under none of the topics"
        elif score < self.relevance_threshold:
            rule = "weak"
            why = f"Not relevant: US–India only in passing (score {score:.2f})"
        else:
            rule = "relevant"
            why = (
                f"Relevant ({score:.2f}): US {_short(found[US] + found['anchors'])}; "
                f"India {_short(found[INDIA] + found['anchors'])}; topics {', '.join(topics)}"
            )
        relevant = rule == "relevant"
        evidence: dict[str, object] = {
            "rule": rule,
            "actors": {
                "us": found[US],
                "india": found[INDIA],
                "both": found["anchors"],
                "third": found["third"],
                "in_lists": found["listed"],
            },
            "side_weight": {"us": side[US], "india": side[INDIA]},
            "third_weight": dict(sorted(third.items())),
            "topic_terms": topic_terms,
            "topic_scores": dict(sorted(topic_score.items())),
            "score": score,
            "threshold": self.relevance_threshold,
        }
        return Match(
            item_id=item.id,
            relevant=relevant,
            score=score,
            topics=topics if relevant else (),
            why=why,
            evidence=evidence,
        )


def _listed(seg: _Segments, hits: list[tuple[int, int, str, str]], min_countries: int) -> set[int]:
    """First words of country mentions standing in a list of ``min_countries`` or more."""
    runs: list[list[tuple[int, str]]] = []
    prev_end = -1
    for start, end, _phrase, label in hits:
        if label.startswith(BOTH):
            prev_end = -1
            continue
        gap = seg.lower[prev_end:start] if prev_end >= 0 else None
        if runs and gap is not None and _is_list_gap(gap, seg, prev_end, start):
            runs[-1].append((start, label))
        else:
            runs.append([(start, label)])
        prev_end = end
    listed: set[int] = set()
    for run in runs:
        if len({label for _, label in run}) >= min_countries:
            listed.update(start for start, _ in run)
    return listed


def _is_list_gap(gap: list[str], seg: _Segments, prev_end: int, start: int) -> bool:
    # Punctuation is not kept, so a list is names joined by nothing, "and", "or" or "the".
    same_sentence = seg.sentence[prev_end - 1] == seg.sentence[start]
    return same_sentence and len(gap) <= 3 and all(w in _LIST_WORDS for w in gap)


def _add(seen: list[str], phrase: str) -> None:
    if phrase not in seen:
        seen.append(phrase)


def _short(names: list[str]) -> str:
    return ", ".join(names[:3]) if names else "(none)"
