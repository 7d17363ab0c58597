"""Story grouping: put a relevant report into the open story of the same event, or open one.

A story's matching features live in ``StoryRow.signature`` (JSON), so grouping survives a
restart and never re-reads the story's items. Similarity is a cosine over *distinctive* tokens:
names, places and numbers weigh most; stopwords, the config's generic words and the words every
US–India story shares (country names, topic vocabulary) weigh nothing, so two events that share
only their topic stay apart.

* Within ``thresholds.story_window`` of the story's last report, similarity ≥
  ``thresholds.story`` joins.
* Up to ``long_window_days`` a very similar report (≥ ``strong``) still joins (a two-week
  exercise's closing report).
* Otherwise a new story opens, linked to the most similar earlier story (≥ ``link``) within
  ``link_window_days``: a later phase, a new tariff step.

What happened decides beside the words (bot/core/events.py): a report of another act than
any the story's reports named (an appointment against a signing), or of another phase of an
exercise (its close against its opening), never joins it, however similar: it opens a story
linked to it. Sharing the act (or the visit, named by its visitor) and the participants adds
``event_weight`` to the similarity, so reports of one event days apart join; a report only
*about* an event (an explainer) joins only within its kind's ``late_days``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core import events
from bot.core.events import Event
from bot.core.matching import normalise
from bot.core.matchsettings import GroupingSettings, load_matching_settings
from bot.core.models import Item, Match
from bot.core.storytext import STOPWORDS, features

# The story card (cards.py) reads the tokens through this module.
from bot.core.storytext import text_tokens as text_tokens
from bot.storage import stories as repo
from bot.storage.tables import StoryRow

logger = logging.getLogger(__name__)

SIGNATURE_VERSION = 2


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where the grouper put a report."""

    story_id: int
    story_key: str
    created: bool
    linked_story_id: int | None
    similarity: float


# token → {candidate position: that story's summed weight for the token}
Index = dict[str, dict[int, float]]


# The event sets a story's signature keeps (see _Open).
_EVENT_SETS = ("acts", "phases", "people", "places", "objects", "persons", "visitors")


@dataclass
class _Open:
    """A candidate story during one call: its row and its decoded signature."""

    row: StoryRow
    tokens: dict[str, float]  # token → summed weight over the story's reports
    count: int  # reports
    sq: float  # Σ weight², kept up to date so the norm costs nothing per comparison
    topics: set[str]
    last: datetime
    first: datetime
    acts: set[str] = field(default_factory=set)  # every act its reports named
    phases: set[str] = field(default_factory=set)
    people: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    persons: set[str] = field(default_factory=set)
    visitors: set[str] = field(default_factory=set)
    # Its reports (comments aside) only looked ahead to the act: none says it was done.
    prospect: bool = False


def item_time(item: Item) -> datetime:
    """The instant that places a report in time: its published date, else when it was seen."""
    return item.published or item.first_seen


