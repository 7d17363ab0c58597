"""`/news …` commands through the core on a real SQLite file: happy paths and user mistakes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.config import AppConfig, load_config
from bot.core.commands import Commands
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.storage.db import Database

CONFIG = Path(__file__).resolve().parents[2] / "config" / "newsbot.yaml"
NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("console", "local", "general", "general")
ALICE = UserRef("console", "local", "U1", "alice")


@pytest.fixture
def cfg() -> AppConfig:
    return load_config(CONFIG)


@pytest.fixture
def commands(sqlite_db: Database, cfg: AppConfig) -> Commands:
    return Commands(sqlite_db, cfg, clock=lambda: NOW)


async def run(commands: Commands, text: str, user: UserRef = ALICE,
              channel: ChannelRef = CHANNEL) -> Reply:  # fmt: skip
    return await commands.handle(Command(text, user, channel))


async def test_help_lists_the_commands_people_can_run(commands: Commands) -> None:
    reply = await run(commands, "help")
    assert reply.ok
    assert "/news subscribe <topic…>" in reply.text
    assert "admin feeds add" not in reply.text  # not an admin


async def test_unknown_command_suggests_the_closest(commands: Commands) -> None:
    reply = await run(commands, "subscrbe framework-agreement")
    assert not reply.ok and reply.ephemeral
    assert "did you mean `subscribe`?" in reply.text


async def test_topics_lists_all_nine(commands: Commands) -> None:
    reply = await run(commands, "topics")
    assert len(reply.fields) == 9
    assert "framework-agreement" in reply.fields[0].name


async def test_subscribe_then_subscriptions_then_unsubscribe(commands: Commands) -> None:
    reply = await run(commands, "subscribe framework-agreement military-exercises")
    assert reply.ok and not reply.ephemeral
    reply = await run(commands, "subscriptions")
    assert "framework-agreement, military-exercises" in reply.text
    assert any(f.name == "mode" and f.value == "realtime" for f in reply.fields)
    reply = await run(commands, "unsubscribe framework-agreement")
    assert reply.ok and "military-exercises" in reply.text
    assert "framework-agreement" not in reply.text


async def test_subscribe_to_a_misspelt_topic_names_the_closest(commands: Commands) -> None:
    reply = await run(commands, "subscribe framwork")
    assert not reply.ok
    assert "unknown topic `framwork`; did you mean `framework-agreement`?" in reply.text
    assert "Usage: `/news subscribe <topic…>`" in reply.text
    assert "follows no topics" in (await run(commands, "subscriptions")).text


async def test_subscribe_without_a_topic_shows_usage(commands: Commands) -> None:
    reply = await run(commands, "subscribe")
    assert not reply.ok and "missing <topic>" in reply.text


async def test_specs_cover_admin_commands(commands: Commands) -> None:
    names = {s.name for s in commands.specs()}
    assert {"admin feeds add", "admin revert", "digest daily", "subscribe"} <= names
    assert all(s.admin == s.name.startswith("admin") for s in commands.specs())


async def test_topic_completion(commands: Commands) -> None:
    assert await commands.complete("topic", "mil") == ["military-exercises"]
