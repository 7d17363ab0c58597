"""Candidate topic terms from one article, for ``/news admin track``.

Key phrases come from YAKE (a statistical, corpus-free keyword extractor), because a person
accepts named things and short noun phrases ("INDUS-X programme", "Stryker combat
vehicles"), not the raw frequent words a counter yields. What YAKE also returns and no admin
would add is filtered out: dates (weekdays, months), numbers-only phrases, phrases carrying a
generic reporting verb ("agreed", "said"), phrases opening or closing on a stop word, and
anything the topics or the matcher's actor lists already name. Each survivor goes to the
topic whose vocabulary its sentences share most, in YAKE's rank order.
"""

from __future__ import annotations

import re

import yake  # type: ignore[import-untyped]

from bot.config import AppConfig

_WORD = re.compile(r"[a-z][a-z-]{3,}")
_TOKEN = re.compile(r"[\w'’-]+")
# Dates say when, never what: no topic term is a weekday or a month.
_DATES = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "today",
        "yesterday",
        "tomorrow",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "week",
        "weekend",
        "month",
        "year",
    ]
)
# Verbs that report or announce rather than name a subject: they carry no topic.
_GENERIC_VERBS = frozenset(
    [
        "said",
        "says",
        "say",
        "told",
        "tell",
        "agreed",
        "agree",
        "agrees",
        "announced",
        "announce",
        "announces",
        "signed",
        "sign",
        "signs",
        "held",
        "hold",
        "holds",
        "met",
        "meet",
        "meets",
        "added",
        "add",
        "adds",
        "noted",
        "note",
        "stated",
        "state",
        "called",
        "call",
        "calls",
        "made",
        "make",
        "makes",
        "took",
        "take",
        "takes",
        "gave",
        "give",
        "gives",
        "came",
        "come",
        "comes",
        "went",
        "go",
        "expected",
        "expect",
        "expects",
        "reported",
        "report",
        "reports",
        "according",
        "discussed",
        "discuss",
        "discusses",
        "reviewed",
        "review",
        "reviews",
        "welcomed",
        "welcome",
        "welcomes",
        "launched",
        "launch",
        "launches",
        "will",
        "would",
        "could",
        "should",
        "can",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "does",
        "did",
        "do",
        "supports",
        "support",
        "supported",
        "built",
        "build",
        "builds",
    ]
)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "as",
        "into",
        "over",
        "under",
        "about",
        "after",
        "before",
        "during",
        "this",
        "that",
        "these",
        "those",
        "their",
        "its",
        "his",
        "her",
        "our",
        "your",
        "it",
        "they",
        "them",
        "we",
        "he",
        "she",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "while",
        "also",
        "more",
        "most",
        "other",
        "some",
        "such",
        "than",
        "then",
        "very",
        "just",
        "both",
        "each",
        "only",
        "many",
        "much",
        "said",
        "there",
        "here",
    ]
)
# Words too generic to be a topic term alone (they name the pair or the state, not a subject).
_GENERIC_WORDS = frozenset(
    [
        "minister",
        "ministry",
        "government",
        "country",
        "countries",
        "official",
        "officials",
        "india",
        "indian",
        "united",
        "states",
        "american",
        "us",
        "u.s.",
        "new",
        "first",
        "two",
        "three",
        "last",
        "next",
    ]
)


def suggest_terms(text: str, cfg: AppConfig, *, per_topic: int = 6) -> dict[str, list[str]]:
    """Candidate terms from an article, grouped by the topic whose words they sit closest to."""
    known_terms = {t.lower() for topic in cfg.topics for t in topic.terms}
    known_actors = {a.lower() for topic in cfg.topics for a in topic.actors} | _actor_names(cfg)
    vocab = {
        t.id: set(_WORD.findall(" ".join([t.name, t.description, *t.terms]).lower()))
        for t in cfg.topics
    }
    sentences = re.split(r"(?<=[.!?])\s+", text)
    out: dict[str, list[str]] = {}
    for phrase in key_phrases(text):
        if _already_known(phrase, known_terms, known_actors):
            continue
        context = " ".join(s for s in sentences if phrase.lower() in s.lower()).lower()
        context_words = set(_WORD.findall(context))
        scores = {tid: len(context_words & v) for tid, v in vocab.items()}
        if not scores:
            break
        best = max(scores, key=lambda tid: scores[tid])
        if scores[best] == 0:
            continue
        bucket = out.setdefault(best, [])
        if len(bucket) < per_topic:
            bucket.append(phrase)
    return out


def key_phrases(text: str, *, top: int = 40) -> list[str]:
    """YAKE's key phrases of up to three words, best first, filtered and deduplicated."""
    extractor = yake.KeywordExtractor(lan="en", n=3, dedupLim=0.7, top=top)
    ranked: list[tuple[str, float]] = extractor.extract_keywords(text)
    kept: list[str] = []
    for phrase, _score in sorted(ranked, key=lambda pair: pair[1]):
        phrase = " ".join(phrase.split()).strip("'’")
        if acceptable(phrase) and not _overlaps(phrase, kept):
            kept.append(phrase)
    return kept


def acceptable(phrase: str) -> bool:
    """Whether a person would take this phrase as a topic term."""
    tokens = [t.lower() for t in _TOKEN.findall(phrase)]
    if not tokens or all(t.replace("-", "").isdigit() for t in tokens):
        return False
    if tokens[0] in _STOP or tokens[-1] in _STOP:
        return False
    if any(t in _DATES or t in _GENERIC_VERBS for t in tokens):
        return False
    content = [t for t in tokens if t not in _STOP]
    if all(t in _GENERIC_WORDS or t.isdigit() for t in content):
        return False
    return len(phrase) > 3


def _overlaps(phrase: str, kept: list[str]) -> bool:
    """A phrase sharing most of its words with a better-ranked one is the same thing cut
    differently ("Defence Secretary Pete" beside "Secretary Pete Hegseth")."""
    words = {t.lower() for t in _TOKEN.findall(phrase)}
    for other in kept:
        shared = words & {t.lower() for t in _TOKEN.findall(other)}
        if len(shared) * 2 >= len(words):
            return True
    return False


def _already_known(phrase: str, known_terms: set[str], known_actors: set[str]) -> bool:
    """Listed already: the phrase is an actor or sits inside a topic term, or it holds a topic
    term and adds only common words to it ("Javelin missiles"), not a new name ("Ghatak
    stealth drone")."""
    low = phrase.lower()
    if low in known_actors or any(low in term for term in known_terms):
        return True
    rest = f" {low} "
    for term in sorted(known_terms, key=len, reverse=True):
        rest = rest.replace(f" {term} ", " ")
    if rest == f" {low} ":
        return False
    left = {t for t in _TOKEN.findall(rest) if t not in _STOP and t not in _GENERIC_WORDS}
    named = {t.lower() for t in _TOKEN.findall(phrase) if t[:1].isupper()}
    return not (left & named)


def _actor_names(cfg: AppConfig) -> set[str]:
    """The matcher's actor lists (both countries, third countries): names, not topic terms."""
    settings = cfg.matching
    names = [*settings.us_actors, *settings.india_actors, *settings.neutral_phrases]
    for phrases in settings.third_countries.values():
        names.extend(phrases)
    return {n.lower() for n in names}
