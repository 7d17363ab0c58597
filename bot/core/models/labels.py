"""The format of an item's outlet label (``Item.source``, ``ParsedItem.source``).

An item whose link still goes through Google News (its token did not carry the article's own
address) is labelled "Outlet (via Google News)". Storage reads the mark to store such an item
once beside the outlet's own copy (bot/storage/twins.py); cards and article fetches read it too.
"""

from __future__ import annotations

VIA = "via Google News"
_MARK = f" ({VIA})"


def is_via_google(outlet: str) -> bool:
    """Whether an outlet label says its link still goes through Google News."""
    return outlet.endswith(_MARK)


def outlet_name(label: str) -> str:
    """The outlet a label names, without the "(via Google News)" mark."""
    return label[: -len(_MARK)] if is_via_google(label) else label


def twin_key(outlet: str, title: str) -> str:
    """What an undecoded Google News item shares with the outlet's own copy of the article.

    Without the article link, the outlet and the exact headline are the best identity:
    Google shows the outlet's own headline under the outlet's own name.
    """
    return f"{outlet_name(outlet).casefold()}\n{' '.join(title.split()).casefold()}"
