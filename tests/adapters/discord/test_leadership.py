"""Three workers on one PostgreSQL database and one Discord bot token: exactly one gateway
session and one `/news` registration at a time, each command answered once, and the
connection taken over within a lease period when its worker dies. Real discord.py against
the loopback fake Discord."""

from __future__ import annotations

import asyncio
import io

from bot.app import NewsBot, open_bot
from bot.roles import expand
from bot.settings import Settings
from tests.adapters.discord.fixtures import discord_cfg, discord_settings, sub
from tests.fakes._loopback import wait_until
from tests.fakes.fake_discord import FakeDiscord
from tests.test_roles import LEASE, pg_url  # noqa: F401  (pg_url: the fixture)


def _live_sessions(fake: FakeDiscord) -> int:
    return sum(1 for s in fake.gateway_sessions if s.identified and not s.ws.closed)


async def _worker(fake: FakeDiscord, url: str) -> NewsBot:
    values = discord_settings(fake).model_dump() | {"database_url": url}
    cfg = discord_cfg()
    cfg = cfg.model_copy(
        update={"poll": cfg.poll.model_copy(update={"lease": LEASE, "interval": 3600.0})}
    )
    settings = Settings.model_validate(values, by_name=True)
    return await open_bot(settings, cfg, out=io.StringIO(), platforms=["discord"])


def _leaders(bots: list[NewsBot]) -> list[NewsBot]:
    return [b for b in bots if b.adapter_states().get("discord", ("", ""))[0] == "connected"]


async def test_one_gateway_session_and_one_registration_among_workers(
    discord_fake: FakeDiscord,
    pg_url: str,  # noqa: F811
) -> None:
    bots = [await _worker(discord_fake, pg_url) for _ in range(3)]
    try:
        for n, bot in enumerate(bots):
            await bot.start(expand("all"), owner=f"worker-{n}:1")
        await wait_until(lambda: len(_leaders(bots)) == 1, timeout=15)
        assert _live_sessions(discord_fake) == 1
        assert len(discord_fake.identifies) == 1
        registrations = discord_fake.calls_to("PUT", r"/applications/\d+/commands")
        assert len(registrations) == 1

        payload = await discord_fake.send_slash_command("news", [sub("topics")])
        await wait_until(lambda: discord_fake.interaction_callbacks(payload), timeout=10)
        await asyncio.sleep(0.5)  # a second answer, if any, would come now
        assert len(discord_fake.interaction_callbacks(payload)) == 1

        # The leader dies: its lease lapses and another worker connects.
        [dead] = _leaders(bots)
        assert dead.leadership is not None and dead.connections is not None
        await dead.leadership.stop_renewing()
        await dead.connections.stop()
        others = [b for b in bots if b is not dead]
        await wait_until(lambda: len(_leaders(others)) == 1, timeout=3 * LEASE)
        await wait_until(lambda: _live_sessions(discord_fake) == 1, timeout=10)
        assert len(discord_fake.identifies) == 2
    finally:
        for bot in bots:
            await bot.close()
