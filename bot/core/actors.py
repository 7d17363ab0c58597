"""Who stands for each side: the actor knowledge (bot/data/actors.yaml) and reading it in text.

The knowledge names the two sides by role, not by remembered names alone: countries and
their demonyms, institutions, forces, offices and their holders since 2014, firms and
platforms of known origin, and bilateral formats that stand for both sides. Two kinds of
entry depend on the sentence: an office noun takes the side of the nationality word just
before it ("the American envoy", "India's Navy chief"), and a service named without its
country ("the Army") takes the side of the item's government context.

Loaded once and validated at start; an error names the file, the line and the fix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field

from bot.config import ConfigError, _line_of, read_data_file
from bot.core.gazetteer import Hit, Segments, is_case_sensitive, phrase_tokens

DEFAULT_KNOWLEDGE = Path(__file__).resolve().parents[1] / "data" / "actors.yaml"

US = "us"
INDIA = "india"
BOTH = "both"  # a bilateral format: stands for both sides
MARKED = "marked"  # an office noun: the side of the nationality word before it
CONTEXT = "context"  # a service without its country: the side of the government context
PAIR = "pair"  # an office both sides hold, in the plural ("foreign ministers"): no side alone
THIRD = "third"  # a third country (from the config)
NEUTRAL = "neutral"  # a phrase hiding country names inside it ("outside the US")

# What may stand between two names of one list: "China, the US, Australia and Japan".
_LIST_WORDS = frozenset({"and", "or", "plus", "the", "as", "well"})
# A third country right after one of these is named in passing: where, whose goods, to whom.
_PASSING = frozenset({
    "in", "on", "to", "from", "at", "into", "near", "over", "about", "amid", "against",
    "including", "like", "than", "toward", "towards", "via", "across", "beyond", "without",
})  # fmt: skip

# Kinds that say which government acts: they decide the side of "the Army", "the ministry".
GOVERNMENT_KINDS = frozenset({"country", "institution", "force", "office", "person"})
# What a nationality word before an office can be: "US envoy", "Indian Navy chief",
# "INDOPACOM commander", "China's envoy".
_MARKER_KINDS = frozenset({"country", "force", "institution"})
_NOT_MODIFIERS = frozenset({"and", "or", "with", "to", "from", "for", "by", "of", "in", "on"})
# An envoy named by posting ("the ambassador to India") is the other side's.
_ENVOY_WORDS = frozenset({"ambassador", "envoy"})
# Up to this many words may stand between a nationality word and its office ("India's new
# Navy chief"): a longer gap is another phrase.
MARKER_GAP = 3


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    side: Literal["us", "india", "both", "pair", "marked", "context"]
    kind: Literal[
        "country", "institution", "force", "office", "person", "firm", "platform", "format"
    ]
    level: Literal["high", "normal"] = "normal"
    role: str = ""
    topic: str | None = None
    # Where the names come from: required, so no block is added without a source.
    source: str = Field(min_length=10)
    names: list[str] = Field(min_length=1)


class _Knowledge(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    blocks: list[_Block] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Actor:
    """What a phrase stands for."""

    side: str
    kind: str
    level: str = "normal"
    role: str = ""
    topic: str | None = None  # a format's topic
    country: str = ""  # a third country's name

    # Worked out once per phrase, not per mention: the side as mentions carry it, whether a
    # nationality before it decides its side, whether it is a nationality for what follows.
    label: str = field(init=False, compare=False, repr=False)
    resolvable: bool = field(init=False, compare=False, repr=False)
    marker: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        label = THIRD + ":" + self.country if self.side == THIRD else self.side
        resolvable = self.side in (MARKED, CONTEXT) or (
            self.kind in ("office", "force") and self.side not in (BOTH, PAIR)
        )
        object.__setattr__(self, "label", label)
        object.__setattr__(self, "resolvable", resolvable)
        object.__setattr__(self, "marker", self.kind in _MARKER_KINDS or self.side == THIRD)


class Mention(NamedTuple):
    """An actor found in the item, its side decided (a tuple: cheap to make per phrase)."""

    start: int
    end: int
    phrase: str
    side: str
    kind: str
    level: str
    role: str
    topic: str | None
    how: str  # "" | "by nationality" | "by context": how the side was decided

    def describe(self) -> str:
        """For the evidence: "US ambassador (office)", "the Army (force, by context)"."""
        detail = ", ".join(p for p in (self.role or self.kind, self.how) if p)
        return f"{self.phrase} ({detail})"


@dataclass(frozen=True)
class Knowledge:
    """Phrase → actor, in the file's order (the first side given for a phrase wins)."""

    actors: dict[str, Actor]
    path: Path

    def without_topic(self, topic: str) -> Knowledge:
        """The knowledge with the formats specific to ``topic`` removed (leave-one-topic-out)."""
        kept = {p: a for p, a in self.actors.items() if not (a.side == BOTH and a.topic == topic)}
        return Knowledge(kept, self.path)


