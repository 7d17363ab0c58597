"""The Discord adapter: real discord.py against a fake Discord REST API and gateway on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.adapters.discord.adapter import BOT_PERMISSIONS, DiscordAdapter, invite_url
from bot.adapters.discord.embeds import render_reply
from bot.adapters.discord.tree import command_paths, command_text
from bot.core.chat import AdapterStopped, ChannelUnavailable, DeliveryError
from bot.core.commands import SPECS
from bot.core.models import Command, UserRef
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow, FeedbackRow, SubscriptionRow
from tests.adapters.discord.fixtures import (
    ALICE,
    MANAGE_GUILD,
    NOW,
    TOPICS,
    card,
    channel,
    discord_cfg,
    group,
    option,
    pin_discord_endpoints,
    start_adapter,
    sub,
    subscribe,
)
from tests.adapters.storydata import add_report, add_story
from tests.fakes._loopback import wait_until
from tests.fakes.fake_discord import FakeDiscord

EPHEMERAL = 64
MESSAGES = r"/channels/\d+/messages"


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


def _command(fake: FakeDiscord, name: str, guild: int | None = None) -> dict[str, Any]:
    return next(c for c in fake.commands[guild] if c["name"] == name)


def _characters(node: dict[str, Any]) -> int:
    own = len(node["name"]) + len(node.get("description", ""))
    own += sum(len(c["name"]) + len(str(c["value"])) for c in node.get("choices") or [])
    return own + sum(_characters(o) for o in node.get("options") or [])


def _child(node: dict[str, Any], name: str) -> dict[str, Any]:
    return next(o for o in node["options"] if o["name"] == name)


async def _answer(fake: FakeDiscord, payload: dict[str, Any]) -> dict[str, Any]:
    """Dispatch an interaction and return the JSON body of the bot's callback."""
    await fake.dispatch("INTERACTION_CREATE", payload)
    await wait_until(lambda: fake.interaction_callbacks(payload), 5, what="interaction callback")
    body = fake.interaction_callbacks(payload)[0].json
    assert isinstance(body, dict)
    return body


# -- connecting ------------------------------------------------------------------------------


