"""Helpers for the Discord adapter tests: settings aimed at the fake, payloads, stored stories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import discord.gateway
import discord.http
import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.config import AppConfig
from bot.core.chat import chat_setup
from bot.core.commands import Commands
from bot.core.models import ChannelRef, SourceLink, StoryCard
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.tables import SubscriptionRow
from tests.fakes._loopback import wait_until
from tests.fakes.fake_discord import FakeDiscord

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ALICE = 666666666666666666  # a member of the fake guild without Manage Server
MANAGE_GUILD = str(1 << 5)
TOPICS = ("framework-agreement", "defence-industry", "joint-exercises")


def discord_cfg(**extra: Any) -> AppConfig:
    """A small config: three topics, optional admin roles/users and guilds."""
    return AppConfig.model_validate(
        {
            "topics": [
                {"id": "framework-agreement", "name": "Framework agreement", "description": "x"},
                {"id": "defence-industry", "name": "Defence industry", "description": "y"},
                {"id": "joint-exercises", "name": "Joint exercises", "description": "z"},
            ],
            "matching": {"us_actors": ["US"], "india_actors": ["India"]},
            **extra,
        }
    )


def discord_settings(fake: FakeDiscord, token: str | None = None) -> Settings:
    values: dict[str, Any] = {
        "DISCORD_TOKEN": token or fake.token,
        "DISCORD_API_URL": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
    }
    return Settings(**values)


def pin_discord_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register discord.py's two endpoint class attributes for restoring after the test.

    The adapter points them at the fake from its settings; monkeypatch puts them back.
    """
    monkeypatch.setattr(discord.http.Route, "BASE", discord.http.Route.BASE)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket,
        "DEFAULT_GATEWAY",
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY,
    )


async def start_adapter(
    fake: FakeDiscord,
    db: Database,
    cfg: AppConfig | None = None,
    *,
    token: str | None = None,
    **kwargs: Any,
) -> DiscordAdapter:
    cfg = cfg or discord_cfg()
    adapter = DiscordAdapter(
        discord_settings(fake, token),
        Commands(db, cfg, clock=lambda: NOW),
        chat_setup(cfg),
        guild_ready_timeout=0.05,
        ready_timeout=5,
        **kwargs,
    )
    await adapter.start()
    return adapter


def channel(fake: FakeDiscord, channel_id: int | None = None) -> ChannelRef:
    return ChannelRef("discord", str(fake.guild_id), str(channel_id or fake.channel_id), "news")


def card(
    *,
    headline: str = "India and US sign 10-year defence framework",
    extract: str = "The two defence ministers signed the framework in Kuala Lumpur.",
    outlets: tuple[tuple[str, str, str], ...] = (
        ("The Hindu", "India, US sign defence framework", "https://www.thehindu.com/a"),
    ),
    story_key: str = "s7",
) -> StoryCard:
    return StoryCard(
        story_id=7,
        story_key=story_key,
        headline=headline,
        extract=extract,
        topics=("framework-agreement",),
        sources=tuple(SourceLink(o, t, u, NOW) for o, t, u in outlets),
        first_seen=NOW,
    )


def option(name: str, value: Any, *, focused: bool = False, kind: int = 3) -> dict[str, Any]:
    opt: dict[str, Any] = {"name": name, "type": kind, "value": value}
    if focused:
        opt["focused"] = True
    return opt


def sub(name: str, *options: dict[str, Any]) -> dict[str, Any]:
    """A subcommand (type 1) with its options."""
    return {"name": name, "type": 1, "options": list(options)}


def group(name: str, leaf: dict[str, Any]) -> dict[str, Any]:
    """A subcommand group (type 2) holding one subcommand."""
    return {"name": name, "type": 2, "options": [leaf]}


def subscribe(db: Database, fake: FakeDiscord, **extra: Any) -> int:
    def write(s: Any) -> int:
        row = SubscriptionRow(platform="discord", workspace=str(fake.guild_id),
                              channel=str(extra.pop("channel", fake.channel_id)),
                              channel_name="news", topics=["framework-agreement"],
                              since=NOW - timedelta(days=1), **extra)  # fmt: skip
        s.add(row)
        s.flush()
        return int(row.id)

    return db.transaction(write)


EPHEMERAL = 64
MESSAGES = r"/channels/\d+/messages"


def tree_command(fake: FakeDiscord, name: str, guild: int | None = None) -> dict[str, Any]:
    return next(c for c in fake.commands[guild] if c["name"] == name)


def tree_characters(node: dict[str, Any]) -> int:
    own = len(node["name"]) + len(node.get("description", ""))
    own += sum(len(c["name"]) + len(str(c["value"])) for c in node.get("choices") or [])
    return own + sum(tree_characters(o) for o in node.get("options") or [])


def tree_child(node: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in node["options"] if o["name"] == name)


async def interact(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """Dispatch an interaction and return the JSON body of the bot's callback."""
    await fake.dispatch("INTERACTION_CREATE", payload)
    await wait_until(lambda: fake.interaction_callbacks(payload), 5, what="interaction callback")
    body = fake.interaction_callbacks(payload)[0].json
    assert isinstance(body, dict)
    return body
