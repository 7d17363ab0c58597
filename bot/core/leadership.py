"""One leader per role that must run once: a platform's chat connection, digests.

Every process that may lead a role claims its lease row every third of the lease period;
the one holding it leads (`gain` runs), and when it stops renewing (killed, partitioned)
another takes the row once the lease has run out, so a role fails over within one lease
period. A clean stop gives the row back at once. A process's own earlier life, or a dead
process on this host, is recognised at start and its rows dropped. The SQL is in
`bot/storage/leaders.py`; this module holds the policy only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from bot import metrics
from bot.core.feedleases import default_owner, running_here
from bot.storage.db import Database
from bot.storage.leaders import claim, expire, owners_like, release

logger = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


async def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class Role:
    """A role to contend for, and what taking it up or giving it up means here."""

    name: str
    gain: Callable[[], Awaitable[None]] = _nothing
    lose: Callable[[], Awaitable[None]] = _nothing


class Leadership:
    def __init__(
        self,
        db: Database,
        roles: Sequence[Role],
        *,
        lease: float,
        owner: str | None = None,
        clock: Callable[[], datetime] = _now,
        drop_stale: bool = True,
    ) -> None:
        self.db = db
        # Off for a second Leadership of the same process: the first one did it, and rows
        # under this owner are then that one's, not an earlier life's.
        self.drop_stale = drop_stale
        self.roles = list(roles)
        self.lease = timedelta(seconds=lease)
        self.owner = owner or default_owner()
        self.clock = clock
        self.held: set[str] = set()
        self._renewed: dict[str, datetime] = {}
        self._task: asyncio.Task[None] | None = None

    def leads(self, role: str) -> bool:
        return role in self.held

    async def start(self) -> None:
        """Drop this host's dead leaders, contend once at once, then keep renewing."""
        host = self.owner.rsplit(":", 1)[0]
        owners = await self.db.run(lambda s: owners_like(s, f"{host}:"))
        dead = [o for o in owners if o == self.owner or not running_here(o, host)]
        if dead and self.drop_stale:
            gone = await self.db.run(lambda s: expire(s, dead))
            logger.info("leadership: dropped %d roles of stopped processes on %s", gone, host)
        await self.round()
        self._task = asyncio.create_task(self._loop(), name="leadership")

    async def round(self) -> None:
        """Claim or renew every role once; take up the ones won, give up the ones lost."""
        for role in self.roles:
            now = self.clock()
            try:
                won = await self.db.run(partial(claim, role=role.name, owner=self.owner,
                                                now=now, lease=self.lease))  # fmt: skip
            except Exception as exc:
                # A database that does not answer: keep leading only while the lease we
                # hold certainly lasts, since no one else can take it before then.
                renewed = self._renewed.get(role.name)
                won = renewed is not None and self.clock() < renewed + self.lease
                logger.warning("leadership: cannot renew %s (%s)", role.name, exc)
            else:
                if won:
                    self._renewed[role.name] = now
            await self._settle(role, won)

    async def _settle(self, role: Role, won: bool) -> None:
        if won and role.name not in self.held:
            self.held.add(role.name)
            metrics.leading(role.name, True)
            logger.info("leadership: this process (%s) now leads %s", self.owner, role.name)
            await role.gain()
        elif not won and role.name in self.held:
            self.held.discard(role.name)
            metrics.leading(role.name, False)
            logger.warning("leadership: %s lost to another process", role.name)
            await role.lose()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            try:
                await self.round()
            except Exception:
                logger.exception("leadership: a round failed; the next one tries again")

    async def stop_renewing(self) -> None:
        """Stop contending and renewing, rows left as they are (what a killed process leaves)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def stop(self) -> None:
        """Stop contending; give up every role held, and its row, at once."""
        await self.stop_renewing()
        for role in self.roles:
            if role.name not in self.held:
                continue
            self.held.discard(role.name)
            metrics.leading(role.name, False)
            try:
                await role.lose()
            finally:
                with contextlib.suppress(Exception):
                    await self.db.run(partial(release, role=role.name, owner=self.owner))