async def test_logs_in_and_reaches_ready_with_only_the_guilds_intent(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    assert discord_adapter.client is not None and discord_adapter.client.is_ready()
    assert discord_fake.calls_to("GET", "/users/@me")
    assert discord_fake.identifies[0]["token"] == discord_fake.token
    assert discord_fake.identifies[0]["intents"] == discord.Intents(guilds=True).value == 1


async def test_a_rejected_token_stops_the_adapter_with_a_clear_message(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    with pytest.raises(AdapterStopped, match="rejected DISCORD_TOKEN") as raised:
        await start_adapter(discord_fake, sqlite_db, token="revoked-token")
    assert "revoked-token" not in str(raised.value)


async def test_a_gateway_reconnect_resumes_the_session(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    await discord_fake.send_reconnect()
    await wait_until(lambda: discord_fake.resumes, 5, what="RESUME")
    assert discord_fake.resumes[0]["session_id"] == discord_fake.gateway_sessions[0].session_id
    assert len(discord_fake.identifies) == 1  # resumed, not a fresh session


def test_invite_url_asks_for_bot_and_commands_scopes_and_the_needed_permissions() -> None:
    url = invite_url(111)
    assert "scope=bot+applications.commands" in url
    assert f"permissions={BOT_PERMISSIONS.value}" in url
    assert BOT_PERMISSIONS.value == 309237730304  # the integer the README explains
    assert not BOT_PERMISSIONS.administrator and not BOT_PERMISSIONS.mention_everyone


# -- the command tree ------------------------------------------------------------------------


async def test_sync_sends_the_news_tree_mirroring_the_core_commands(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    news = _command(discord_fake, "news")
    subscribe_cmd = _child(news, "subscribe")
    assert subscribe_cmd["type"] == 1
    topic = _child(subscribe_cmd, "topic")
    assert topic["type"] == 3 and topic["required"] is True and topic["autocomplete"] is True
    admin = _child(news, "admin")
    assert admin["type"] == 2
    add = _child(admin, "feeds-add")
    assert [(o["name"], o.get("required", False)) for o in add["options"]] == [
        ("url", True),
        ("name", False),
    ]
    assert {o["name"] for o in _child(news, "digest")["options"]} == {"daily", "weekly", "off"}
    assert {o["name"] for o in _child(news, "quiet")["options"]} == {"set", "off"}
    mode = _child(_child(news, "mode"), "mode")
    assert [c["value"] for c in mode["choices"]] == ["realtime", "digest", "both"]
    dry_run = _child(_child(admin, "threshold"), "dry-run")
    assert dry_run["type"] == 5  # boolean
    assert _child(_child(news, "latest"), "n")["type"] == 4  # integer
    # one Discord subcommand per core command
    leaves = sum(len(o.get("options", [])) if o["type"] == 2 else 1 for o in news["options"])
    assert leaves == len(SPECS)
    # Discord refuses a command whose names, descriptions and choices exceed 4000 characters
    # (raised to 8000 in 2024); stay under the old limit.
    assert _characters(news) < 4000


async def test_commands_are_synced_to_the_configured_guilds(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    cfg = discord_cfg(discord_guilds=[str(discord_fake.guild_id)])
    adapter = await start_adapter(discord_fake, sqlite_db, cfg)
    try:
        assert discord_fake.calls_to("PUT", r"/applications/\d+/guilds/\d+/commands")
        assert not discord_fake.calls_to("PUT", r"/applications/\d+/commands")
        assert _command(discord_fake, "news", discord_fake.guild_id)
        payload = await _answer(
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


# -- interactions -----------------------------------------------------------------------------


async def test_news_subscribe_is_answered_in_the_channel_and_stored(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    payload = discord_fake.interaction_payload(
        "news", [sub("subscribe", option("topic", "framework-agreement joint-exercises"))]
    )
    body = await _answer(discord_fake, payload)
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
    body = await _answer(discord_fake, payload)
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
    body = await _answer(discord_fake, payload)
    assert body["type"] == 8
    assert [c["value"] for c in body["data"]["choices"]] == ["joint-exercises defence-industry"]


async def test_autocomplete_with_nothing_typed_lists_every_topic(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload(
        "news", [sub("latest", option("topic", "", focused=True))], interaction_type=4
    )
    body = await _answer(discord_fake, payload)
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
    body = await _answer(discord_fake, payload)
    assert [c["value"] for c in body["data"]["choices"]] == ["Asia/Kolkata"]


async def test_an_admin_command_from_a_member_without_manage_server_is_refused(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    payload = discord_fake.interaction_payload("news", [group("admin", sub("feeds-list"))])
    body = await _answer(discord_fake, payload)
    assert body["data"]["content"].startswith("admins only")
    assert body["data"]["flags"] & EPHEMERAL


@pytest.mark.parametrize("how", ["manage server", "admin role", "admin user"])
async def test_admins_are_members_with_manage_server_or_a_configured_role_or_id(
    discord_fake: FakeDiscord, sqlite_db: Database, how: str
) -> None:
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
        body = await _answer(discord_fake, payload)
        assert "admins only" not in body["data"]["content"]
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
        body = await _answer(discord_fake, payload)
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
    body = await _answer(discord_fake, payload)
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
    body = await _answer(discord_fake, payload)
    assert body["type"] == 4 and body["data"]["flags"] & EPHEMERAL
    assert body["data"]["allowed_mentions"] == {"parse": []}
    expected = await discord_adapter.commands.handle(
        Command("why s7", UserRef("discord", str(discord_fake.guild_id), str(ALICE)),
                channel(discord_fake))
    )  # fmt: skip
    assert body["data"]["content"] == render_reply(expected).content


# -- posting stories ---------------------------------------------------------------------------


async def test_a_story_is_posted_as_an_embed_with_buttons_and_a_nonce(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    ref = await discord_adapter.post(channel(discord_fake), card(), delivery_id=41)
    [call] = discord_fake.calls_to("POST", MESSAGES)
    body = call.json
    assert body["nonce"] == "41" and body["enforce_nonce"] is True
    assert body["allowed_mentions"] == {"parse": []}
    [embed] = body["embeds"]
    assert embed["title"] == "India and US sign 10-year defence framework"
    assert embed["url"] == "https://www.thehindu.com/a"
    assert embed["footer"]["text"] == "story s7"
    assert [f["name"] for f in embed["fields"]] == ["Topics", "Reported by 1 outlet", "When"]
    stamp = int(NOW.timestamp())  # the fixture card has no publication time
    assert embed["fields"][2]["value"] == f"publication time unknown · first seen <t:{stamp}:f>"
    assert embed["fields"][1]["value"] == "[The Hindu](https://www.thehindu.com/a)"
    buttons = body["components"][0]["components"]
    assert [(b["label"], b["custom_id"]) for b in buttons] == [
        ("Why this?", "newsbot:why:s7"),
        ("Not relevant", "newsbot:nr:s7"),
    ]
    assert ref.message_id == discord_fake.channel_messages(discord_fake.channel_id)[0]["id"]


async def test_a_feed_title_with_everyone_never_pings(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    hostile = card(headline="@everyone **urgent** <@&123456789012345678> news")
    await discord_adapter.post(channel(discord_fake), hostile, delivery_id=1)
    body = discord_fake.calls_to("POST", MESSAGES)[0].json
    assert body["allowed_mentions"] == {"parse": []}
    title = body["embeds"][0]["title"]
    assert "@everyone" not in title and "<@&" not in title
    assert "\\*\\*urgent\\*\\*" in title


async def test_a_429_is_retried_by_discord_py_and_the_story_is_sent_once(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    discord_fake.rate_limit_next("POST", MESSAGES, retry_after=0.2)
    await discord_adapter.post(channel(discord_fake), card(), delivery_id=5)
    calls = discord_fake.calls_to("POST", MESSAGES)
    assert len(calls) == 2 and calls[1].at - calls[0].at >= 0.19  # waited retry_after
    assert {c.json["nonce"] for c in calls} == {"5"}
    assert len(discord_fake.channel_messages(discord_fake.channel_id)) == 1


async def test_a_repeated_post_with_the_same_delivery_id_is_not_a_second_message(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    first = await discord_adapter.post(channel(discord_fake), card(), delivery_id=9)
    again = await discord_adapter.post(channel(discord_fake), card(), delivery_id=9)
    assert first == again
    assert len(discord_fake.channel_messages(discord_fake.channel_id)) == 1


@pytest.mark.parametrize(
    ("status", "code"), [(403, 50013), (403, 50001), (404, 10003)], ids=["perm", "access", "gone"]
)
async def test_missing_channel_or_permission_is_channel_unavailable(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, status: int, code: int
) -> None:
    discord_fake.fail_next("POST", MESSAGES, status=status, code=code, message="Missing")
    with pytest.raises(ChannelUnavailable):
        await discord_adapter.post(channel(discord_fake), card(), delivery_id=1)


async def test_a_later_report_in_a_thread_channel_replies_in_the_story_thread(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    ref = await discord_adapter.post(channel(discord_fake), card(), delivery_id=1)
    later = card().sources[0].__class__("Reuters", "@here India, US deal", "https://r.example/b")
    reply = await discord_adapter.reply_in_thread(ref, later)
    assert reply.thread_id == ref.message_id
    [thread_call] = discord_fake.calls_to("POST", r"/channels/\d+/messages/\d+/threads")
    assert thread_call.path.endswith(f"/messages/{ref.message_id}/threads")
    [in_thread] = discord_fake.calls_to("POST", rf"/channels/{ref.message_id}/messages")
    assert (
        in_thread.json["content"] == "Reuters: [@\u200bhere India, US deal](<https://r.example/b>)"
    )
    assert in_thread.json["allowed_mentions"] == {"parse": []}
    # a second later report goes to the same thread without opening another
    again = await discord_adapter.reply_in_thread(reply, later)
    assert again.thread_id == ref.message_id
    assert len(discord_fake.calls_to("POST", r"/channels/\d+/messages/\d+/threads")) == 1


async def test_a_digest_is_one_message(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    cards = [card(story_key=f"s{i}", headline=f"Story {i}") for i in range(30)]
    await discord_adapter.post_digest(channel(discord_fake), "Daily digest", cards, delivery_id=3)
    [call] = discord_fake.calls_to("POST", MESSAGES)
    assert call.json["embeds"][0]["title"] == "Daily digest"
    text = "\n".join(e["description"] for e in call.json["embeds"])
    assert all(f"story s{i}" in text for i in range(30))
    assert call.json["allowed_mentions"] == {"parse": []}
    assert call.json["nonce"] == "3"


async def test_admins_are_told_by_direct_message(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    await discord_adapter.notify_admins(str(discord_fake.guild_id), "paused #news: @everyone")
    [dm] = discord_fake.calls_to("POST", "/users/@me/channels")
    assert int(dm.json["recipient_id"]) == discord_fake.owner_id
    sent = discord_fake.calls_to("POST", MESSAGES)[-1].json
    assert "@\u200beveryone" in sent["content"] and sent["allowed_mentions"] == {"parse": []}


# -- end to end with the core's delivery -------------------------------------------------------


def _delivery(db: Database, adapter: DiscordAdapter) -> Any:
    # The outbox lands in parallel with this adapter; until bot.core.summaries exists it skips.
    pytest.importorskip(
        "bot.core.summaries", reason="bot.core.summaries (card loading) not there yet"
    )
    from bot.core.delivery import Delivery

    return Delivery(db, {"discord": adapter}, clock=lambda: NOW)


async def test_subscribed_channel_gets_an_embed_then_an_edit_for_a_second_outlet(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    subscribe(sqlite_db, discord_fake)
    story_id = add_story(sqlite_db)
    delivery = _delivery(sqlite_db, discord_adapter)
    await delivery.plan([story_id])
    await delivery.flush()
    [message] = discord_fake.channel_messages(discord_fake.channel_id)
    assert message["embeds"][0]["fields"][1]["name"] == "Reported by 1 outlet"

    sqlite_db.transaction(
        lambda s: add_report(s, story_id, "Reuters", "US, India deal", "https://r.example/b", NOW)
    )
    await delivery.plan([story_id])
    await delivery.flush()
    assert len(discord_fake.calls_to("POST", MESSAGES)) == 1  # no second message
    [edit] = discord_fake.calls_to("PATCH", rf"{MESSAGES}/\d+")
    assert edit.path.endswith(f"/messages/{message['id']}")
    [message] = discord_fake.channel_messages(discord_fake.channel_id)
    outlets = message["embeds"][0]["fields"][1]
    assert outlets["name"] == "Reported by 2 outlets"
    assert "[Reuters](https://r.example/b)" in outlets["value"]


async def test_a_403_pauses_the_subscription_and_tells_the_admins(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    sub_id = subscribe(sqlite_db, discord_fake)
    story_id = add_story(sqlite_db)
    discord_fake.fail_next("POST", MESSAGES, status=403, code=50013, message="Missing Permissions")
    delivery = _delivery(sqlite_db, discord_adapter)
    await delivery.plan([story_id])
    report = await delivery.flush()
    assert report.paused == 1
    row = sqlite_db.transaction(lambda s: s.get(SubscriptionRow, sub_id))
    assert row is not None and row.paused and "permission" in (row.paused_reason or "")
    assert discord_fake.calls_to("POST", "/users/@me/channels")  # the owner got a DM
    deliveries = sqlite_db.transaction(lambda s: s.scalars(select(DeliveryRow)).all())
    assert not discord_fake.channel_messages(discord_fake.channel_id) and deliveries


async def test_a_thread_channel_gets_the_edit_and_the_new_report_in_the_alerts_thread(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter, sqlite_db: Database
) -> None:
    subscribe(sqlite_db, discord_fake, follow_ups="thread")
    story_id = add_story(sqlite_db)
    delivery = _delivery(sqlite_db, discord_adapter)
    await delivery.plan([story_id])
    await delivery.flush()
    [alert] = discord_fake.channel_messages(discord_fake.channel_id)
    for n, outlet in enumerate(("Reuters", "NDTV")):
        sqlite_db.transaction(
            lambda s, o=outlet, n=n: add_report(
                s, story_id, o, f"{o} on the deal", f"https://{n}.example/b", NOW
            )
        )
        await delivery.plan([story_id])
        await delivery.flush()
    assert len(discord_fake.calls_to("PATCH", rf"{MESSAGES}/\d+")) == 2
    in_thread = [m["content"] for m in discord_fake.channel_messages(int(alert["id"]))]
    assert in_thread == [
        "Reuters: [Reuters on the deal](<https://0.example/b>)",
        "NDTV: [NDTV on the deal](<https://1.example/b>)",
    ]


async def test_editing_a_deleted_alert_is_retried_later_not_a_paused_channel(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    ref = await discord_adapter.post(channel(discord_fake), card(), delivery_id=1)
    discord_fake.fail_next("PATCH", rf"{MESSAGES}/\d+", status=404, code=10008, message="gone")
    with pytest.raises(DeliveryError) as raised:
        await discord_adapter.update(ref, card())
    assert not isinstance(raised.value, ChannelUnavailable)


async def test_a_slow_private_answer_stays_private(
    discord_fake: FakeDiscord, sqlite_db: Database
) -> None:
    adapter = await start_adapter(discord_fake, sqlite_db, defer_after=0)
    try:
        payload = discord_fake.interaction_payload("news", [sub("subscriptions")])
        body = await _answer(discord_fake, payload)
        assert body["type"] == 5 and body["data"]["flags"] & EPHEMERAL
        [followup] = await discord_fake.wait_for_call("POST", r"/webhooks/\d+/[^/]+")
        assert followup.json["flags"] & EPHEMERAL
        assert not discord_fake.calls_to("DELETE", r"/webhooks/.*")  # nothing to replace
    finally:
        await adapter.stop()


async def test_every_outbound_message_of_a_hostile_story_is_inert_on_the_wire(
    discord_fake: FakeDiscord, discord_adapter: DiscordAdapter
) -> None:
    hostile = "@everyone <@&123456789012345678> ||x|| [y](https://evil.example) \u202e# z"
    evil = card(headline=hostile)
    ref = await discord_adapter.post(channel(discord_fake), evil, delivery_id=1)
    await discord_adapter.update(ref, evil)
    later = evil.sources[0].__class__(hostile, hostile, "https://r.example/b")
    await discord_adapter.reply_in_thread(ref, later)
    await discord_adapter.post_digest(channel(discord_fake), hostile, [evil], delivery_id=2)
    await discord_adapter.notify_admins(str(discord_fake.guild_id), hostile)

    sent = [
        c.json
        for c in discord_fake.calls
        if c.method in ("POST", "PATCH") and isinstance(c.json, dict)
        and ("content" in c.json or "embeds" in c.json)
    ]  # fmt: skip
    assert len(sent) == 5  # post, edit, thread reply, digest, the owner's DM
    for body in sent:
        assert body["allowed_mentions"] == {"parse": []}
        wire = json.dumps(body, ensure_ascii=False)
        for forbidden in ("@everyone", "<@&", "||", "](https://evil", "\u202e"):
            assert forbidden not in wire, (forbidden, wire)
