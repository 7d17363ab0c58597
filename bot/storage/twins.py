"""An article seen through an undecoded Google News link and directly is stored once.

When Google's token does not carry the article link (``bot.core.googlenews``), the item keeps
the Google link and the outlet "X (via Google News)", so the unique link cannot tell it is
the same article as the outlet's own feed's item. The outlet and the headline can
(``bot.core.models.labels.twin_key``), within a short window, since both copies arrive within
hours: a Google item whose direct twin is stored already, or is in the same batch, is not stored.

Only batches with such Google items ask the database anything (rows first seen inside the
window: an index range scan on first_seen_at); every other batch's insert is still its own
"is it new?" check. A direct copy that arrives after its Google twin was stored takes over
the Google row instead (its link and outlet): the row is found by a hash of outlet and
headline in ``google_twins``, a primary-key lookup per batch that finds nothing while no
undecoded Google item is waiting for its twin.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.models import Item, ParsedItem, labels
from bot.storage.tables import GoogleTwinRow, ItemRow

ITEMS: Table = ItemRow.__table__  # type: ignore[assignment]
TWINS: Table = GoogleTwinRow.__table__  # type: ignore[assignment]
WINDOW = timedelta(days=2)
IN_CHUNK = 2000

T = TypeVar("T")


def drop_twins(
    session: Session, candidates: Sequence[tuple[T, ParsedItem]], now: datetime
) -> list[tuple[T, ParsedItem]]:
    """``candidates`` less the undecoded Google items whose article is stored or listed directly."""
    via = [p for _, p in candidates if labels.is_via_google(p.source)]
    if not via:
        return list(candidates)
    direct = {
        labels.twin_key(p.source, p.title)
        for _, p in candidates
        if not labels.is_via_google(p.source)
    }
    direct |= _stored_direct(session, sorted({p.title for p in via}), now - WINDOW)
    return [
        (owner, item)
        for owner, item in candidates
        if not labels.is_via_google(item.source)
        or labels.twin_key(item.source, item.title) not in direct
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
            labels.twin_key(source, title)
            for source, title in rows
            if not labels.is_via_google(source)
        )
    return found


def adopt_direct(
    session: Session, candidates: Sequence[tuple[T, ParsedItem]], now: datetime
) -> list[tuple[T, ParsedItem]]:
    """``candidates`` less the direct copies that took over a stored undecoded Google row."""
    direct = {
        _hash(labels.twin_key(p.source, p.title)): p
        for _, p in candidates
        if p.url and not labels.is_via_google(p.source)
    }
    if not direct:
        return list(candidates)
    waiting = _waiting(session, sorted(direct), now - WINDOW)
    adopted = {
        id(direct[twin]) for twin, item_id in waiting if _adopt(session, item_id, direct[twin])
    }
    if waiting:
        session.execute(delete(TWINS).where(TWINS.c.twin.in_([twin for twin, _ in waiting])))
    return [(owner, p) for owner, p in candidates if id(p) not in adopted]


def remember(session: Session, stored: Iterable[Item], now: datetime) -> None:
    """Note the undecoded Google items just stored, for their direct copies to find."""
    rows = {
        _hash(labels.twin_key(i.source, i.title)): i.id
        for i in stored
        if labels.is_via_google(i.source)
    }
    if not rows:
        return
    known = set(session.scalars(select(TWINS.c.twin).where(TWINS.c.twin.in_(list(rows)))))
    fresh = [
        {"twin": twin, "item_id": item_id, "first_seen_at": now}
        for twin, item_id in rows.items()
        if twin not in known
    ]
    if fresh:
        session.execute(insert(TWINS), fresh)


def _waiting(session: Session, twins: Sequence[str], since: datetime) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for start in range(0, len(twins), IN_CHUNK):
        rows = session.execute(
            select(TWINS.c.twin, TWINS.c.item_id).where(
                TWINS.c.twin.in_(twins[start : start + IN_CHUNK]), TWINS.c.first_seen_at >= since
            )
        )
        found.extend((twin, item_id) for twin, item_id in rows)
    return found


def _adopt(session: Session, item_id: int, direct: ParsedItem) -> bool:
    # Another row may hold the direct link already (a race, a feed that carried it before):
    # then the Google row stays as it is and the direct copy is judged by the insert.
    try:
        with session.begin_nested():
            session.execute(
                update(ITEMS)
                .where(ITEMS.c.id == item_id)
                .values(url=direct.url, source=direct.source[:200])
            )
    except IntegrityError:
        return False
    return True


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
