"""Untrusted text made plain: no controls, no terminal escapes, no bidi or invisible characters.

Every text field a feed sends passes through ``untrusted_text`` before it is stored, so nothing
downstream (the matcher, the database, a chat renderer, a terminal) sees a character that can
reorder the line (bidi overrides, the "Trojan Source" class, CVE-2021-42574), hide text
(zero-width, tag and blank filler characters), move a terminal's cursor or retitle its
window (ESC, OSC, BEL, BS), or join two words so the matcher misses both. Renderers still
escape per platform: this step removes what no platform escape can show safely.

Characters kept on purpose: ZWJ and ZWNJ between two letters or marks of a script that uses
them (Devanagari, Arabic, Persian: they change how a word is drawn, not what it says) and ZWJ
inside emoji sequences.
"""

from __future__ import annotations

import html
import re
import unicodedata

# ESC-introduced sequences as terminals read them (ECMA-48): CSI "ESC [ … final",
# OSC/DCS/PM/APC/SOS strings ended by BEL or ST, and two-character escapes. Their C1
# single-character forms (U+009B CSI, U+009D OSC, …) are covered too.
_TERMINAL_ESCAPE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves, erase
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # strings
    r"|\x1b[ -/]*[0-~]"  # nF / Fp / Fe / Fs two-character escapes
)
# An entity reference the feed's XML or HTML never defined (``&xxe;``): shown literally it is
# noise, and it is how an XXE attempt shows up once the parser refused to expand it.
_UNRESOLVED_ENTITY = re.compile(
    r"&(?:[A-Za-z][A-Za-z0-9._:-]{0,31}|#[0-9]{1,8}|#[xX][0-9A-Fa-f]{1,8});"
)
_ZW_JOINERS = frozenset("\u200c\u200d")
# Letters and symbols that draw nothing (Hangul fillers, the blank braille pattern): they
# pass as printable, so they can pad or hide text where a zero-width space would be caught.
_BLANK_GLYPHS = re.compile("[\u115f\u1160\u3164\uffa0\u2800]")
_SPACE_LIKE = frozenset("\t\n\r\x0b\x0c\x85\u2028\u2029")


def untrusted_text(value: str) -> str:
    """``value`` as one line of plain, visible text in NFC: see the module's docstring."""
    if not value:
        return ""
    if not value.isascii():
        value = _BLANK_GLYPHS.sub("", value)
    if value.isprintable():
        # Fast path, most feed text: no control, format, separator or unassigned character
        # (str.isprintable is false for all of them), so only entities and NFC remain.
        if "&" in value:
            value = _UNRESOLVED_ENTITY.sub(_entity_or_nothing, value)
        if not value.isascii() and not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        return " ".join(value.split())
    if "\x1b" in value or any("\x90" <= ch <= "\x9f" for ch in value):
        value = _TERMINAL_ESCAPE.sub("", value)
    if "&" in value:
        value = _UNRESOLVED_ENTITY.sub(_entity_or_nothing, value)
    value = unicodedata.normalize("NFC", value)
    kept = [_visible(value, i) for i in range(len(value))]
    return " ".join("".join(kept).split())


def _entity_or_nothing(m: re.Match[str]) -> str:
    # A known entity left over (the text was plain, never unescaped) is decoded; an unknown
    # one is dropped.
    decoded = html.unescape(m.group(0))
    if decoded == m.group(0):
        return ""
    return decoded if decoded.isprintable() and decoded != "\ufffd" else ""


def _visible(text: str, i: int) -> str:
    ch = text[i]
    if ch.isprintable():
        return ch if ch != "\u00ad" else ""  # soft hyphen: invisible unless a line breaks there
    if ch in _SPACE_LIKE or unicodedata.category(ch).startswith("Z"):
        return " "  # no-break, ideographic and other spaces still part words
    if ch in _ZW_JOINERS and _joins_letters(text, i):
        return ch
    # Controls (Cc), formats (Cf: bidi, zero-width, tags, BOM), separators, surrogates,
    # unassigned code points.
    return ""


def _joins_letters(text: str, i: int) -> bool:
    if i == 0 or i + 1 >= len(text):
        return False
    before, after = text[i - 1], text[i + 1]
    if before.isascii() or after.isascii():
        return False  # "In\u200ddia": a joiner inside Latin text only hides a word
    kinds = (unicodedata.category(before)[0], unicodedata.category(after)[0])
    return all(k in "LM" for k in kinds) or all(k == "S" for k in kinds)
