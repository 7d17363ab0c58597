"""What a report says happened: its event kind, its participants and its places.

The grouper (bot/core/stories.py) uses this *event signature* beside text similarity: two
reports of different acts (a signing and an appointment announced on one visit) are two
stories however many words they share; two phases of one exercise (its opening, its close)
are two linked stories; a commentary days after an event is a story of its own.

The kinds and their words are data (bot/data/event_kinds.yaml), written from general news
vocabulary. Kinds are read from the headline, where a report says what happened; the summary
adds its participants and places only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from bot.core.models import Item, Match

KINDS_FILE = "event_kinds.yaml"

# A place is a capitalised name after "in"/"at" (Kuala Lumpur, Fort Wainwright).
# "Sworn in Sergio Gor" names no place; a possessive ("at Biden's school") is no place.
_PLACE = re.compile(
    r"(?<!sworn )(?<!swears )\b(?:in|at)\s+([A-Z][\w-]+(?:[ \t]+[A-Z][\w-]+){0,2})\b(?!')"
)
# A visit named by its visitor: "Sullivan's Delhi visit", "after Singh's US trip", "a visit by
# Rubio". The visitor is the event's principal: a factsheet or a quote "after Sullivan's visit"
# reports that visit however few words it shares with the talks themselves.
_VISIT = re.compile(
    r"\b([A-Z][\w-]+)['’]s\s+(?:(?:first|maiden|official|state|[A-Z][\w-]+)\s+){0,2}"
    r"(?:visit|trip|tour)\b|\b(?:visit|trip|tour)\s+(?:by|of)\s+(?:[A-Z][\w.-]+\s+)?([A-Z][\w-]+)"
)
# Words (hyphenated codes such as "H-1B" and "co-chair" stay one word).
_TOKEN = re.compile(r"[\w&]+(?:[-'][\w&]+)*")
_HYPHENS = str.maketrans({"‐": "-", "‑": "-", "–": "-", "’": "'"})
_NOT_PLACES = frozenset(
    {
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December", "Jan", "Feb", "Mar", "Apr", "Jun",
        "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec", "Monday", "Tuesday", "Wednesday",
        "Thursday", "Friday", "Saturday", "Sunday", "The", "This", "That", "A", "An", "His",
        "Her", "Their", "Its", "Our",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class KindTable:
    """The event-kind data, compiled: one alternation, longest phrase first."""

    kinds_of: Mapping[str, frozenset[str]]  # phrase → kinds it signals (none: an ignored one)
    starts: Mapping[str, int]  # a phrase's first word → words in the longest such phrase
    weak: frozenset[str]
    phases: frozenset[str]
    yields: frozenset[str]
    late_days: Mapping[str, float]
    phase_context: re.Pattern[str]
    background: re.Pattern[str]
    ahead: re.Pattern[str]

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> KindTable:
        kinds_of: dict[str, set[str]] = {_phrase(str(w)): set() for w in data.get("ignore", [])}
        flags: dict[str, set[str]] = {"weak": set(), "phase": set(), "yields": set()}
        late: dict[str, float] = {}
        for kind, spec in dict(data["kinds"]).items():
            also = {str(k) for k in spec.get("also", [])}
            for word in spec["words"]:
                kinds_of.setdefault(_phrase(str(word)), set()).update({str(kind)} | also)
            for flag, members in flags.items():
                if spec.get(flag):
                    members.add(str(kind))
            if "late_days" in spec:
                late[str(kind)] = float(spec["late_days"])
        background = "|".join(re.escape(str(w)) for w in data.get("background", [])) or "(?!)"
        return cls(
            starts=_starts(kinds_of),
            kinds_of={k: frozenset(v) for k, v in kinds_of.items()},
            weak=frozenset(flags["weak"]),
            phases=frozenset(flags["phase"]),
            yields=frozenset(flags["yields"]),
            late_days=late,
            phase_context=_alternation(str(w).lower() for w in data.get("phase_context", [])),
            background=re.compile(rf"[,;:]?\s+(?:{background})\s+", re.IGNORECASE),
            ahead=_alternation(str(w).lower() for w in data.get("ahead", [])),
        )


def _alternation(phrases: Iterable[str]) -> re.Pattern[str]:
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    body = "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in ordered) or "(?!)"
    return re.compile(rf"(?<![\w-])(?:{body})(?![\w-])", re.IGNORECASE)


@cache
def kind_table() -> KindTable:
    """The packaged event-kind data (read once)."""
    text = resources.files("bot").joinpath("data", KINDS_FILE).read_text(encoding="utf-8")
    return KindTable.from_data(yaml.safe_load(text))


@dataclass(frozen=True, slots=True)
class Event:
    """A report's event signature."""

    acts: frozenset[str]  # what the headline says was done (not weak kinds, not phases)
    mentioned: frozenset[str]  # every act the headline names, domains too: the story side
    phase: str | None  # an exercise's opening or close, when the headline says which
    late_days: float | None  # a report only *about* an event joins it this soon, or never
    participants: frozenset[str]  # actors the matcher found, lower-cased
    places: frozenset[str]  # the words of its places: "Delhi" and "New Delhi" meet
    # What it is about, by the topics of the bilateral formats it names (iCET, the Quad, SOSA).
    objects: frozenset[str] = frozenset()
    # Who took part by name, as "side:surname" (the matcher's persons).
    persons: frozenset[str] = frozenset()
    # The headline looks ahead ("deal expected", "set to sign"): the act is not done yet.
    prospect: bool = False
    # Visitors whose visit it names, lower-cased surnames ("sullivan" for "Sullivan's visit").
    visitors: frozenset[str] = frozenset()


