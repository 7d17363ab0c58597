"""The `/news` tree (bot/adapters/discord/tree.py) as Discord receives it at sync, and option
values back to the core's command text."""

from __future__ import annotations

import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.tree import command_paths, command_text
from bot.core.commands import SPECS
from bot.storage.db import Database
from tests.adapters.discord.fixtures import (
    card,
    channel,
    discord_cfg,
    interact,
    start_adapter,
    sub,
    tree_characters,
    tree_child,
    tree_command,
)
from tests.fakes.fake_discord import FakeDiscord

# -- the command tree ------------------------------------------------------------------------


async def test_sync_sends_the_news_tree_mirroring_the_core_commands(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    news = tree_command(discord_fake, "news")
    subscribe_cmd = tree_child(news, "subscribe")
    assert subscribe_cmd["type"] == 1
    topic = tree_child(subscribe_cmd, "topic")
    assert topic["type"] == 3 and topic["required"] is True and topic["autocomplete"] is True
    admin = tree_child(news, "admin")
    assert admin["type"] == 2
    add = tree_child(admin, "feeds-add")
    assert [(o["name"], o.get("required", False)) for o in add["options"]] == [
        ("url", True),
        ("name", False),
    ]
    assert {o["name"] for o in tree_child(news, "digest")["options"]} == {"daily", "weekly", "off"}
    assert {o["name"] for o in tree_child(news, "quiet")["options"]} == {"set", "off"}
    mode = tree_child(tree_child(news, "mode"), "mode")
    assert [c["value"] for c in mode["choices"]] == ["realtime", "digest", "both"]
    dry_run = tree_child(tree_child(admin, "threshold"), "dry-run")
    assert dry_run["type"] == 5  # boolean
    assert tree_child(tree_child(news, "latest"), "n")["type"] == 4  # integer
    # one Discord subcommand per core command
    leaves = sum(len(o.get("options", [])) if o["type"] == 2 else 1 for o in news["options"])
    assert leaves == len(SPECS)
    # Discord refuses a command whose names, descriptions and choices exceed 4000 characters
    # (raised to 8000 in 2024); stay under the old limit.
    assert tree_characters(news) < 4000


async def test_commands_are_synced_to_the_configured_guilds(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    cfg = discord_cfg(discord_guilds=[str(discord_fake.guild_id)])
    adapter = await start_adapter(discord_fake, sqlite_db, cfg)
    try:
        assert discord_fake.calls_to("PUT", r"/applications/\d+/guilds/\d+/commands")
        assert not discord_fake.calls_to("PUT", r"/applications/\d+/commands")
        assert tree_command(discord_fake, "news", discord_fake.guild_id)
        payload = await interact(
            discord_fake,
            discord_fake.interaction_payload(
                "news", [sub("topics")], command_guild_id=discord_fake.guild_id
            ),
        )
        assert "3 topics" in payload["data"]["content"]
    finally:
        await adapter.stop()


async def test_a_refused_command_registration_still_lets_alerts_through(
    discord_fake: FakeDiscord, sqlite_db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    discord_fake.fail_next(
        "PUT", r"/applications/\d+/commands", status=400, code=50035, message="Invalid Form Body"
    )
    adapter = await start_adapter(discord_fake, sqlite_db)
    try:
        assert "registering /news in all servers (global) failed: 400" in caplog.text
        await adapter.post(channel(discord_fake), card(), delivery_id=1)
        assert discord_fake.channel_messages(discord_fake.channel_id)
    finally:
        await adapter.stop()


def test_every_core_command_has_a_distinct_discord_path() -> None:
    paths = command_paths(SPECS)
    assert len(set(paths.values())) == len(SPECS)
    assert all(p.leaf and len(p.leaf) <= 32 for p in paths.values())


def test_slash_options_turn_back_into_the_core_command_text() -> None:
    specs = {s.name: s for s in SPECS}
    assert command_text(specs["subscribe"], {"topic": "a, b c"}) == "subscribe a b c"
    assert (
        command_text(specs["quiet"], {"hours": "22:00-07:00", "tz": "Asia/Kolkata"})
        == "quiet 22:00-07:00 Asia/Kolkata"
    )
    assert (
        command_text(specs["admin threshold"], {"target": "x", "value": "0.6", "dry-run": True})
        == "admin threshold x 0.6 --dry-run"
    )
    assert (
        command_text(specs["admin feeds add"], {"url": "https://a.example/rss", "name": "A B"})
        == "admin feeds add https://a.example/rss 'A B'"
    )
