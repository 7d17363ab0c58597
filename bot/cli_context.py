"""What every `newsbot` subcommand shares: the settings, the chosen config file, and one
transaction on the database (seeded from the file first if it is new)."""

from __future__ import annotations

from collections.abc import Callable
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
