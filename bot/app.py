"""Assembles the running bot: storage, adapters, delivery, pipeline and scheduler."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TextIO

from bot.adapters.console import ConsoleAdapter, console_channel
from bot.config import AppConfig
from bot.connections import Connections
from bot.core.alerts import Alerts
from bot.core.chat import ChatAdapter, chat_setup
from bot.core.commands import Commands
from bot.core.digests import start_digests
from bot.core.fetch import Resolver
from bot.core.leadership import Leadership, Role
from bot.core.outbox import Outbox
from bot.core.pipeline import Pipeline
from bot.core.schedule import BotScheduler
from bot.health import HealthServer
from bot.roles import (
    LOCAL_PLATFORMS,
    DigestLead,
    add_flush_job,
    chat_role,
    check_sqlite_sharing,
    leader_roles,
)
from bot.settings import Settings
from bot.storage.configstore import load_runtime, seed
from bot.storage.db import Database
from bot.storage.subscriptions import follow_everything

logger = logging.getLogger(__name__)


@dataclass
class NewsBot:
    """Everything a running bot holds. Built by :func:`open_bot`, closed by :meth:`close`."""

    settings: Settings
    db: Database
    cfg: AppConfig
    commands: Commands
    adapters: dict[str, ChatAdapter]
    outbox: Outbox  # holds the one registry of connected adapters (``outbox.adapters``)
    pipeline: Pipeline
    scheduler: BotScheduler | None = None

    factories: dict[str, Callable[[], ChatAdapter]] = field(default_factory=dict)
    connections: Connections | None = None
    health: HealthServer | None = None
    leadership: Leadership | None = None
    sqlite_guard: Leadership | None = None  # the `process:<role>` rows, on SQLite only
    digest_lead: DigestLead | None = None

    async def start_adapters(self, *, wait: float = 60.0) -> None:
        """Connect every enabled platform, retrying forever in the background: one that is
        unreachable stays registered as `retrying` and its alerts wait in the outbox."""
        # Only connected adapters post: the outbox's set fills as each one connects.
        self.outbox.adapters.clear()
        self.connections = Connections(self.adapters, self.outbox.adapters, self.factories)
        await self.connections.start(wait)

    def adapter_states(self) -> dict[str, tuple[str, str]]:
        if self.connections is None:
            return {name: ("stopped", "not started") for name in self.adapters}
        return self.connections.states()

    async def start_health(self, host: str, port: int | None, *, polls: bool = True) -> int | None:
        """Serve /healthz, /readyz and /metrics unless the port is off (None or 0)."""
        if not port:
            return None
        # Not ready when no cycle ended in two intervals (plus a minute for a slow cycle).
        max_age = 2 * self.cfg.poll.interval + 60 if polls else None
        self.health = HealthServer(self.db, self.adapter_states, max_age)
        return await self.health.start(host, port)

    async def start(self, roles: frozenset[str], *, owner: str | None = None) -> None:
        """Start what `roles` ask of this process (see `bot/roles.py`): the scheduler, the
        contention for single roles, and the local console. Raises SharingRefused on a SQLite
        database another live process already runs one of these roles on."""
        lease = self.cfg.poll.lease
        self.outbox.adapters.clear()
        self.connections = Connections(self.adapters, self.outbox.adapters, self.factories)
        self.scheduler = BotScheduler(
            self.pipeline.tick,
            interval=self.cfg.poll.interval,
            resume=self.pipeline.resume,
            resume_every=lease / 3,
        )
        digests = DigestLead(self.scheduler, self.outbox, self.commands.hooks)
        self.digest_lead = digests
        contended = [
            chat_role(self.connections, name[len("chat:") :]) if name.startswith("chat:")
            else Role(name, digests.gain, digests.lose)
            for name in leader_roles(roles, self.adapters)
        ]  # fmt: skip
        if self.db.dialect == "sqlite":
            # Checked before contending for anything: a refused process connects nowhere.
            exclusive = [Role(f"process:{r}") for r in sorted(roles)]
            self.sqlite_guard = Leadership(self.db, exclusive, lease=lease, owner=owner)
            await self.sqlite_guard.start()
            await check_sqlite_sharing(self.db, self.sqlite_guard, roles)
        self.leadership = Leadership(
            self.db, contended, lease=lease, owner=owner, drop_stale=self.sqlite_guard is None
        )
        await self.leadership.start()
        local = [p for p in self.adapters if p in LOCAL_PLATFORMS]
        if local and roles & {"chat", "deliver"}:
            await self.connections.start(names=local)
        self.connections.standby(
            [p for p in self.adapters if p not in LOCAL_PLATFORMS and not self.leads(f"chat:{p}")]
        )
        # The connections this process leads get their first attempt before the first cycle,
        # so its alerts go straight out rather than at the next flush.
        await self.connections.first_attempts(wait=60.0)
        if "ingest" in roles:
            self.scheduler.start()
        else:
            self.scheduler.scheduler.start()  # no polling here: digests and the outbox only
        if roles & {"chat", "deliver"}:
            # Also beside polling: another worker's alerts, or a dead chat leader's, wait
            # for the one holding the connection, not for its next cycle.
            add_flush_job(self.scheduler, self.pipeline.alerts.flush, lease / 3)

    def leads(self, role: str) -> bool:
        return self.leadership is not None and self.leadership.leads(role)

    async def start_schedule(self) -> BotScheduler:
        """Start polling, and rebuild the digest jobs and held-alert release from the database."""
        self.scheduler = BotScheduler(
            self.pipeline.tick,
            interval=self.cfg.poll.interval,
            resume=self.pipeline.resume,
            resume_every=self.cfg.poll.lease / 3,
        )
        self.scheduler.start()
        # The live set: a digest due while its platform is down waits like any alert.
        jobs = await start_digests(self.outbox, self.scheduler)
        self.commands.hooks.follow_schedule(self.scheduler.reschedule_poll, jobs.changed)
        return self.scheduler

    async def close(self) -> None:
        self.pipeline.stop()  # a long cycle gives its feeds back now, not after the grace
        # The cycle in progress finishes first, its alerts posted through connections still up;
        # then the roles are given back at once, so another worker takes them over.
        if self.scheduler is not None:
            await self.scheduler.shutdown()
        for held in (self.leadership, self.sqlite_guard):
            if held is not None:
                await held.stop()
        if self.health is not None:
            await self.health.stop()
        if self.connections is not None:
            await self.connections.stop()
        else:
            for adapter in self.adapters.values():
                try:
                    await adapter.stop()
                except Exception as exc:
                    logger.warning("%s adapter did not stop cleanly: %s", adapter.platform, exc)
        self.db.close()


async def open_bot(
    settings: Settings,
    cfg: AppConfig,
    *,
    out: TextIO | None = None,
    platforms: Sequence[str] | None = None,
    resolver: Resolver | None = None,
) -> NewsBot:
    """Open storage (migrating and seeding it), then build the adapters the tokens allow."""
    db = await asyncio.to_thread(Database.open, settings.database_url)
    await db.run(lambda s: seed(s, cfg))
    live = await db.run(load_runtime)
    commands = Commands(db, live)
    factories = _adapter_factories(settings, live, commands, out, platforms)
    adapters = {name: make() for name, make in factories.items()}
    if "console" in adapters:
        topics = [t.id for t in live.topics]
        channel = live.delivery.console_channel
        where = console_channel(channel)
        await db.run(lambda s: follow_everything(s, where, topics, now=datetime.now(UTC)))
    # The live registry starts as every adapter built; `start` empties it for the connections
    # to fill. Alerts, digests and held releases all post through this one outbox.
    outbox = Outbox(db, dict(adapters), lease=timedelta(seconds=live.poll.lease))
    pipeline = Pipeline(db, Alerts(outbox), resolver=resolver)
    return NewsBot(settings, db, live, commands, adapters, outbox, pipeline, factories=factories)


def _adapter_factories(
    settings: Settings,
    cfg: AppConfig,
    commands: Commands,
    out: TextIO | None,
    platforms: Sequence[str] | None,
) -> dict[str, Callable[[], ChatAdapter]]:
    """How to build each enabled platform's adapter (again, after it stopped)."""
    makers: dict[str, Callable[[], ChatAdapter]] = {}
    wanted = set(platforms) if platforms is not None else {"slack", "discord", "console"}
    # Imported only when configured: each platform library is slow to import.
    if "slack" in wanted and settings.slack_bot_token is not None:
        from bot.adapters.slack.adapter import SlackAdapter

        makers["slack"] = lambda: SlackAdapter(settings, commands, chat_setup(cfg))
    if "discord" in wanted and settings.discord_token is not None:
        from bot.adapters.discord.adapter import DiscordAdapter

        makers["discord"] = lambda: DiscordAdapter(settings, commands, chat_setup(cfg))
    if not makers and "console" in wanted:
        logger.info("no chat token set (SLACK_BOT_TOKEN, DISCORD_TOKEN): alerts print here")
        makers["console"] = lambda: ConsoleAdapter(out)
    return makers
