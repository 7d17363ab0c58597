"""Fixtures for the Discord adapter's tests: a started fake Discord, an adapter connected to it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.storage.db import Database
from tests.adapters.discord.fixtures import (
    pin_discord_endpoints,
    start_adapter,
)
from tests.fakes.fake_discord import FakeDiscord


@pytest.fixture
async def discord_fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    pin_discord_endpoints(monkeypatch)
    fake = FakeDiscord()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture
async def discord_adapter(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> AsyncIterator[DiscordAdapter]:
    """A DiscordAdapter logged in to the fake and past READY."""
    adapter = await start_adapter(discord_fake, sqlite_db)
    try:
        yield adapter
    finally:
        await adapter.stop()
