"""What `newsbot run --role …` starts in this process, and which parts wait for leadership.

- ingest: poll cycles and the resume job (fetch, store, match, group, plan). Any number of
  processes share this work through feed and item leases (PostgreSQL).
- chat: one process per platform holds its connection (role row `chat:<platform>`); it
  answers commands and posts that platform's outbox.
- deliver: digests and held alerts (role row `digests`), and the outbox flush; a post needs
  the platform's connection, so a deliver process contends for `chat:<platform>` too.

On SQLite one process only may run each role (rows `process:<role>`): a second one says so
in one line and exits, since SQLite cannot be shared safely between processes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from apscheduler.triggers.interval import IntervalTrigger

from bot.connections import Connections
from bot.core.digests import DigestJobs, start_digests
from bot.core.leadership import Leadership, Role
from bot.core.models import DeliveryMode
from bot.core.outbox import Outbox
from bot.core.probe import CommandHooks
from bot.core.schedule import DIGEST_JOB, RELEASE_JOB, BotScheduler
from bot.storage.db import Database
from bot.storage.leaders import leaders
from bot.storage.subscriptions import with_digest

logger = logging.getLogger(__name__)

ROLES = ("ingest", "deliver", "chat")
FLUSH_JOB = "flush-outbox"
SYNC_JOB = "digests-sync"
LOCAL_PLATFORMS = frozenset({"console"})  # this process's own stdout: never shared


class SharingRefused(Exception):
    """A second process on one SQLite database: the one line that says why it stops."""


def expand(role: str) -> frozenset[str]:
    return frozenset(ROLES) if role == "all" else frozenset({role})


def leader_roles(roles: frozenset[str], platforms: Iterable[str]) -> list[str]:
    """The role rows this process contends for."""
    names: list[str] = []
    if roles & {"chat", "deliver"}:
        names += [f"chat:{p}" for p in platforms if p not in LOCAL_PLATFORMS]
    if "deliver" in roles:
        names.append("digests")
    return names


async def check_sqlite_sharing(db: Database, leadership: Leadership, roles: frozenset[str]) -> None:
    """Raise SharingRefused when another live process runs one of `roles` on this SQLite file."""
    taken = [r for r in sorted(roles) if not leadership.leads(f"process:{r}")]
    if not taken:
        return
    held = await db.run(lambda s: leaders(s, datetime.now(UTC)))
    owner = held.get(f"process:{taken[0]}", "another process")
    raise SharingRefused(
        f"another newsbot process ({owner}) already runs the {', '.join(taken)} role on this "
        "SQLite database, which cannot be shared between processes: stop it, or use "
        "PostgreSQL (NEWSBOT_DATABASE_URL) to run several workers"
    )


class DigestLead:
    """Digest and held-alert jobs run only in the `digests` leader. A `/news digest …` answered
    by another worker (the chat leader) changes the database only, so the leader brings its
    jobs in step with it every `SYNC_EVERY` seconds."""

    SYNC_EVERY = 60.0

    def __init__(self, scheduler: BotScheduler, outbox: Outbox, hooks: CommandHooks) -> None:
        self.db, self.scheduler, self.outbox, self.hooks = outbox.db, scheduler, outbox, hooks
        self._jobs: DigestJobs | None = None
        self._specs: dict[int, dict[str, object]] = {}

    async def gain(self) -> None:
        self._jobs = await start_digests(self.outbox, self.scheduler)
        self.hooks.follow_schedule(self.scheduler.reschedule_poll, self._jobs.changed)
        # What the rebuild scheduled is checked by the first sync like any other job.
        prefix = DIGEST_JOB.format("")
        self._specs = {
            int(job.id.removeprefix(prefix)): {}
            for job in self.scheduler.scheduler.get_jobs()
            if job.id.startswith(prefix)
        }
        await self.sync()
        self.scheduler.scheduler.add_job(
            self.sync,
            IntervalTrigger(seconds=self.SYNC_EVERY, timezone=UTC),
            id=SYNC_JOB,
            name="follow digest settings changed elsewhere",
            max_instances=1,
            coalesce=True,
            replace_existing=True,
        )

    async def sync(self) -> None:
        """Add, move or drop digest jobs to match the subscriptions as stored."""
        if self._jobs is None:
            return
        rows = await self.db.run(with_digest)
        live = [r for r in rows if not r.paused and r.mode != DeliveryMode.REALTIME]
        wanted: dict[int, dict[str, object]] = {r.id: dict(r.digest) for r in live}
        for sub_id in set(self._specs) - set(wanted):
            self.scheduler.remove_digest(sub_id)
        for sub_id, spec in wanted.items():
            if self._specs.get(sub_id) != spec:
                self.scheduler.set_digest(sub_id, spec, self._jobs.digests.run)
        self._specs = wanted

    async def lose(self) -> None:
        prefix = DIGEST_JOB.format("")
        for job in self.scheduler.scheduler.get_jobs():
            if job.id in (RELEASE_JOB, SYNC_JOB) or job.id.startswith(prefix):
                job.remove()
        self._jobs = None


def chat_role(connections: Connections, platform: str) -> Role:
    async def gain() -> None:
        # No waiting here: the leadership loop must go on renewing the other roles.
        await connections.start(wait=0, names=[platform])

    async def lose() -> None:
        await connections.stop_one(platform)

    return Role(f"chat:{platform}", gain, lose)


def add_flush_job(
    scheduler: BotScheduler, flush: Callable[[], Awaitable[object]], every: float
) -> None:
    """A process that does not poll still posts: its outbox is flushed on its own schedule."""
    scheduler.scheduler.add_job(
        flush,
        IntervalTrigger(seconds=every, timezone=UTC),
        id=FLUSH_JOB,
        name="flush the outbox",
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
