"""A worker's claims on feeds: renewed while their fetches run, given back on a clean stop,
and recognised as stale when the process that held them is gone.

Several workers share one database by leasing feeds (``feeds.lease_owner`` and
``lease_until``). A lease is short (``poll.lease``) so a crashed worker's feeds are taken over
quickly; a live worker keeps its leases by renewing them every third of that period.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bot.core.workleases import Renewal, keep_renewed
from bot.storage.db import Database, StorageError
from bot.storage.feeds import lease_owners, release_leases, release_owner, renew_leases
from bot.storage.outbox import claim_owners, expire_claims
from bot.storage.work import expire_item_leases, item_lease_owners

logger = logging.getLogger(__name__)


def default_owner() -> str:
    """This process's name on its leases: host and process id, so that a restart on the same
    host can tell its predecessor's leases from a live neighbour's."""
    return f"{socket.gethostname()}:{os.getpid()}"


class FeedLeases:
    """The feeds one poll cycle has claimed and not yet finished."""

    def __init__(
        self, db: Database, owner: str, lease: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.held: set[int] = set()

    def add(self, ids: Iterable[int]) -> None:
        self.held.update(ids)

    def done(self, ids: Iterable[int]) -> None:
        """These feeds' states are stored, which released their leases in the same write."""
        self.held.difference_update(ids)

    async def keep_alive(self) -> None:
        """Renew the held leases every third of a lease period until cancelled. If the database
        stays away a lease may lapse and another worker fetch a feed twice, which costs a
        request, never a post."""
        await keep_renewed(
            self.db, "feed leases", Renewal(self.lease.total_seconds() / 3, self._renewal)
        )

    def _renewal(self) -> Callable[[Any], object] | None:
        ids = sorted(self.held)
        if not ids:
            return None
        return partial(renew_leases, owner=self.owner, ids=ids, until=self.clock() + self.lease)

    async def give_back(self) -> None:
        """Release the leases of feeds this cycle will not finish (a clean stop)."""
        ids = sorted(self.held)
        if not ids:
            return
        try:
            count = await self.db.run(lambda s: release_leases(s, self.owner, ids))
        except StorageError as exc:
            logger.warning(
                "could not give back %d feed leases (%s); they lapse in %s",
                len(ids),
                type(exc).__name__,
                self.lease,
            )
            return
        self.held.clear()
        logger.info("gave back %d unfinished feed leases for another worker to take", count)


async def release_stale(db: Database, owner: str | None = None) -> int:
    """At start: drop feed leases left by this process's earlier life (same owner name) and by
    processes on this host that are no longer running, so their feeds are polled now rather
    than after the lease runs out; their unmatched items' leases and their claims on alerts
    run out now, for this process's first passes to take up. Returns the feed leases
    released."""
    owner = owner or default_owner()
    host = owner.rsplit(":", 1)[0]
    owners = await db.run(lambda s: lease_owners(s, f"{host}:"))
    stale = [o for o in owners if o == owner or not _running_here(o, host)]
    released = 0
    for name in stale:
        released += await db.run(partial(release_owner, owner=name))
    if released:
        logger.info("released %d stale feed leases of stopped processes on %s", released, host)
    now = datetime.now(UTC) - timedelta(seconds=1)
    for what, holders_of, expire in (
        ("unmatched items", item_lease_owners, expire_item_leases),
        ("claimed alerts", claim_owners, expire_claims),
    ):
        holders = await db.run(partial(holders_of, prefix=f"{host}:"))
        gone = [o for o in holders if o == owner or not _running_here(o, host)]
        if gone:
            count = await db.run(partial(expire, owners=gone, now=now))
            logger.info("taking up %d %s of stopped processes on %s", count, what, host)
    return released


def _running_here(owner: str, host: str) -> bool:
    """Whether the process named by ``owner`` (``host:pid``) is alive on this host."""
    _, _, pid_text = owner.rpartition(":")
    if not pid_text.isdigit():
        return True  # not a name we made: leave it to its lease
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, another user's
    return True


running_here = _running_here  # leadership (bot/core/leadership.py) asks the same question