class StoryGrouper:
    """Assigns relevant reports to stories inside the caller's transaction."""

    def __init__(self, cfg: AppConfig) -> None:
        settings = load_matching_settings(cfg.matching)
        self.settings: GroupingSettings = settings.grouping
        self.window = timedelta(seconds=cfg.thresholds.story_window)
        self.long_window = max(self.window, timedelta(days=self.settings.long_window_days))
        self.link_window = max(self.long_window, timedelta(days=self.settings.link_window_days))
        # The one story threshold (config thresholds.story, edited by the admin command).
        self.join = cfg.thresholds.story
        g = self.settings
        self._floor = min(g.min_cosine, self.join, g.strong, g.link)
        self._needed = min(self.join, g.strong, g.link)
        self._window_s = self.window.total_seconds()
        generic = {w.lower() for w in self.settings.generic_words}
        for topic in cfg.topics:
            for term in topic.terms:
                # Topic vocabulary ("tariff", "drills") is what unrelated events share; names
                # in term lists ("Stryker", "F414") still tell events apart.
                if term == term.lower():
                    generic.update(normalise(term).split())
        self._generic = frozenset(generic | STOPWORDS)

    # ----------------------------------------------------------------- features

    def features(self, item: Item) -> dict[str, float]:
        """Distinctive tokens of a report with their weights (numbers > names > words)."""
        return features(item.title, item.summary, self._generic, self.settings.word_weight)

    # ----------------------------------------------------------------- assigning

    def assign(self, session: Session, item: Item, match: Match) -> Assignment:
        """Put one relevant report into a story (joining, or opening a new one)."""
        return self.assign_many(session, [(item, match)])[0]

    def assign_many(
        self, session: Session, pairs: Sequence[tuple[Item, Match]]
    ) -> list[Assignment]:
        """Assign reports in the given order, loading the candidate stories once."""
        if not pairs:
            return []
        earliest = min(item_time(item) for item, _ in pairs)
        candidates = [
            self._decode(row) for row in repo.stories_since(session, earliest - self.link_window)
        ]
        # Two token indexes: stories a report may still join, and older ones it may only link
        # to; the second is searched only when a report opens a new story.
        # Each posting holds that story's weight for the token: the dot products read no story.
        index: Index = {}
        older: Index = {}
        for pos, story in enumerate(candidates):
            tier = index if story.last >= earliest - self.long_window else older
            for tok, weight in story.tokens.items():
                tier.setdefault(tok, {})[pos] = weight
        # A report grouped before (a re-run, a retried cycle) keeps its story.
        done = {
            item_id: Assignment(story_id, key, False, linked, sim)
            for item_id, (story_id, key, linked, sim) in repo.grouped_items(
                session, [item.id for item, _ in pairs]
            ).items()
        }
        decided: list[tuple[Item, _Open, bool, float]] = []
        links: list[tuple[StoryRow, StoryRow]] = []
        for item, match in pairs:
            if item.id in done:
                continue
            feats = self.features(item)
            event = events.extract(item, match, self._generic)
            story, created, sim, linked = self._place(
                session, item, (match, event), feats, candidates, (index, older)
            )
            decided.append((item, story, created, sim))
            if linked is not None:
                links.append((story.row, linked.row))
        new_rows = [story.row for _, story, created, _ in decided if created]
        if new_rows:
            repo.assign_keys(session, new_rows)
        for row, earlier in links:
            row.linked_story_id = earlier.id
        for story in {id(s): s for _, s, _, _ in decided}.values():
            story.row.signature = self._encode(story)
        repo.add_story_items(
            session,
            [(story.row.id, item.id, sim, item.first_seen) for item, story, _, sim in decided],
        )
        fresh = {
            item.id: Assignment(
                story.row.id, story.row.key, created, story.row.linked_story_id, sim
            )
            for item, story, created, sim in decided
        }
        return [done.get(item.id) or fresh[item.id] for item, _ in pairs]

    def _place(
        self,
        session: Session,
        item: Item,
        found: tuple[Match, Event],
        feats: dict[str, float],
        candidates: list[_Open],
        indexes: tuple[Index, Index],
    ) -> tuple[_Open, bool, float, _Open | None]:
        at = item_time(item)
        match, _ = found
        index, older = indexes
        best_join, best_link = self._scan(at, found, feats, candidates, index)
        if best_join is None:
            _, best_old = self._scan(at, found, feats, candidates, older)
            if best_old is not None and (best_link is None or best_old[0] > best_link[0]):
                best_link = best_old
        if best_join is not None:
            sim, pos = best_join
            story = candidates[pos]
            self._absorb(story, item, found, feats, index, pos)
            return story, False, round(sim, 4), None
        linked = None
        if best_link is not None and best_link[0] >= self.settings.link:
            linked = candidates[best_link[1]]
        row = repo.new_story(
            session,
            headline=item.title,
            topics=match.topics,
            first_seen=item.first_seen,
            item_at=at,
            event_at=item.published,
            linked_story_id=None,
            signature={},
        )
        story = _Open(row, {}, 0, 0.0, set(), at, at)
        candidates.append(story)
        self._absorb(story, item, found, feats, index, len(candidates) - 1)
        # The earlier story may itself be new in this call, without an id yet: linked later.
        return story, True, 1.0, linked

    def _scan(
        self,
        at: datetime,
        found: tuple[Match, Event],
        feats: dict[str, float],
        candidates: list[_Open],
        index: Index,
    ) -> tuple[tuple[float, int] | None, tuple[float, int] | None]:
        """The best story to join and the best to link to among those sharing a token."""
        best_join: tuple[float, int] | None = None
        best_link: tuple[float, int] | None = None
        # Dot products through the token index: only stories sharing a token are touched.
        # A token in a fifth of the open stories (and at least 50) tells no event apart, and
        # walking its postings would cost more than all the rest in a busy stream.
        common = max(50, len(candidates) // 5)
        dots: dict[int, float] = {}
        get = dots.get
        for tok, weight in feats.items():
            postings = index.get(tok)
            if not postings or len(postings) > common:
                continue
            for pos, theirs in postings.items():
                dots[pos] = get(pos, 0.0) + weight * theirs
        norm = math.sqrt(sum(w * w for w in feats.values()))
        match, event = found
        topics = frozenset(match.topics)
        for pos in sorted(dots):
            story = candidates[pos]
            if story.sq == 0.0:
                continue
            # The story's mean vector is tokens/count: the count cancels out of the cosine.
            cosine = dots[pos] / (norm * math.sqrt(story.sq))
            if cosine < self._floor:
                continue  # can neither join nor link, whatever its date and topics
            age = at - story.last
            if age > self.link_window or age < -self.window:
                continue
            sim = self._similarity(cosine, topics, story, age)
            if sim + self.settings.event_weight < self._needed:
                continue  # even the same act by the same people could not join or link it
            if cosine >= self.settings.min_cosine:
                sim += self._event_bonus(event, story)
            if self._joins(at, age, sim, event, story) and (
                best_join is None or sim > best_join[0]
            ):
                best_join = (sim, pos)
            if best_link is None or sim > best_link[0]:
                best_link = (sim, pos)
        return best_join, best_link

    def _joins(self, at: datetime, age: timedelta, sim: float, event: Event, story: _Open) -> bool:
        """May the report join this story (rather than open one, perhaps linked to it)?"""
        within = abs(age) <= self.window and sim >= self.join
        # Days later, only a report of the same act (or phase) joins: the first work under an
        # agreement is a story of its own, linked to the signing.
        if not within and abs(age) <= self.long_window and sim >= self.settings.strong:
            within = events.same_act(event, story.acts, story.phases)
        # No event runs longer than long_window: a chain of reports cannot keep it open.
        if not within or at - story.first > self.long_window:
            return False
        late = event.late_days
        if late is not None and at - story.first > timedelta(days=late):
            return False
        return not events.conflict(event, story.acts, story.phases, story.prospect)

    def _similarity(
        self, cosine: float, topics: frozenset[str], story: _Open, age: timedelta
    ) -> float:
        """Distinctive-token cosine, plus a little for shared topics and for closeness in time.

        Below ``min_cosine`` the report shares too little with the story for topic and date
        to count: two same-day announcements on one topic stay apart.
        """
        g = self.settings
        if cosine < g.min_cosine:
            return cosine
        sim = cosine
        theirs = story.topics
        if topics and theirs:
            sim += g.topic_weight * len(topics & theirs) / len(topics | theirs)
        if self._window_s > 0:
            sim += g.date_weight * max(0.0, 1.0 - abs(age.total_seconds()) / self._window_s)
        return sim

    def _event_bonus(self, event: Event, story: _Open) -> float:
        """Similarity added for the same act by the same participants, taken away for a report
        somewhere else, about other bilateral formats, or by other named people."""
        g = self.settings
        # One visit (by its visitor) is one event as much as one act is; another act on that
        # visit still conflicts (events.conflict) and opens its own story.
        one_act = bool(event.acts) and not event.acts.isdisjoint(story.acts)
        shared = 1.0 if one_act or events.same_visit(event, story.visitors) else 0.0
        people = events.overlap(event.participants, story.people) if story.people else 0.0
        bonus = g.event_weight * (shared + people) / 2
        # Each check runs only when it can count (most reports name no format or place).
        if g.place_weight and events.elsewhere(event, story.places):
            bonus -= g.place_weight
        if g.object_weight and events.other_object(event, story.objects):
            bonus -= g.object_weight
        if g.person_weight and story.persons and events.other_people(event, story.persons):
            bonus -= g.person_weight
        return bonus

    def _absorb(
        self,
        story: _Open,
        item: Item,
        found: tuple[Match, Event],
        feats: dict[str, float],
        index: Index,
        pos: int,
    ) -> None:
        tokens = story.tokens
        for tok, weight in feats.items():
            old = tokens.get(tok, 0.0)
            tokens[tok] = old + weight
            story.sq += (old + weight) ** 2 - old * old
            index.setdefault(tok, {})[pos] = old + weight
        story.count += 1
        match, event = found
        story.acts |= event.mentioned
        story.phases.update([event.phase] if event.phase else [])
        story.people |= event.participants
        story.places |= event.places
        story.objects |= event.objects
        story.persons |= event.persons
        story.visitors |= event.visitors
        if event.late_days is None:  # a comment says nothing of whether the act was done
            story.prospect = (
                event.prospect if story.count == 1 else story.prospect and event.prospect
            )
        at = item_time(item)
        if at > story.last:
            story.last = at
            story.row.last_item_at = at
        if not story.topics.issuperset(match.topics):
            story.topics.update(match.topics)
            story.row.topics = sorted(story.topics)

    # ----------------------------------------------------------------- signature

    def _decode(self, row: StoryRow) -> _Open:
        sig: dict[str, Any] = row.signature or {}
        tokens = {str(k): float(v) for k, v in dict(sig.get("tokens", {})).items()}
        sq = sum(v * v for v in tokens.values())
        count = int(sig.get("count", 1)) or 1
        first = row.event_at or row.first_seen_at
        story = _Open(row, tokens, count, sq, set(row.topics or []), row.last_item_at, first)
        # Version 1 signatures hold no event: such a story conflicts with nothing.
        for name in _EVENT_SETS:
            setattr(story, name, {str(k) for k in sig.get(name, [])})
        story.prospect = bool(sig.get("prospect", False))
        return story

    def _encode(self, story: _Open) -> dict[str, Any]:
        keep = sorted(story.tokens.items(), key=lambda kv: (-kv[1], kv[0]))
        keep = keep[: self.settings.max_signature_tokens]
        story.tokens = dict(keep)
        story.sq = sum(v * v for _, v in keep)
        return {
            "version": SIGNATURE_VERSION,
            "count": story.count,
            "tokens": {k: round(v, 3) for k, v in keep},
            **{name: sorted(getattr(story, name)) for name in _EVENT_SETS},
            "prospect": story.prospect,
        }
