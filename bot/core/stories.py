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

:meth:`StoryGrouper.plan` decides over values (the stored stories' states and the reports) and
returns a :class:`~bot.core.models.GroupingPlan`; :meth:`StoryGrouper.assign_many` reads the
states from storage, plans, and hands the plan to storage to write.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import AppConfig
from bot.config.matching import GroupingSettings
from bot.core import events
from bot.core.events import Event
from bot.core.matching import normalise
from bot.core.models import (
    GroupingPlan,
    Item,
    Match,
    NewStory,
    Placement,
    StoryState,
    StoryUpdate,
)
from bot.core.storystate import OpenStory
from bot.core.storystate import item_time as item_time
from bot.core.storytext import STOPWORDS, Featurizer

# The story card (cards.py) reads the tokens through this module.
from bot.core.storytext import text_tokens as text_tokens
from bot.storage import stories as repo
from bot.storage.db import Tx

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where the grouper put a report."""

    story_id: int
    story_key: str
    created: bool
    linked_story_id: int | None
    similarity: float


# A bilateral format's feature token, "@icet" (never a word of the text); the matcher's
# participants name formats as "both:icet".
FORMAT = "@"
BILATERAL = "both:"

# token → {candidate position: that story's summed weight for the token}
Index = dict[str, dict[int, float]]


class StoryGrouper:
    """Assigns relevant reports to stories: decides over values, storage writes the plan."""

    def __init__(self, cfg: AppConfig) -> None:
        self.settings: GroupingSettings = cfg.matching.grouping
        self.window = timedelta(seconds=cfg.thresholds.story_window)
        self.long_window = max(self.window, timedelta(days=self.settings.long_window_days))
        self.link_window = max(self.long_window, timedelta(days=self.settings.link_window_days))
        # The one story threshold (config thresholds.story, edited by the admin command).
        self.join = cfg.thresholds.story
        g = self.settings
        self._floor = min(g.min_cosine, self.join, g.strong, g.link)
        self._needed = min(self.join, g.strong, g.link)
        self._window_s = self.window.total_seconds()
        # The most that topics, date and event can add to a cosine; the least a join needs.
        self._bonus_cap = g.topic_weight + g.date_weight + g.event_weight
        self._join_floor = min(self.join, g.strong)
        generic = {w.lower() for w in self.settings.generic_words}
        for topic in cfg.topics:
            for term in topic.terms:
                # Topic vocabulary ("tariff", "drills") is what unrelated events share; names
                # in term lists ("Stryker", "F414") still tell events apart.
                if term == term.lower():
                    generic.update(normalise(term).split())
        self._generic = frozenset(generic | STOPWORDS)
        words = "|".join(re.escape(w) for w in g.aside_words)
        aside = re.compile(rf"\b(?:{words})\b", re.IGNORECASE) if words else None
        self._places = g.place_weight > 0  # places are read only when they weigh
        self._featurizer = Featurizer(self._generic, g.word_weight, aside, g.aside_weight)

    # ----------------------------------------------------------------- features

    def features(self, item: Item) -> dict[str, float]:
        """Distinctive tokens of a report with their weights (numbers > names > words)."""
        return self._featurizer(item.title, item.summary)

    # ----------------------------------------------------------------- assigning

    def assign(self, session: Tx, item: Item, match: Match) -> Assignment:
        """Put one relevant report into a story (joining, or opening a new one)."""
        return self.assign_many(session, [(item, match)])[0]

    def assign_many(self, session: Tx, pairs: Sequence[tuple[Item, Match]]) -> list[Assignment]:
        """Group reports in the given order inside the caller's transaction: read the stories
        they may join, plan, and have storage write the plan."""
        if not pairs:
            return []
        # A report grouped before (a re-run, a retried cycle) keeps its story.
        done = {
            item_id: Assignment(story_id, key, False, linked, sim)
            for item_id, (story_id, key, linked, sim) in repo.grouped_items(
                session, [item.id for item, _ in pairs]
            ).items()
        }
        todo = [(item, match) for item, match in pairs if item.id not in done]
        if todo:
            since = min(item_time(item) for item, _ in todo) - self.link_window
            states = repo.stories_since(session, since)
            plan = self.plan(states, todo)
            stored = repo.save_grouping(session, plan)
            done.update(_assignments(plan, states, stored))
        return [done[item.id] for item, _ in pairs]

    def plan(
        self, stories: Sequence[StoryState], pairs: Sequence[tuple[Item, Match]]
    ) -> GroupingPlan:
        """Place each report, in the given order, among ``stories`` and the stories opened by
        the reports before it. Pure: nothing is read or written."""
        if not pairs:
            return GroupingPlan((), (), ())
        earliest = min(item_time(item) for item, _ in pairs)
        candidates = [OpenStory.decode(state) for state in stories]
        # Two token indexes: stories a report may still join, and older ones it may only link
        # to; the second is searched only when a report opens a new story.
        # Each posting holds that story's weight for the token: the dot products read no story.
        index: Index = {}
        older: Index = {}
        for pos, story in enumerate(candidates):
            tier = index if story.last >= earliest - self.long_window else older
            for tok, weight in story.tokens.items():
                tier.setdefault(tok, {})[pos] = weight
        opened: list[NewStory] = []
        placements: list[Placement] = []
        for item, match in pairs:
            feats = self.features(item)
            event = events.extract(item, match, self._generic, places=self._places)
            self._add_formats(feats, event)
            story, created, sim = self._place(
                item, (match, event), feats, candidates, (index, older)
            )
            if created:
                opened.append(NewStory(story.ref, item.title, item.first_seen, item.published,
                                       story.linked))  # fmt: skip
            placements.append(Placement(item.id, story.ref, sim, item.first_seen, created))
        limit = self.settings.max_signature_tokens
        updates = tuple(
            StoryUpdate(s.ref, s.last, tuple(sorted(s.topics)), s.encode(limit))
            for s in candidates
            if s.changed
        )
        return GroupingPlan(tuple(opened), updates, tuple(placements))

    def _place(
        self,
        item: Item,
        found: tuple[Match, Event],
        feats: dict[str, float],
        candidates: list[OpenStory],
        indexes: tuple[Index, Index],
    ) -> tuple[OpenStory, bool, float]:
        """The story the report joins, or the one it opens (linked to the best earlier one)."""
        at = item_time(item)
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
            return story, False, round(sim, 4)
        linked = None
        if best_link is not None and best_link[0] >= self.settings.link:
            linked = candidates[best_link[1]].ref
        # A new story stands as a negative ref until storage gives it an id; the stories opened
        # in this call are the list's tail.
        ref = min(candidates[-1].ref, 0) - 1 if candidates else -1
        story = OpenStory.opened(ref, at, linked)
        candidates.append(story)
        self._absorb(story, item, found, feats, index, len(candidates) - 1)
        return story, True, 1.0

    def _scan(
        self,
        at: datetime,
        found: tuple[Match, Event],
        feats: dict[str, float],
        candidates: list[OpenStory],
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
        # The story's mean vector is tokens/count: the count cancels out of the cosine.
        scored = sorted(
            (-dot / (norm * math.sqrt(candidates[pos].sq)), pos)
            for pos, dot in dots.items()
            if candidates[pos].sq
        )
        match, event = found
        topics = frozenset(match.topics)
        for negative, pos in scored:
            cosine = -negative
            if cosine < self._floor:
                break  # none left can join or link, whatever its date and topics
            # Most similar first: once even every bonus could not lift a story past the best
            # join (or, with none yet, past any join and the best link), none after it can.
            ceiling = cosine + self._bonus_cap
            if best_join is not None:
                if ceiling < best_join[0]:
                    break
            elif best_link is not None and ceiling < min(best_link[0], self._join_floor):
                break
            story = candidates[pos]
            age = at - story.last
            if age > self.link_window or age < -self.window:
                continue
            sim = self._similarity(cosine, topics, story, age)
            if sim + self.settings.event_weight < self._needed:
                continue  # even the same act by the same people could not join or link it
            if cosine >= self.settings.min_cosine:
                sim += self._event_bonus(event, story)
            if _better(sim, pos, best_join) and self._joins(at, age, sim, event, story):
                best_join = (sim, pos)
            if _better(sim, pos, best_link):
                best_link = (sim, pos)
        return best_join, best_link

    def _joins(
        self, at: datetime, age: timedelta, sim: float, event: Event, story: OpenStory
    ) -> bool:
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
        self, cosine: float, topics: frozenset[str], story: OpenStory, age: timedelta
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

    def _event_bonus(self, event: Event, story: OpenStory) -> float:
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

    def _add_formats(self, feats: dict[str, float], event: Event) -> None:
        """Each bilateral format the matcher named (iCET, Yudh Abhyas, a 2+2) weighs again as a
        feature of its own: a named format is the surest sign of which event a report is
        about, however little else its wording shares with another outlet's. Formats only,
        not people or firms: one firm's two announcements on a day are two stories."""
        weight = self.settings.format_weight
        if weight:
            for who in event.participants:
                if who.startswith(BILATERAL):
                    feats.setdefault(FORMAT + who.removeprefix(BILATERAL), weight)

    @staticmethod
    def _absorb(
        story: OpenStory,
        item: Item,
        found: tuple[Match, Event],
        feats: dict[str, float],
        index: Index,
        pos: int,
    ) -> None:
        match, event = found
        story.absorb(item, match, event, feats)
        tokens = story.tokens
        for tok in feats:
            index.setdefault(tok, {})[pos] = tokens[tok]


def _better(sim: float, pos: int, best: tuple[float, int] | None) -> bool:
    """Higher similarity wins; on a tie the candidate listed first (storage lists the oldest
    first) does, whatever order the candidates were scanned in."""
    return best is None or sim > best[0] or (sim == best[0] and pos < best[1])


def _assignments(
    plan: GroupingPlan, states: Sequence[StoryState], stored: dict[int, tuple[int, str]]
) -> dict[int, Assignment]:
    """item id → where the plan put it, with the ids and keys storage gave the new stories."""
    ids = {s.id: (s.id, s.key) for s in states} | stored
    links: dict[int, int | None] = {s.id: s.linked_story_id for s in states}
    for new in plan.opened:
        links[new.ref] = None if new.linked_ref is None else ids[new.linked_ref][0]
    return {
        p.item_id: Assignment(*ids[p.story_ref], p.created, links[p.story_ref], p.similarity)
        for p in plan.placements
    }
