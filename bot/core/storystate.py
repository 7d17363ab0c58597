"""A story as the grouper works on it during one call: its features, kept between calls as the
story's signature (JSON), and how each report it takes in changes them.

The signature holds the story's distinctive tokens with their summed weights (the top
``max_signature_tokens``), its report count, and the event sets its reports named
(bot/core/events.py): acts, exercise phases, participants, places, bilateral formats, named
people, visitors, and whether its reports only looked ahead to the act.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.core.events import Event
from bot.core.models import Item, Match, StoryState

SIGNATURE_VERSION = 2

# The event sets a story's signature keeps.
EVENT_SETS = ("acts", "phases", "people", "places", "objects", "persons", "visitors")


def item_time(item: Item) -> datetime:
    """The instant that places a report in time: its published date, else when it was seen."""
    return item.published or item.first_seen


@dataclass
class OpenStory:
    """A candidate story during one grouping call: stored (``ref`` its id) or opened in this
    call (``ref`` negative, until storage gives it an id)."""

    ref: int
    linked: int | None  # the ref of the story it follows
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
    changed: bool = False  # took a report in this call: storage writes it back

    @classmethod
    def opened(cls, ref: int, at: datetime, linked: int | None) -> OpenStory:
        """A story opened by a report at ``at`` (the report is absorbed next)."""
        return cls(ref, linked, {}, 0, 0.0, set(), at, at)

    @classmethod
    def decode(cls, state: StoryState) -> OpenStory:
        """The story as stored. The signature is read, never changed (storage may share it)."""
        sig = state.signature
        tokens = dict(sig.get("tokens", {}))
        sq = sum(v * v for v in tokens.values())
        count = int(sig.get("count", 1)) or 1
        # Version 1 signatures hold no event: such a story conflicts with nothing.
        story = cls(state.id, state.linked_story_id, tokens, count, sq,
                    set(state.topics), state.last, state.first)  # fmt: skip
        for name in EVENT_SETS:
            setattr(story, name, set(sig.get(name, ())))
        story.prospect = bool(sig.get("prospect", False))
        return story

    def absorb(self, item: Item, match: Match, event: Event, feats: dict[str, float]) -> None:
        """Take a report in: its tokens, its event, its time and topics."""
        tokens = self.tokens
        for tok, weight in feats.items():
            old = tokens.get(tok, 0.0)
            tokens[tok] = old + weight
            self.sq += (old + weight) ** 2 - old * old
        self.count += 1
        self.acts |= event.mentioned
        self.phases.update([event.phase] if event.phase else [])
        self.people |= event.participants
        self.places |= event.places
        self.objects |= event.objects
        self.persons |= event.persons
        self.visitors |= event.visitors
        if event.late_days is None:  # a comment says nothing of whether the act was done
            self.prospect = event.prospect if self.count == 1 else self.prospect and event.prospect
        self.last = max(self.last, item_time(item))
        self.topics.update(match.topics)
        self.changed = True

    def encode(self, max_tokens: int) -> dict[str, Any]:
        """The signature to store: the heaviest tokens and the event sets."""
        keep = sorted(self.tokens.items(), key=lambda kv: (-kv[1], kv[0]))[:max_tokens]
        self.tokens = dict(keep)
        self.sq = sum(v * v for _, v in keep)
        return {
            "version": SIGNATURE_VERSION,
            "count": self.count,
            "tokens": {k: round(v, 3) for k, v in keep},
            **{name: sorted(getattr(self, name)) for name in EVENT_SETS},
            "prospect": self.prospect,
        }
