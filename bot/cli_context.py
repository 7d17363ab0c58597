"""What every `newsbot` subcommand shares: the settings, the chosen config file, and one
transaction on the database (seeded from the file first if it is new)."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import click

from bot.config import AppConfig, ConfigError, load_config
from bot.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")


class BotContext:
    """What every subcommand shares: the environment settings and the chosen config file."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def config(self) -> AppConfig:
        from bot.core.actors import load_knowledge

        try:
            cfg = load_config(self.settings.config)
            load_knowledge()  # the actor knowledge is checked at start too, by file and line
            return cfg
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


def with_database(obj: BotContext, cfg: AppConfig, fn: Callable[[Session], T]) -> T:
    """One transaction on the database, seeded from ``cfg`` first if it is new."""
    from bot.storage.configstore import seed
    from bot.storage.db import Database

    db = Database.open(obj.settings.database_url)
    try:
        db.transaction(lambda s: seed(s, cfg))
        return db.transaction(fn)
    finally:
        db.close()


logger = logging.getLogger("bot.cli")


def on_signal(stop: asyncio.Event) -> None:
    """The first signal stops cleanly (the cycle finishes, leases are given back); a second
    one, while that runs, stops at once: every stage is leased and resumed after a kill."""
    if stop.is_set():
        logger.warning("second stop signal: exiting now; unfinished work resumes at the next start")
        os._exit(1)
    stop.set()


async def until_stopped(work: Awaitable[object], stop: asyncio.Event) -> bool:
    """Run ``work`` (the start: connections, leaders) unless a stop comes first; False then."""
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    waiter.cancel()
    if task.done():
        task.result()  # a failed start raises here
        return True
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    logger.info("stopping: a stop came while the bot was starting")
    return False
