"""HTML or plain text from a feed → one line of plain text: tags dropped, entities decoded."""

from __future__ import annotations

import html

from selectolax.lexbor import LexborNode, create_tag

_INVISIBLE = ("script", "style", "noscript", "iframe", "template")
_INVISIBLE_OPEN = tuple(f"<{tag}" for tag in _INVISIBLE)


def clean_text(value: str) -> str:
    """HTML or plain text → one line of plain text: tags dropped, entities decoded."""
    return TextCleaner()(value)


class TextCleaner:
    """``clean_text`` for many values, with one HTML document shared among them.

    Setting up a lexbor document costs about 20 µs, several times the parse of a typical
    summary, so each snippet is parsed into one reused element instead, as ``innerHTML``
    would be. Fragment parsing keeps each snippet to itself (a stray ``</div>`` cannot close
    the holder). The document gives its memory back only when it goes, so a cleaner serves
    one feed, never a whole process; it is not thread-safe either.
    """

    def __init__(self) -> None:
        self._holder: LexborNode | None = None

    def __call__(self, value: str) -> str:
        if not value:
            return ""
        if "<" not in value:
            # Fast path: most titles and many summaries carry no markup at all.
            if "&" in value:
                value = html.unescape(value)
            return " ".join(value.split())
        holder = self.parse(value)
        return " ".join((holder.text(separator=" ") or "").split())

    def parse(self, value: str) -> LexborNode:
        """``value`` parsed as HTML into the shared holder, invisible elements removed."""
        holder = self._holder
        if holder is None:
            holder = self._holder = create_tag("div")
        holder.inner_html = value
        lowered = value.lower()
        if any(tag in lowered for tag in _INVISIBLE_OPEN):
            holder.strip_tags(list(_INVISIBLE))
        return holder