def load_knowledge(path: Path = DEFAULT_KNOWLEDGE) -> Knowledge:
    """Read and validate an actor-knowledge file; failures are ConfigErrors with file:line."""
    return _load(path.resolve())


@lru_cache(maxsize=4)
def _load(path: Path) -> Knowledge:
    parsed, node = read_data_file(
        path, _Knowledge, what="actor knowledge",
        shape="each block needs side, kind, source and a list of names (see the file's header)",
    )  # fmt: skip
    return Knowledge(_actors(parsed, path, node), path)


def _actors(parsed: _Knowledge, path: Path, node: yaml.Node | None) -> dict[str, Actor]:
    actors: dict[str, Actor] = {}
    seen: dict[tuple[str, ...], Actor] = {}  # as the gazetteer folds them
    for b, block in enumerate(parsed.blocks):
        if block.topic is not None and block.side != BOTH:
            raise ConfigError(
                path, _line_of(node, ("blocks", b, "topic")),
                f"blocks.{b}.topic: only a bilateral format (side: both) stands for a topic",
                "remove topic: or set side: both",
            )  # fmt: skip
        actor = Actor(block.side, block.kind, block.level, block.role, block.topic)
        for n, name in enumerate(block.names):
            key = _key(name)
            if not key:
                raise ConfigError(
                    path, _line_of(node, ("blocks", b, "names", n)),
                    f"blocks.{b}.names.{n}: an empty name", "remove it or write the name",
                )  # fmt: skip
            earlier = seen.get(key)
            if earlier is not None and earlier.side != actor.side:
                raise ConfigError(
                    path, _line_of(node, ("blocks", b, "names", n)),
                    f"blocks.{b}.names.{n}: {name!r} is already a {earlier.side} {earlier.kind}",
                    "a name stands for one side: keep it in one block",
                )  # fmt: skip
            seen.setdefault(key, actor)
            actors.setdefault(name, actor)
            if block.kind == "platform" and not name.endswith("s"):
                actors.setdefault(name + "s", actor)  # "Javelins", "Apaches", "P-8Is"
    return actors


def resolve(
    seg: Segments,
    hits: list[Hit[Actor]],
    weight: dict[str, float],
    home: Callable[[], str | None] | None = None,
) -> list[Mention]:
    """Decide each hit's side: offices by the nationality word before them, services by context.

    ``weight`` is the field weight by field name; it weighs the government context. ``home``
    gives the outlet's country, if known (asked only when needed): outlets name their own
    country's services without the country, so it decides a service named alone when the text
    names no government.
    """
    out: list[Mention] = []
    pending: list[Hit[Actor]] = []  # services without their country, decided at the end
    prev: Mention | None = None
    for n, hit in enumerate(hits):
        a = hit.label
        if a.resolvable:
            marker = prev if prev is not None and _marks(seg, prev, hit.start) else None
            if marker is None:
                if a.side == CONTEXT:
                    pending.append(hit)
                    prev = None
                    continue
                if a.side == MARKED:
                    prev = None  # an office with no nationality before it says nothing ...
                    posted = _posted_to(seg, hit, hits[n + 1] if n + 1 < len(hits) else None)
                    if posted is not None:  # ... unless it is an envoy posted to one side
                        role = a.role or a.kind
                        out.append(Mention(hit.start, hit.end, hit.phrase, posted, a.kind,
                                           a.level, role, None, "by posting"))  # fmt: skip
                    continue
            else:
                # "US ambassador", "India's Defence Secretary": the nationality decides.
                out[-1] = Mention(marker.start, hit.end, _spelled(seg, marker.start, hit.end),
                                  marker.side, a.kind, a.level, a.role or a.kind, None,
                                  "by nationality")  # fmt: skip
                prev = None
                continue
        mention = Mention(hit.start, hit.end, hit.phrase, a.label, a.kind, a.level, a.role,
                          a.topic, "")  # fmt: skip
        out.append(mention)
        prev = mention if a.marker else None
    if pending:
        out = sorted(out + _by_context(seg, pending, out, weight, home), key=lambda m: m.start)
    return out


