"""Fixtures for the Slack adapter's tests: the config, a started fake Slack, the core's
commands on a SQLite database, and a started adapter (HTTP mode) pointed at the fake."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.adapters.slack.adapter import SlackAdapter
from bot.config import AppConfig
from bot.core.chat import chat_setup
from bot.core.commands import Commands
from bot.storage.db import Database
from tests.adapters.slack.fixtures import (
    slack_settings,
)
from tests.fakes.fake_slack import FakeSlack


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def commands(sqlite_db: Database, cfg: AppConfig) -> Commands:
    return Commands(sqlite_db, cfg)


@pytest_asyncio.fixture
async def adapter(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> AsyncIterator[SlackAdapter]:
    bot = SlackAdapter(slack_settings(fake), commands, chat_setup(cfg))
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
