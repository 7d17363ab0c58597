"""Finding listed phrases in an item's text: its words, sentences, and a fast phrase lookup.

Shared by the matcher's actor and topic-term lookups. Dashes, quotes and ``U.S.`` are folded
first, so every outlet's spelling of a phrase is one entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

TITLE, LEAD, BODY = "title", "lead", "body"

_DASHES = re.compile(r"[-‐‑‒–—―/]")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_DOTTED_US = re.compile(r"\bU\.\s?S\.(?:\s?A\.)?")
# A sentence ends at . ! ? before a capital, except after an initial or a title ("S. Jaishankar").
_SENTENCE_END = re.compile(
    r"(?<=[.!?])(?<!\b[A-Z]\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bDr\.)(?<!\bSt\.)(?<!\bNo\.)"
    r"\s+(?=[\"'(\[]?[A-Z0-9])"
)
_SPACES = re.compile(r"\s+")
TOKEN = re.compile(r"[A-Za-z0-9]+(?:[&+][A-Za-z0-9]+)*")

L = TypeVar("L")


def normalise(text: str) -> str:
    """Fold the spellings that vary between outlets: dashes, quotes, ``U.S.``, spacing."""
    text = _DOTTED_US.sub("US", text.translate(_QUOTES))
    return _SPACES.sub(" ", _DASHES.sub(" ", text))


def is_case_sensitive(alias: str) -> bool:
    # "US", "GE", "HAL": all-caps short forms would otherwise match "us", "ge", "hal".
    letters = [c for c in alias if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) <= 5


def phrase_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in TOKEN.finditer(normalise(phrase)))


@dataclass(frozen=True, slots=True)
class Segments:
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


def segments(title: str, summary: str) -> Segments:
    parts = [_fold(title)]
    parts += _SENTENCE_END.split(_fold(summary).strip())
    words: list[str] = []
    sentence: list[int] = []
    for idx, part in enumerate(parts):
        found = TOKEN.findall(part)
        words += found
        sentence += [idx] * len(found)
    return Segments(words, [w.lower() for w in words], sentence)


class Hit(NamedTuple, Generic[L]):
    """A phrase found (a tuple: one is made per phrase in every item, so it must be cheap)."""

    start: int  # first word
    end: int  # one past the last word
    phrase: str
    label: L


class Gazetteer(Generic[L]):
    """Phrases → labels, found by looking up word n-grams (leftmost, longest, non-overlapping).

    A dictionary walk over the words is many times faster than one regex alternation of a few
    hundred phrases, which the 5,000 items/s budget needs. The first label given for a phrase
    wins.
    """

    def __init__(self, labelled: dict[str, L]) -> None:
        self._folded: dict[tuple[str, ...], L] = {}
        self._exact: dict[tuple[str, ...], L] = {}
        # First word → the lengths of phrases starting with it, longest first.
        self._lengths: dict[str, list[int]] = {}
        for phrase, label in labelled.items():
            toks = phrase_tokens(phrase)
            if not toks:
                continue
            if is_case_sensitive(" ".join(toks)):
                self._exact.setdefault(toks, label)
            else:
                toks = tuple(t.lower() for t in toks)
                self._folded.setdefault(toks, label)
            lengths = self._lengths.setdefault(toks[0].lower(), [])
            if len(toks) not in lengths:
                lengths.append(len(toks))
                lengths.sort(reverse=True)

    def find(self, seg: Segments) -> list[Hit[L]]:
        """One hit per phrase found, in text order; never across sentences."""
        hits: list[Hit[L]] = []
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
                    hits.append(Hit(i, end, " ".join(words[i:end]), label))
                    free = end
                    break
        return hits
