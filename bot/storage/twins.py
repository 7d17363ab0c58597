"""An article seen through an undecoded Google News link and directly is stored once.

When Google's token does not carry the article link (``bot.core.googlenews``), the item keeps
the Google link and the outlet "X (via Google News)", so the unique link cannot tell it is
the same article as the outlet's own feed's item. The outlet and the headline can
(``googlenews.twin_key``), within a short window, since both copies arrive within hours: a
Google item whose direct twin is stored already, or is in the same batch, is not stored.

Only batches with such Google items ask the database anything (rows first seen inside the
window: an index range scan on first_seen_at); every other batch's insert is still its own
"is it new?" check. A direct copy that arrives after its Google twin was stored is stored
too; the story card lists the article once, by its direct link (``summaries._sources``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from bot.core import googlenews
from bot.core.models import ParsedItem
from bot.storage.tables import ItemRow

ITEMS: Table = ItemRow.__table__  # type: ignore[assignment]
WINDOW = timedelta(days=2)
IN_CHUNK = 2000

T = TypeVar("T")


def drop_twins(
    session: Session, candidates: Sequence[tuple[T, ParsedItem]], now: datetime
) -> list[tuple[T, ParsedItem]]:
    """``candidates`` less the undecoded Google items whose article is stored or listed directly."""
    via = [p for _, p in candidates if googlenews.is_via_google(p.source)]
    if not via:
        return list(candidates)
    direct = {
        googlenews.twin_key(p.source, p.title)
        for _, p in candidates
        if not googlenews.is_via_google(p.source)
    }
    direct |= _stored_direct(session, sorted({p.title for p in via}), now - WINDOW)
    return [
        (owner, item)
        for owner, item in candidates
        if not googlenews.is_via_google(item.source)
        or googlenews.twin_key(item.source, item.title) not in direct
    ]


def _stored_direct(session: Session, titles: Sequence[str], since: datetime) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(titles), IN_CHUNK):
        rows = session.execute(
            select(ITEMS.c.source, ITEMS.c.title).where(
                ITEMS.c.first_seen_at >= since, ITEMS.c.title.in_(titles[start : start + IN_CHUNK])
            )
        )
        found.update(
            googlenews.twin_key(source, title)
            for source, title in rows
            if not googlenews.is_via_google(source)
        )
    return found
