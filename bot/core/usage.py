"""User mistakes in commands: the error type and the "did you mean" suggestion (difflib)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class UsageError(Exception):
    """A user's mistake: the message says what was wrong; the command layer adds the usage."""


def closest(word: str, options: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return found[0] if found else None


def unknown(what: str, word: str, options: Sequence[str]) -> UsageError:
    """``unknown topic `framwork`; did you mean `framework-agreement`?``"""
    guess = closest(word.lower(), options)
    hint = f"; did you mean `{guess}`?" if guess else ""
    return UsageError(f"unknown {what} `{word}`{hint}")
