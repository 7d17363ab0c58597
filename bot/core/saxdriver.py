"""The SAX driver feedparser parses with: the standard library's expat reader, buffering text.

Expat hands character data over in pieces, splitting it at every line end and entity
reference, and feedparser runs several Python calls per piece. A summary sent as escaped
HTML (``&lt;p&gt;…``, as most feeds send it) arrives in dozens of pieces, so a 30-item feed
made some 800 calls where about 190 will do. Expat's ``buffer_text`` joins adjacent pieces
before the handler sees them; the events and the text are the same, parsing is ~15% faster
(``python -m bench.poll_cycle``).

feedparser asks ``xml.sax.make_parser`` for a driver from its ``PREFERRED_XML_PARSERS``
list, by module name; ``use()`` puts this module first in that list.
"""

from __future__ import annotations

from typing import Any
from xml.sax.expatreader import ExpatParser

import feedparser.api


class BufferingExpatParser(ExpatParser):
    """``ExpatParser`` with expat's text buffering on; everything else is inherited."""

    def reset(self) -> None:
        super().reset()
        # ``_parser`` is the reader's pyexpat parser, made anew by each reset. Should a
        # later Python keep it elsewhere, parsing stays correct and only loses the speed.
        expat = getattr(self, "_parser", None)
        if expat is not None:
            expat.buffer_text = True


def create_parser(*args: Any, **kwargs: Any) -> BufferingExpatParser:
    """The driver entry point ``xml.sax.make_parser`` calls."""
    return BufferingExpatParser(*args, **kwargs)


def use() -> None:
    """Make feedparser try this driver before any other (idempotent)."""
    preferred: list[str] = feedparser.api.PREFERRED_XML_PARSERS
    if preferred[:1] != [__name__]:
        if __name__ in preferred:
            preferred.remove(__name__)
        preferred.insert(0, __name__)
