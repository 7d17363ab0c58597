"""Discord interactions (bot/adapters/discord/inbound.py): slash commands, autocomplete, the
admin check, deferred answers and the alert buttons, against the loopback fake Discord."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.embeds import render_reply
from bot.core.models import Command, UserRef
from bot.storage.db import Database
from bot.storage.tables import FeedbackRow, SubscriptionRow
from tests.adapters.discord.fixtures import (
    ALICE,
    EPHEMERAL,
    MANAGE_GUILD,
    TOPICS,
    card,
    channel,
    discord_cfg,
    group,
    interact,
    option,
    start_adapter,
    sub,
)
from tests.adapters.storydata import add_story
from tests.fakes.fake_discord import FakeDiscord

# -- interactions -----------------------------------------------------------------------------


async def test_news_subscribe_is_answered_in_the_channel_and_stored(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    payload = discord_fake.interaction_payload(
        "news", [sub("subscribe", option("topic", "framework-agreement joint-exercises"))]
    )
    body = await interact(discord_fake, payload)
    assert body["type"] == 4
    assert "framework-agreement, joint-exercises" in body["data"]["content"]
    assert not body["data"].get("flags", 0) & EPHEMERAL  # the channel sees what it follows
    assert body["data"]["allowed_mentions"] == {"parse": []}
    rows = sqlite_db.transaction(lambda s: s.scalars(select(SubscriptionRow)).all())
    assert [(r.platform, r.workspace, r.channel, r.topics) for r in rows] == [
        ("discord", str(discord_fake.guild_id), str(discord_fake.channel_id),
         ["framework-agreement", "joint-exercises"]),
    ]  # fmt: skip


async def test_a_wrong_argument_gets_a_private_answer_with_the_usage(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload(
        "news", [sub("subscribe", option("topic", "framework-agreemnt"))]
    )
    body = await interact(discord_fake, payload)
    assert body["data"]["flags"] & EPHEMERAL
    assert "framework-agreement" in body["data"]["content"]  # the closest valid topic
    assert "Usage" in body["data"]["content"]


async def test_autocomplete_suggests_topic_ids(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload(
        "news",
        [sub("subscribe", option("topic", "joint-exercises de", focused=True))],
        interaction_type=4,
    )
    body = await interact(discord_fake, payload)
    assert body["type"] == 8
    assert [c["value"] for c in body["data"]["choices"]] == ["joint-exercises defence-industry"]


async def test_autocomplete_with_nothing_typed_lists_every_topic(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload(
        "news", [sub("latest", option("topic", "", focused=True))], interaction_type=4
    )
    body = await interact(discord_fake, payload)
    assert [c["value"] for c in body["data"]["choices"]] == list(TOPICS)


async def test_time_zones_autocomplete_from_the_tz_database(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload(
        "news",
        [
            group(
                "digest", sub("daily", option("time", "08:00"), option("tz", "kolk", focused=True))
            )
        ],
        interaction_type=4,
    )
    body = await interact(discord_fake, payload)
    assert [c["value"] for c in body["data"]["choices"]] == ["Asia/Kolkata"]


async def test_an_admin_command_from_a_member_without_manage_server_is_refused(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload("news", [group("admin", sub("feeds-list"))])
    body = await interact(discord_fake, payload)
    assert body["data"]["content"].startswith("admins only")
    assert body["data"]["flags"] & EPHEMERAL


@pytest.mark.parametrize(
    ("how", "owner"), [("manage server", False), ("admin role", False), ("admin user", True)]
)
async def test_bot_wide_settings_are_for_configured_owners_not_server_admins(
    discord_fake: FakeDiscord, sqlite_db: Database, how: str, owner: bool
) -> None:
    # Any server the bot is in has members with Manage Server: they must not change the feeds
    # and topics every other server sees, only their own channels' settings.
    role_id = "777777777777777777"
    discord_fake.guilds[discord_fake.guild_id]["roles"].append(
        {"id": role_id, "name": "news-admins", "permissions": "0", "position": 1, "color": 0,
         "hoist": False, "managed": False, "mentionable": False, "flags": 0}
    )  # fmt: skip
    cfg = discord_cfg(admins={"discord_roles": ["news-admins"], "discord_users": ["123"]})
    adapter = await start_adapter(discord_fake, sqlite_db, cfg)
    kwargs: dict[str, Any] = {
        "manage server": {"permissions": MANAGE_GUILD},
        "admin role": {"roles": [role_id]},
        "admin user": {"user_id": 123},
    }[how]
    try:
        payload = discord_fake.interaction_payload(
            "news", [group("admin", sub("feeds-list"))], **kwargs
        )
        body = await interact(discord_fake, payload)
        assert ("admins only" not in body["data"]["content"]) is owner, body["data"]["content"]
        # Their own channel's settings are theirs either way.
        payload = discord_fake.interaction_payload(
            "news", [sub("subscribe", option("topic", "joint-exercises"))], **kwargs
        )
        body = await interact(discord_fake, payload)
        assert "joint-exercises" in body["data"]["content"]
        rows = sqlite_db.transaction(lambda s: s.scalars(select(SubscriptionRow)).all())
        assert [(r.workspace, r.channel) for r in rows] == [
            (str(discord_fake.guild_id), str(discord_fake.channel_id))
        ]
    finally:
        await adapter.stop()


async def test_slow_commands_are_deferred_then_answered_by_followup(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    adapter = await start_adapter(discord_fake, sqlite_db, defer_after=0)
    try:
        payload = discord_fake.interaction_payload(
            "news", [sub("subscribe", option("topic", "joint-exercises"))]
        )
        body = await interact(discord_fake, payload)
        assert body["type"] == 5  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: "thinking…"
        followups = await discord_fake.wait_for_call("POST", r"/webhooks/\d+/[^/]+")
        # the private "thinking…" placeholder makes way for the public answer
        assert discord_fake.calls_to("DELETE", r"/webhooks/\d+/[^/]+/messages/@original")
        assert "joint-exercises" in followups[0].json["content"]
        assert not followups[0].json.get("flags", 0) & EPHEMERAL
        assert followups[0].json["allowed_mentions"] == {"parse": []}
    finally:
        await adapter.stop()


async def test_not_relevant_button_stores_feedback_and_answers_privately(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7")
    await discord_adapter.post(channel(discord_fake), card(story_key="s7"), delivery_id=1)
    [alert] = discord_fake.channel_messages(discord_fake.channel_id)
    payload = discord_fake.interaction_payload(
        "", interaction_type=3, data_extra={"custom_id": "newsbot:nr:s7", "component_type": 2}
    )
    payload["message"] = alert  # the click arrives with the alert it was on
    body = await interact(discord_fake, payload)
    assert body["data"]["flags"] & EPHEMERAL
    rows = sqlite_db.transaction(lambda s: s.scalars(select(FeedbackRow)).all())
    assert [(r.user, r.verdict) for r in rows] == [(str(ALICE), "not_relevant")]


async def test_why_this_button_asks_the_core_and_answers_only_the_clicker(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    add_story(sqlite_db, key="s7")
    await discord_adapter.post(channel(discord_fake), card(story_key="s7"), delivery_id=1)
    [alert] = discord_fake.channel_messages(discord_fake.channel_id)
    payload = discord_fake.interaction_payload(
        "", interaction_type=3, data_extra={"custom_id": "newsbot:why:s7", "component_type": 2}
    )
    payload["message"] = alert
    body = await interact(discord_fake, payload)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    assert body["data"]["allowed_mentions"] == {"parse": []}
    expected = await discord_adapter.commands.handle(
        Command("why s7", UserRef("discord", str(discord_fake.guild_id), str(ALICE)),
                channel(discord_fake))
    )  # fmt: skip
    assert body["data"]["content"] == render_reply(expected).content


async def test_a_slow_private_answer_stays_private(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    adapter = await start_adapter(discord_fake, sqlite_db, defer_after=0)
    try:
        payload = discord_fake.interaction_payload("news", [sub("subscriptions")])
        body = await interact(discord_fake, payload)
        assert body["type"] == 5 and body["data"]["flags"] & EPHEMERAL
        [followup] = await discord_fake.wait_for_call("POST", r"/webhooks/\d+/[^/]+")
        assert followup.json["flags"] & EPHEMERAL
        assert not discord_fake.calls_to("DELETE", r"/webhooks/.*")  # nothing to replace
    finally:
        await adapter.stop()


async def test_admin_export_arrives_as_a_yaml_file_only_the_owner_sees(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    adapter = await start_adapter(
        discord_fake, sqlite_db, discord_cfg(admins={"discord_users": ["123"]})
    )
    try:
        payload = discord_fake.interaction_payload(
            "news", [group("admin", sub("export"))], user_id=123
        )
        body = await interact(discord_fake, payload)
        assert body["data"]["flags"] & EPHEMERAL
        assert "config apply newsbot-config.yaml" in body["data"]["content"]
        (upload,) = discord_fake.uploads
        assert upload["filename"] == "newsbot-config.yaml"
        exported = yaml.safe_load(upload["data"].decode("utf-8"))
        assert [t["id"] for t in exported["topics"]] == [
            "framework-agreement",
            "defence-industry",
            "joint-exercises",
        ]
    finally:
        await adapter.stop()
