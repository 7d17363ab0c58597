"""The matcher: is an item a follow-up on US–India ties, under which topics, and why.

Pure and deterministic. Who stands for each side is knowledge (bot/data/actors.yaml, read by
bot/core/actors.py); term lists, the config's extra names and the rule parameters come from the
config (``matching:`` and the topics' ``terms:``/``actors:``), so tuning is data. The rules
follow the labelling rules:

* both countries must appear as actors: governments, forces, offices and their holders, firms,
  platforms; a bilateral format (2+2, Yudh Abhyas, iCET) stands for both;
* an office takes the side of the nationality before it ("the American envoy"), a service
  named alone ("the Army") the side of the item's government context;
* mentions weigh by where they are (title > lead sentence > rest), so the relationship must be
  the subject, not a passing mention;
* countries named in a row ("China, the US, Australia and India") are a list: those
  mentions do not count;
* phrases like "outside the US" or "Russian oil" hide the country names inside them;
* a third country weighs by its role in each sentence, not by its count: once per sentence,
  less when named in passing (after "in", "on", "from" ...); one that outweighs the weaker of
  the two sides makes it another story;
* a ``high_level_topics`` topic (diplomacy) is a contact act (its terms: a meeting, call,
  visit, talks) between the two at a high level: it needs high-level office-holders on both
  sides (a ``pair_rules`` pair, leaders named in a row, a leaders' format), or an envoy of one
  to the other; office-holders named together without a contact act are no topic;
* a topic term after "on the sidelines of" or "ahead of" names the venue, not the topic;
* at least one topic must reach its threshold.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

from bot.config import AppConfig, ConfigError
from bot.config.matching import (
    GroupingSettings,
    MatchingError,
    MatchingSettings,
)
from bot.core.actors import (
    BOTH,
    INDIA,
    NEUTRAL,
    PAIR,
    THIRD,
    US,
    Actor,
    Knowledge,
    Mention,
    in_passing,
    is_venue,
    listed_mentions,
    load_knowledge,
    resolve,
)
from bot.core.gazetteer import (
    BODY,
    LEAD,
    TITLE,
    Gazetteer,
    normalise,
    phrase_tokens,
    segments,
)
from bot.core.models import Item, Match
from bot.core.outlets import load_outlets

__all__ = ["GroupingSettings", "Matcher", "MatchingError", "MatchingSettings", "normalise"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _TopicRule:
    id: str
    threshold: float


Topics = list[tuple[str, list[str], list[str], float | None]]


class Matcher:
    """Decides relevance and topics for one item at a time; holds only compiled config."""

    def __init__(
        self,
        settings: MatchingSettings,
        topics: Topics,
        relevance_threshold: float,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.settings = settings
        self.relevance_threshold = relevance_threshold
        known = {t[0] for t in topics}
        try:
            know = knowledge if knowledge is not None else load_knowledge()
        except ConfigError as exc:
            raise MatchingError(str(exc)) from None
        labelled: dict[str, Actor] = {p: Actor(NEUTRAL, "phrase") for p in settings.neutral_phrases}
        for phrase, actor in know.actors.items():
            if actor.topic is not None and actor.topic not in known:
                raise MatchingError(
                    f"{know.path}: format {phrase!r} names topic {actor.topic!r}, which is not "
                    f"a topic id; use one of {', '.join(sorted(known))}"
                )
            labelled.setdefault(phrase, actor)
        for phrase in settings.us_actors:
            labelled.setdefault(phrase, Actor(US, "name"))
        for phrase in settings.india_actors:
            labelled.setdefault(phrase, Actor(INDIA, "name"))
        for country, phrases in settings.third_countries.items():
            for phrase in phrases:
                labelled.setdefault(phrase, Actor(THIRD, "country", country=country))
        folded = {" ".join(phrase_tokens(p)).lower(): p for p in labelled}
        for topic_id, _terms, actors, _threshold in topics:
            for phrase in actors:
                # A format the knowledge gives one topic may stand for another topic too
                # (INDUS-X: defence industry and emerging technology): its topics join.
                known_as = folded.get(" ".join(phrase_tokens(phrase)).lower())
                earlier = labelled.get(known_as) if known_as is not None else None
                if known_as is None or earlier is None:
                    labelled[phrase] = Actor(BOTH, "format", topic=topic_id)
                    folded[" ".join(phrase_tokens(phrase)).lower()] = phrase
                elif earlier.side == BOTH and topic_id not in (earlier.topic or "").split(","):
                    joined = f"{earlier.topic},{topic_id}" if earlier.topic else topic_id
                    labelled[known_as] = Actor(BOTH, earlier.kind, earlier.level, earlier.role,
                                               joined)  # fmt: skip
        self._topic_actors = [(t[0], list(t[2])) for t in topics]
        self._compile_terms(topics)
        self._pair_rules: list[tuple[str, frozenset[str], frozenset[str]]] = []
        for n, rule in enumerate(settings.pair_rules):
            if rule.topic not in known:
                raise MatchingError(
                    f"matching.pair_rules.{n}.topic: {rule.topic!r} is not a topic id; "
                    f"use one of {', '.join(sorted(known))}"
                )
            us = frozenset(" ".join(phrase_tokens(p)).lower() for p in rule.us)
            india = frozenset(" ".join(phrase_tokens(p)).lower() for p in rule.india)
            self._pair_rules.append((rule.topic, us, india))
        for n, topic_id in enumerate(settings.high_level_topics):
            if topic_id not in known:
                raise MatchingError(
                    f"matching.high_level_topics.{n}: {topic_id!r} is not a topic id; "
                    f"use one of {', '.join(sorted(known))}"
                )
        self._high_level = frozenset(settings.high_level_topics)
        self._actors = Gazetteer(labelled)
        try:
            self._outlets = load_outlets()
        except ConfigError as exc:
            raise MatchingError(str(exc)) from None

    @classmethod
    def from_config(cls, cfg: AppConfig, knowledge: Knowledge | None = None) -> Matcher:
        settings = cfg.matching
        topics = [(t.id, list(t.terms), list(t.actors), t.threshold) for t in cfg.topics]
        return cls(settings, topics, cfg.thresholds.relevance, knowledge)

    def _compile_terms(self, topics: Topics) -> None:
        term_labels: dict[str, str] = {}
        self._topic_rules: list[_TopicRule] = []
        for topic_id, terms, _actors, threshold in topics:
            for term in terms:
                # One phrase may belong to several topics ("ship repair").
                term_labels[term] = (
                    term_labels[term] + "," + topic_id if term in term_labels else topic_id
                )
            default = self.settings.topic_threshold
            self._topic_rules.append(
                _TopicRule(topic_id, threshold if threshold is not None else default)
            )
        self._terms = Gazetteer(term_labels)

    def retuned(self, cfg: AppConfig) -> Matcher:
        """This matcher with ``cfg``'s topic terms and thresholds, sharing the actor gazetteer
        (most of a build's time): for trying many term or threshold edits of one config.

        ``cfg`` must differ from this matcher's config in nothing else (the ``matching:``
        section, the topics and their actors); otherwise this raises ValueError.
        """
        topics = [(t.id, list(t.terms), list(t.actors), t.threshold) for t in cfg.topics]
        same = [(t[0], list(t[2])) for t in topics] == self._topic_actors
        if not same or cfg.matching != self.settings:
            raise ValueError("retuned() takes only topic-term and threshold edits")
        other = copy.copy(self)
        other.relevance_threshold = cfg.thresholds.relevance
        other._compile_terms(topics)
        return other

    def match(self, item: Item) -> Match:
        seg = segments(item.title, item.summary)
        weights = self.settings.weights
        field_weight = {TITLE: weights.title, LEAD: weights.lead, BODY: weights.body}

        hits = [h for h in self._actors.find(seg) if h.label.side != NEUTRAL]
        # The outlet's country is read only when a service named alone needs it.
        mentions = resolve(seg, hits, field_weight, lambda: self._outlets.side_of(item.url))
        listed = listed_mentions(seg, mentions, self.settings.list_countries)
        side = {US: 0.0, INDIA: 0.0}
        # A third country's weight: its strongest mention in each sentence, summed.
        third_in: dict[tuple[str, int], float] = {}
        found: dict[str, list[str]] = {US: [], INDIA: [], "anchors": [], "third": [], "listed": [],
                                       "us_persons": [], "india_persons": []}  # fmt: skip
        decider: dict[str, tuple[float, Mention] | None] = {US: None, INDIA: None}
        anchor_topics: set[str] = set()
        high: dict[str, bool] = {US: False, INDIA: False}
        envoy = plural_high = False
        for m in mentions:
            w = field_weight[seg.field(m.start)]
            if m.side == PAIR:
                plural_high = plural_high or m.level == "high"
                _add(found["anchors"], m.phrase)
            elif m.side == BOTH:
                # A leaders' or ministers' format (a Quad summit) is a high-level contact.
                plural_high = plural_high or m.level == "high"
                side[US] += w
                side[INDIA] += w
                if m.topic is not None:
                    anchor_topics.update(m.topic.split(","))
                for each in (US, INDIA):
                    strongest = decider[each]
                    if strongest is None or w > strongest[0]:
                        decider[each] = (w, m)
                _add(found["anchors"], m.phrase)
            elif m.start in listed:
                _add(found["listed"], m.phrase)
                # Leaders named in a row ("Modi, Biden, Kishida and Albanese met") are still
                # leaders: no side weight, but their level counts for a high-level contact.
                if m.side in high and m.level == "high" and m.kind == "person":
                    high[m.side] = True
            elif m.side in side:
                side[m.side] += w
                if m.level == "high":
                    high[m.side] = True
                    envoy = envoy or _is_envoy(m)
                _add(found[m.side], m.phrase)
                if m.kind == "person":  # by surname: "Jake Sullivan" and "Sullivan" are one
                    _add(found[f"{m.side}_persons"], m.phrase.split()[-1].lower())
                strongest = decider[m.side]
                if strongest is None or w > strongest[0]:
                    decider[m.side] = (w, m)
            else:
                country = m.side.split(":", 1)[1]
                passing = in_passing(seg, m.start)
                w *= self.settings.third_passing if passing else 1.0
                key = (country, seg.sentence[m.start])
                third_in[key] = max(third_in.get(key, 0.0), w)
                _add(found["third"], f"{m.phrase} ({country}{', in passing' if passing else ''})")
        third: dict[str, float] = {}
        for (country, _sentence), w in third_in.items():
            third[country] = third.get(country, 0.0) + w

        topic_score: dict[str, float] = {}
        topic_terms: dict[str, list[str]] = {}
        # Topics cannot change a decision that a missing side already made (and most items
        # of a busy feed are that): their terms are looked up only when both sides are there.
        both_sides = min(side.values()) >= self.settings.min_side
        for hit in self._terms.find(seg) if both_sides else ():
            if is_venue(seg, hit.start):
                continue  # "on the sidelines of ADMM-Plus": where it happened, not what
            w = field_weight[seg.field(hit.start)]
            for topic_id in hit.label.split(","):
                topic_score[topic_id] = topic_score.get(topic_id, 0.0) + w
                _add(topic_terms.setdefault(topic_id, []), hit.phrase)
        for topic_id, us_names, india_names in self._pair_rules if both_sides else ():
            best = {US: 0.0, INDIA: 0.0}
            for m in mentions:
                names = us_names if m.side == US else india_names if m.side == INDIA else None
                if names is not None and m.start not in listed and m.phrase.lower() in names:
                    best[m.side] = max(best[m.side], field_weight[seg.field(m.start)])
            if min(best.values()) > 0:
                # Office-holders of both sides make the contact high-level; whether there was
                # a contact at all (a meeting, call, visit) is the topic's terms' to say.
                high = {US: True, INDIA: True}
                if topic_id in topic_score:
                    _add(topic_terms.setdefault(topic_id, []), "(officials of both sides)")
        for topic_id in anchor_topics:
            topic_score[topic_id] = topic_score.get(topic_id, 0.0) + self.settings.full_topic
        if not (envoy or plural_high or all(high.values())):
            for topic_id in self._high_level - anchor_topics:
                if topic_score.pop(topic_id, None) is not None:
                    _add(topic_terms.setdefault(topic_id, []), "(no high-level actor)")
        rules = self._topic_rules if topic_score else ()  # most items of a feed score none
        topics = tuple(r.id for r in rules if topic_score.get(r.id, 0.0) >= r.threshold)
        deciders = {s: d[1].describe() if d else "(none)" for s, d in decider.items()}
        found["format_topics"] = sorted(anchor_topics)
        return self._decide(item, side, third, topics, topic_score, topic_terms, found, deciders)

    def _decide(
        self,
        item: Item,
        side: dict[str, float],
        third: dict[str, float],
        topics: tuple[str, ...],
        topic_score: dict[str, float],
        topic_terms: dict[str, list[str]],
        found: dict[str, list[str]],
        deciders: dict[str, str],
    ) -> Match:
        s = self.settings
        weaker = min(side[US], side[INDIA])
        pair = min(1.0, weaker / s.full_side)
        best_topic = max((topic_score[t] for t in topics), default=0.0)
        topic_part = min(1.0, best_topic / s.full_topic)
        top_third = max(third.items(), key=lambda kv: (kv[1], kv[0]), default=("", 0.0))
        dominated = top_third[1] > s.dominance * weaker
        score = round(pair * (0.5 + 0.5 * topic_part) * (0.4 if dominated else 1.0), 4)
        both = f" (with {_short(found['anchors'])})" if found["anchors"] else ""
        sides = f"US side: {deciders[US]}; India side: {deciders[INDIA]}{both}"
        if side[US] < s.min_side:
            rule = "no-us-actor"
            why = "Not relevant: no US actor as a subject"
        elif side[INDIA] < s.min_side:
            rule = "no-india-actor"
            why = "Not relevant: no Indian actor as a subject"
        elif dominated:
            rule = "third-country"
            why = f"Not relevant: {top_third[0]} outweighs the US–India pair ({sides})"
        elif not topics:
            rule = "no-topic"
            why = f"Not relevant: US and India named, but under none of the topics ({sides})"
        elif score < self.relevance_threshold:
            rule = "weak"
            why = f"Not relevant: US–India only in passing (score {score:.2f}; {sides})"
        else:
            rule = "relevant"
            why = f"Relevant ({score:.2f}): {sides}; topics {', '.join(topics)}"
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
            "decided_by": {"us": deciders[US], "india": deciders[INDIA]},
            # What the report is about, by the bilateral formats it names (their topics): the
            # grouper tells a SOSA signing from a framework signing on one visit by it.
            "format_topics": found["format_topics"],
            # Who took part by name (surnames), each side: one visitor's trip is not another's.
            "persons": {"us": found["us_persons"], "india": found["india_persons"]},
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


def _is_envoy(m: Mention) -> bool:
    text = f"{m.phrase} {m.role}".lower()
    return "ambassador" in text or "envoy" in text


def _add(seen: list[str], phrase: str) -> None:
    if phrase not in seen:
        seen.append(phrase)


def _short(names: list[str]) -> str:
    return ", ".join(names[:3]) if names else "(none)"