def _posted_to(seg: Segments, hit: Hit[Actor], following: Hit[Actor] | None) -> str | None:
    """The side of an envoy named by posting: "the new ambassador to India" is the other
    side's envoy (in a US–India item, the US's); None for any other office."""
    if following is None or following.label.kind != "country":
        return None
    if following.label.side not in (US, INDIA) or not _ENVOY_WORDS & set(
        hit.phrase.lower().split()
    ):
        return None
    gap = seg.lower[hit.end : following.start]
    if gap not in (["to"], ["to", "the"]):
        return None
    return INDIA if following.label.side == US else US


def _key(name: str) -> tuple[str, ...]:
    toks = phrase_tokens(name)
    return toks if is_case_sensitive(" ".join(toks)) else tuple(t.lower() for t in toks)


def _spelled(seg: Segments, start: int, end: int) -> str:
    # The word pattern splits "India's" into "India" "s": put the apostrophe back.
    return " ".join(seg.words[start:end]).replace(" s ", "'s ")


def _marks(seg: Segments, marker: Mention, start: int) -> bool:
    gap = start - marker.end
    return (
        0 <= gap <= MARKER_GAP
        and seg.sentence[marker.start] == seg.sentence[start]
        # "US and Indian navies", "US troops with officials": another noun phrase.
        and not any(w in _NOT_MODIFIERS for w in seg.lower[marker.end : start])
    )


def _by_context(
    seg: Segments,
    pending: list[Hit[Actor]],
    found: list[Mention],
    weight: dict[str, float],
    home: Callable[[], str | None] | None,
) -> list[Mention]:
    context = {US: 0.0, INDIA: 0.0}
    for m in found:
        if m.side in context and m.kind in GOVERNMENT_KINDS:
            context[m.side] += weight[seg.field(m.start)]
    if context[US] != context[INDIA]:
        side, how = (US if context[US] > context[INDIA] else INDIA), "by context"
    elif context[US] == 0.0 and home is not None and (outlet := home()) is not None:
        # No government named at all ("Boeing hands the Army its last Apache"): the outlet's
        # own country, as its readers read it. An even, named context stays undecided.
        side, how = outlet, "by the outlet's country"
    else:
        return []  # even context: "the Navy" could be either
    return [Mention(h.start, h.end, h.phrase, side, h.label.kind, h.label.level, h.label.role,
                    None, how) for h in pending]  # fmt: skip


def in_passing(seg: Segments, start: int) -> bool:
    """A mention right after a preposition ("in Japan", "on Russian firms") is in passing."""
    before = start - 1
    if before >= 0 and seg.lower[before] == "the":
        before -= 1
    return (
        before >= 0
        and seg.sentence[before] == seg.sentence[start]
        and seg.lower[before] in _PASSING
    )


def listed_mentions(seg: Segments, mentions: list[Mention], min_countries: int) -> set[int]:
    """First words of country mentions standing in a list of ``min_countries`` or more."""
    runs: list[list[tuple[int, str]]] = []
    prev_end = -1
    for m in mentions:
        if m.side == BOTH:
            prev_end = -1
            continue
        gap = seg.lower[prev_end : m.start] if prev_end >= 0 else None
        if runs and gap is not None and _is_list_gap(gap, seg, prev_end, m.start):
            runs[-1].append((m.start, m.side))
        else:
            runs.append([(m.start, m.side)])
        prev_end = m.end
    listed: set[int] = set()
    for run in runs:
        if len({label for _, label in run}) >= min_countries:
            listed.update(start for start, _ in run)
    return listed


def _is_list_gap(gap: list[str], seg: Segments, prev_end: int, start: int) -> bool:
    # Punctuation is not kept, so a list is names joined by nothing, "and", "or" or "the".
    same_sentence = seg.sentence[prev_end - 1] == seg.sentence[start]
    return same_sentence and len(gap) <= 3 and all(w in _LIST_WORDS for w in gap)


# "on the sidelines of", "on the margins of", "ahead of": what follows names the venue or the
# occasion of the act, not its subject.
_VENUE_HEADS = frozenset({"sidelines", "sideline", "margins", "margin", "ahead"})


def is_venue(seg: Segments, start: int) -> bool:
    """A term right after a venue phrase, allowing "the" and an ordinal ("the 12th")."""
    j = start - 1
    while j >= 0 and (seg.lower[j] == "the" or seg.lower[j][:1].isdigit()):
        j -= 1
    return (
        j >= 1
        and seg.lower[j] == "of"
        and seg.lower[j - 1] in _VENUE_HEADS
        and seg.sentence[j - 1] == seg.sentence[start]
    )