EMPTY = Event(frozenset(), frozenset(), None, None, frozenset(), frozenset())


def _starts(phrases: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for phrase in phrases:
        words = phrase.split()
        out[words[0]] = max(out.get(words[0], 0), len(words))
    return out


def _phrase(text: str) -> str:
    """Words as the kind table keys them: lower-case, one hyphen, one space apart."""
    return " ".join(_TOKEN.findall(text.lower().translate(_HYPHENS)))


def kinds_in(text: str, table: KindTable | None = None) -> frozenset[str]:
    """Every event kind a text names (phases included); the longest phrase wins.

    A lookup of word runs, not one regular expression over hundreds of phrases: this runs for
    every relevant report, and the grouper must keep up with a busy stream.
    """
    table = table or kind_table()
    words = _TOKEN.findall(text.lower().translate(_HYPHENS))
    kinds_of, starts = table.kinds_of, table.starts
    found: set[str] = set()
    i, n = 0, len(words)
    while i < n:
        longest = starts.get(words[i], 0)
        for size in range(min(longest, n - i), 0, -1):
            kinds = kinds_of.get(" ".join(words[i : i + size]) if size > 1 else words[i])
            if kinds is not None:
                found.update(kinds)
                i += size
                break
        else:
            i += 1
    return frozenset(found)


def headline_kinds(title: str, table: KindTable | None = None) -> frozenset[str]:
    """The kinds a headline's main clause names; its background clause only if it names none.

    "India and US open a new chapter with defence pact as tariff row cools" is about the pact.
    """
    table = table or kind_table()
    main = table.background.split(title, maxsplit=1)[0]
    return kinds_in(main, table) or kinds_in(title, table)


def places_in(text: str) -> frozenset[str]:
    """Capitalised names after "in"/"at": where it happened, lightly."""
    out = set()
    for m in _PLACE.finditer(text):
        words = [w for w in m.group(1).split() if w not in _NOT_PLACES]
        if words and not any(c.isdigit() for c in words[0]):
            out.add(" ".join(words).lower())
    return frozenset(out)


def visitors_in(text: str) -> frozenset[str]:
    """The surnames of the visitors whose visit a text names ("Sullivan's Delhi visit")."""
    if "visit" not in text and "trip" not in text and "tour" not in text:
        return frozenset()  # the pattern's words are lower-case: most reports skip the search
    return frozenset((m.group(1) or m.group(2)).lower() for m in _VISIT.finditer(text))


def participants_of(match: Match, generic: frozenset[str] = frozenset()) -> frozenset[str]:
    """The actors the matcher found (its evidence), as "side:name", lower-cased.

    Names in ``generic`` ("india", "us") are the two sides themselves: every report has them.
    """
    actors = match.evidence.get("actors")
    if not isinstance(actors, Mapping):
        return frozenset()
    out: set[str] = set()
    for side in ("us", "india", "both"):
        names = actors.get(side)
        if isinstance(names, list):
            out.update(f"{side}:{n.lower()}" for n in map(str, names) if n.lower() not in generic)
    return frozenset(out)


def extract(
    item: Item, match: Match, generic: frozenset[str] = frozenset(), *, places: bool = True
) -> Event:
    """The event signature of a report (``generic``: names that tell no participant). Without
    ``places`` (the grouper weighs no place) its places are not looked for."""
    table = kind_table()
    title = " ".join(item.title.split())
    kinds = headline_kinds(title, table)
    acts = kinds - table.weak - table.phases
    if acts - table.yields:
        acts -= table.yields  # the act done about a tariff or a visa rule, not the rule
    phases = kinds & table.phases
    phase = None
    if len(phases) == 1 and table.phase_context.search(f"{title} {item.summary}"):
        phase = next(iter(phases))
    # A report only *about* an event (an explainer) names acts without doing them.
    limits = [table.late_days[k] for k in kinds if k in table.late_days]
    late = min(limits) if limits else None
    # The story side keeps a domain an act yielded to: a later "levy rolled back" still fits
    # the story of "call ends in tariff relief".
    mentioned = kinds - table.weak - table.phases
    return Event(
        acts=frozenset(acts),
        mentioned=mentioned,
        phase=phase,
        late_days=late,
        participants=participants_of(match, generic),
        places=_place_words(title, item.summary) if places else frozenset(),
        objects=objects_of(match),
        persons=persons_of(match),
        prospect=table.ahead.search(table.background.split(title, maxsplit=1)[0]) is not None,
        visitors=visitors_in(title) | visitors_in(item.summary),
    )


def _place_words(title: str, summary: str) -> frozenset[str]:
    return frozenset(w for p in places_in(title) | places_in(summary) for w in p.split())


def objects_of(match: Match) -> frozenset[str]:
    """The topics of the bilateral formats the matcher found in the report."""
    found = match.evidence.get("format_topics")
    return frozenset(map(str, found)) if isinstance(found, list) else frozenset()


def conflict(
    item: Event, mentioned: Iterable[str], phases: Iterable[str], looking_ahead: bool = False
) -> bool:
    """Is the report another event than the story's (the acts and phases its reports named)?

    Another act (an appointment against a signing the story never mentioned) or another
    phase of one exercise (its close against its opening) is another event; so is the act
    done against a story that only looked ahead to it (``looking_ahead``: "order expected",
    then "order signed"), even in a comment on it, and a look ahead against the act done.
    Otherwise a report only *about* an event (a
    comment, an explainer) never is.
    """
    # Even a comment on the act done is not about a story that only looked ahead to it.
    if looking_ahead and item.acts and not item.prospect:
        return True
    named = frozenset(mentioned)
    # ... nor is a look ahead to an act part of the story of that act done: two events.
    if item.prospect and not looking_ahead and not item.acts.isdisjoint(named):
        return True
    if item.late_days is not None:
        return False
    theirs = frozenset(phases)
    if item.phase is not None and theirs and item.phase not in theirs:
        return True
    # A phase of an exercise and an act (a tariff step, a signing) are two events, whichever
    # the story's reports named and the report names.
    if item.phase is not None and not theirs and named:
        return True
    if item.phase is None and item.acts and theirs and not named:
        return True
    return bool(item.acts) and bool(named) and not (item.acts & named)


def same_visit(item: Event, visitors: Set[str]) -> bool:
    """Does the report name the visit of one of the story's visitors?"""
    return not item.visitors.isdisjoint(visitors)


def same_act(item: Event, acts: Iterable[str], phases: Iterable[str]) -> bool:
    """Does the report do what the story's reports did (the same act, or the same phase)?"""
    if item.phase is not None:
        return item.phase in frozenset(phases)
    return bool(item.acts & frozenset(acts))


def persons_of(match: Match) -> frozenset[str]:
    """The people the matcher found by name, as "side:surname"."""
    found = match.evidence.get("persons")
    if not isinstance(found, Mapping):
        return frozenset()
    return frozenset(f"{side}:{name}" for side in ("us", "india") for name in found.get(side) or ())


def other_people(item: Event, persons: Set[str]) -> bool:
    """Are the report's named people of one side all others than the story's of that side?

    A report only *about* an event (an explainer quoting other people) never is."""
    if not item.persons or not persons or item.late_days is not None:
        return False
    if len(item.persons) == 1 and not item.persons.isdisjoint(persons):
        return False  # its one person is the story's
    for side in ("us:", "india:"):
        mine = [p for p in item.persons if p.startswith(side)]
        differ = mine and all(p not in persons for p in mine)
        if differ and any(p.startswith(side) for p in persons):
            return True
    return False


def other_object(item: Event, objects: Set[str]) -> bool:
    """Is the report about other bilateral formats than every one the story names?"""
    return bool(item.objects) and bool(objects) and item.objects.isdisjoint(objects)


def elsewhere(item: Event, places: Set[str]) -> bool:
    """Did the report's event happen somewhere else than every place the story names?"""
    return bool(item.places) and bool(places) and item.places.isdisjoint(places)


def overlap(a: frozenset[str], b: Set[str]) -> float:
    """Jaccard overlap of two name sets (0 when either is empty)."""
    if not a or not b:
        return 0.0
    both = len(a & b)
    return both / (len(a) + len(b) - both)
