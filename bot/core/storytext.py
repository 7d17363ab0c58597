"""The words of a report that tell one event from another: tokens, weights, light stemming.

Shared by the story grouper (its signatures) and the story card (which words to show).
"""

from __future__ import annotations

import re
from functools import lru_cache

QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})

# Words, numbers, amounts; hyphenated codes ("H-1B", "MQ-9B", "2025-2035") stay one token.
WORD = re.compile(r"\$?[A-Za-z0-9][\w'&]*(?:[.,][0-9]+)*%?(?:[-‐‑–][\w]+)*")
HYPHENS = re.compile(r"[-‐‑–]")
# A sentence ends at . ! ? or ; followed by a space.
SENTENCE = re.compile(r"(?<=[.!?;])\s+")

# English function words: language data, not tuning (the config adds domain-generic words).
STOPWORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "if", "of", "to", "in",
        "on", "at", "by", "for", "from", "with", "without", "into", "onto", "as",
        "is", "are", "was", "were", "be", "been", "being", "has", "have", "had",
        "do", "does", "did", "not", "no", "nor", "so", "than", "then", "that",
        "this", "these", "those", "it", "its", "it's", "he", "she", "they", "them",
        "his", "her", "their", "our", "we", "you", "your", "i", "me", "my",
        "who", "whom", "which", "what", "when", "where", "why", "how", "all", "any",
        "each", "every", "some", "such", "other", "another", "only", "own", "same", "very",
        "just", "about", "above", "below", "between", "through", "during", "while", "up", "down",
        "out", "off", "again", "further", "once", "here", "there", "also", "can", "will",
        "would", "should", "could", "may", "might", "must", "shall", "per", "via", "amid",
        "among", "across", "against", "toward", "towards", "upon", "within", "whether",
        "since", "until",
        "because", "including", "includes", "include", "s",
    }
)  # fmt: skip


def features(
    title: str,
    summary: str,
    generic: frozenset[str],
    word_weight: float,
    aside: re.Pattern[str] | None = None,
    aside_weight: float = 1.0,
) -> dict[str, float]:
    """Distinctive tokens of a report with their weights (numbers > names > words).

    With ``aside`` (a pattern of words like "despite", "amid"), the rest of a sentence after
    one is background, not the event ("contingent arrives despite the tariff row"): its
    tokens weigh ``aside_weight`` of their usual weight.
    """
    out: dict[str, float] = {}
    for is_title, text in ((True, title), (False, summary)):
        for n, (part, factor) in enumerate(_clauses(text, aside, aside_weight)):
            hyphens = has_hyphen(part)
            opening = is_title and n == 0
            for pos, whole in enumerate(WORD.findall(part.translate(QUOTES))):
                for raw in split_token(whole) if hyphens and has_hyphen(whole) else (whole,):
                    # A title's first word is capitalised anyway: it is no name by that alone.
                    found = _token(raw, generic, word_weight, opening and pos == 0)
                    if found is not None and found[1] * factor > out.get(found[0], 0.0):
                        out[found[0]] = found[1] * factor
    return out


def _clauses(text: str, aside: re.Pattern[str] | None, weight: float) -> list[tuple[str, float]]:
    """The text as (part, factor): each sentence's background after an aside word weighs less."""
    if aside is None or weight == 1.0 or aside.search(text) is None:
        return [(text, 1.0)]  # most reports: one part, no copy
    parts: list[tuple[str, float]] = []
    for sentence in SENTENCE.split(text):
        found = aside.search(sentence)
        if found is None:
            parts.append((sentence, 1.0))
        else:
            parts += [(sentence[: found.start()], 1.0), (sentence[found.start() :], weight)]
    return parts


@lru_cache(maxsize=65536)
def _token(
    raw: str, generic: frozenset[str], word_weight: float, opening: bool
) -> tuple[str, float] | None:
    """One word as a feature: (token, weight), or None when it tells nothing. Cached: a stream
    of news repeats its words, and this runs for every word of every relevant report."""
    tok = raw.lower()
    if tok.endswith("'s"):
        tok = tok[:-2]
    if len(tok) < 2 or tok in generic:
        return None
    if not tok.isalpha() and any(c.isdigit() for c in tok):
        return tok.replace(",", ""), 2.0
    if raw[0].isupper() and not opening:
        return tok, 1.5  # a name
    return stem(tok), word_weight


def text_tokens(text: str) -> set[str]:
    """The tokens of a text in every form a story signature may hold them (for the card)."""
    out: set[str] = set()
    for m in WORD.finditer(text.translate(QUOTES)):
        for raw in split_token(m.group(0)):
            tok = raw.lower().removesuffix("'s").replace(",", "")
            out.add(tok)
            out.add(stem(tok))
    return out


def has_hyphen(token: str) -> bool:
    return "-" in token or "–" in token or "‐" in token or "‑" in token


def split_token(token: str) -> list[str]:
    """A hyphenated token with a digit is a code ("H-1B"); otherwise its parts are words."""
    if not HYPHENS.search(token):
        return [token]
    if any(c.isdigit() for c in token):
        return [HYPHENS.sub("", token)]
    return [p for p in HYPHENS.split(token) if p]


def stem(tok: str) -> str:
    # Light plural folding so "engines"/"engine" and "drills"/"drill" meet; no library needed.
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss"):
        return tok[:-1]
    return tok
