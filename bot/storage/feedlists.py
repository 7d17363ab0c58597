"""Feed lists in and out of the database: an OPML file's feeds added through the admin
snapshot/apply path (one audit entry each, so `/news admin revert <id>` removes one), and
the stored feeds read back for export."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from bot.core.models import UserRef
from bot.storage import admin as store
from bot.storage import audit

OPML_USER = UserRef(platform="cli", workspace="", user="feeds-import", name="OPML import")


@dataclass
class Added:
    audit_ids: list[int] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # addresses stored before


def add_feeds(
    session: Session, feeds: Sequence[tuple[str, str]], *, now: datetime, source: str,
    user: UserRef = OPML_USER,
    steps: Callable[[Sequence[tuple[str, str]]], Iterable[tuple[str, str]]] | None = None,
) -> Added:  # fmt: skip
    """Add the feeds not stored yet, each with its audit entry; a feed already stored (paused
    or not) is left as it is. ``feeds`` are (name, url) pairs."""
    added = Added()
    for name, url in steps(feeds) if steps else feeds:
        entity = store.feed_key(url)
        if store.snapshot(session, entity) is not None:
            added.already.append(url)
            continue
        state = {"url": url, "name": name, "comment": f"imported from {source}",
                 "paused": False, "alert_on_first_poll": False, "allow_private": False}  # fmt: skip
        store.apply(session, entity, state, now=now, by="feeds import")
        row = audit.record(session, user, action="feeds import", target=entity, before=None,
                           after=state, now=now)  # fmt: skip
        added.audit_ids.append(row.id)
    return added


def stored_feeds(session: Session) -> list[tuple[str, str]]:
    """Every stored feed as (name, url), paused ones too (an export is a backup), in the order
    added."""
    return [(row.name, row.url) for row in store.feeds(session)]
