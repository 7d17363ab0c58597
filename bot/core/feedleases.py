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
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from bot.core.workleases import HeldLeases
from bot.storage.db import Database
from bot.storage.feeds import lease_owners, release_leases, release_owner, renew_leases
from bot.storage.outbox import claim_owners, expire_claims
from bot.storage.work import expire_item_leases, item_lease_owners

logger = logging.getLogger(__name__)


def default_owner() -> str:
    """This process's name on its leases: host and process id, so that a restart on the same
    host can tell its predecessor's leases from a live neighbour's."""
    return f"{socket.gethostname()}:{os.getpid()}"


class FeedLeases(HeldLeases):
    """The feeds one poll cycle has claimed and not yet finished (their stored states release
    the leases in the same write)."""

    what = "feed leases"
    given_back = "gave back %d unfinished feed leases for another worker to take"
    _renew = staticmethod(renew_leases)

    def _release(self, session: Any) -> int:
        return release_leases(session, self.owner, sorted(self.held))


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
