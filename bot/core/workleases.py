"""A cycle's leases on the items it stored and has not matched yet.

An item is stored with a lease on its matching, in the same transaction; the cycle that
stored it renews the lease while it works (a first poll of many feeds can take minutes
between storing an item and matching it) and the transaction that saves the match takes it
off. If the process dies, the lease runs out within ``poll.lease`` and any worker's resume
job takes the item up; on a clean stop the leases are expired at once, for the next process.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.storage.db import Database, StorageError
from bot.storage.work import expire_item_leases, renew_items

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Renewal:
    """Every ``every`` seconds, ``step()``: the renewing write (None: nothing held now)."""

    every: float
    step: Callable[[], Callable[[Any], object] | None]


async def keep_renewed(db: Database, what: str, renewal: Renewal) -> None:
    """Run a renewal until cancelled; a failed write is logged (the leases may lapse, and
    another worker take the work, which every holder checks before writing its result)."""
    while True:
        await asyncio.sleep(renewal.every)
        step = renewal.step()
        if step is None:
            continue
        try:
            await db.run(step)
        except StorageError as exc:
            logger.warning("renewing %s failed (%s)", what, type(exc).__name__)


class HeldLeases:
    """Rows one process holds under a short lease: renewed every third of the lease while the
    work runs, given back on a clean stop. A subclass names the rows and their two writes."""

    what = "leases"  # in log lines: "renewing item leases failed"
    given_back = "gave back %d leases"

    def __init__(
        self, db: Database, owner: str, lease: timedelta, clock: Callable[[], datetime]
    ) -> None:
        self.db = db
        self.owner = owner
        self.lease = lease
        self.clock = clock
        self.held: set[int] = set()

    def until(self) -> datetime:
        """When a lease taken now runs out."""
        return self.clock() + self.lease

    def add(self, ids: Iterable[int]) -> None:
        self.held.update(ids)

    def done(self, ids: Iterable[int]) -> None:
        """Finished (the lease came off in the same write), or taken over by another worker."""
        self.held.difference_update(ids)

    async def keep_alive(self) -> None:
        """Renew the held leases every third of a lease period until cancelled. If the database
        stays away a lease may lapse and another worker take the work, which every holder
        checks before writing its result: it costs a repeat, never a second post."""
        await keep_renewed(
            self.db, self.what, Renewal(self.lease.total_seconds() / 3, self._renewal)
        )

    def _renewal(self) -> Callable[[Any], object] | None:
        ids = sorted(self.held)
        if not ids:
            return None
        return partial(self._renew, owner=self.owner, ids=ids, until=self.until())

    async def give_back(self) -> None:
        """A clean stop: what this process will not finish is due at once elsewhere."""
        if not self.held:
            return
        try:
            count = await self.db.run(self._release)
        except StorageError as exc:
            logger.warning("could not give back %d %s (%s); they lapse in %s",
                           len(self.held), self.what, type(exc).__name__, self.lease)  # fmt: skip
            return
        self.held.clear()
        logger.info(self.given_back, count)

    @staticmethod
    def _renew(session: Any, *, owner: str, ids: list[int], until: datetime) -> object:
        raise NotImplementedError

    def _release(self, session: Any) -> int:
        raise NotImplementedError


class ItemLeases(HeldLeases):
    """The items one process holds for matching."""

    what = "item leases"
    given_back = "gave back %d unmatched items for the next worker to take"
    _renew = staticmethod(renew_items)

    def _release(self, session: Any) -> int:
        # Expired a second ago: due now for any worker's resume pass.
        return expire_item_leases(session, [self.owner], self.clock() - timedelta(seconds=1))
