"""The words of a report that tell one event from another: tokens, weights, light stemming.

Shared by the story grouper (its signatures) and the story card (which words to show).
"""

from __future__ import annotations

import re

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


class Featurizer:
    """A report's distinctive tokens with their weights (numbers > names > words).

    With ``aside`` (a pattern of words like "despite", "amid"), the rest of a sentence after
    one is background, not the event ("contingent arrives despite the tariff row"): its
    tokens weigh ``aside_weight`` of their usual weight. Each word's verdict is remembered: a
    stream of news repeats its words, and this runs for every word of every relevant report.
    """

    MAX_REMEMBERED = 200_000  # distinct words; a long-running bot starts afresh past this

    def __init__(
        self,
        generic: frozenset[str],
        word_weight: float,
        aside: re.Pattern[str] | None = None,
        aside_weight: float = 1.0,
    ) -> None:
        self.generic, self.word_weight = generic, word_weight
        self.aside = aside if aside_weight != 1.0 else None
        self.aside_weight = aside_weight
        # (word, is a title's first word) → (token, weight), or None when it tells nothing
        self._verdicts: dict[tuple[str, bool], tuple[str, float] | None] = {}

    def __call__(self, title: str, summary: str) -> dict[str, float]:
        out: dict[str, float] = {}
        verdicts = self._verdicts
        if len(verdicts) > self.MAX_REMEMBERED:
            verdicts.clear()
        for is_title, text in ((True, title), (False, summary)):
            for n, (part, factor) in enumerate(self._clauses(text)):
                hyphens = has_hyphen(part)
                for pos, whole in enumerate(WORD.findall(part.translate(QUOTES))):
                    for raw in split_token(whole) if hyphens and has_hyphen(whole) else (whole,):
                        # A title's first word is capitalised anyway: no name by that alone.
                        key = (raw, is_title and n == 0 and pos == 0)
                        found = verdicts.get(key, _UNSEEN)
                        if found is _UNSEEN:
                            found = verdicts[key] = self._token(*key)
                        if found is not None and found[1] * factor > out.get(found[0], 0.0):
                            out[found[0]] = found[1] * factor
        return out

    def _clauses(self, text: str) -> list[tuple[str, float]]:
        """The text as (part, factor): a sentence's background after an aside word weighs less."""
        aside = self.aside
        if aside is None or aside.search(text) is None:
            return [(text, 1.0)]  # most reports: one part, no copy
        parts: list[tuple[str, float]] = []
        for sentence in SENTENCE.split(text):
            found = aside.search(sentence)
            if found is None:
                parts.append((sentence, 1.0))
            else:
                start = found.start()
                parts += [(sentence[:start], 1.0), (sentence[start:], self.aside_weight)]
        return parts

    def _token(self, raw: str, opening: bool) -> tuple[str, float] | None:
        """One word as a feature: (token, weight), or None when it tells nothing."""
        tok = raw.lower()
        if tok.endswith("'s"):
            tok = tok[:-2]
        if len(tok) < 2 or tok in self.generic:
            return None
        if not tok.isalpha() and any(c.isdigit() for c in tok):
            return tok.replace(",", ""), 2.0
        if raw[0].isupper() and not opening:
            return tok, 1.5  # a name
        return stem(tok), self.word_weight


_UNSEEN: tuple[str, float] = ("", -1.0)  # a verdict's sentinel: the word was not seen yet


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
