"""The Slack adapter: real slack-bolt and slack_sdk against the fake Slack on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import time
from datetime import timedelta

import pytest
import yaml
from pydantic import SecretStr

from bot.adapters.slack.adapter import SlackAdapter
from bot.adapters.slack.blocks import METADATA_EVENT, NOT_RELEVANT_ACTION, WHY_ACTION
from bot.config import AppConfig
from bot.core.alerts import Alerts
from bot.core.chat import AdapterStopped, ChannelUnavailable, DeliveryError, chat_setup
from bot.core.commands import Commands
from bot.core.models import SourceLink
from bot.core.outbox import Outbox
from bot.settings import REPO_ROOT
from bot.storage.db import Database
from bot.storage.tables import SubscriptionRow
from tests.adapters.slack.fixtures import (
    NOW,
    SECRET,
    card,
    channel,
    fake_wait,
    send_signed,
    slack_settings,
    slash_body,
    subscribe,
)
from tests.adapters.storydata import add_report, add_story
from tests.fakes.fake_slack import FakeSlack

MANIFEST = REPO_ROOT / "config" / "slack-manifest.yaml"


# -- alerts -----------------------------------------------------------------------------------


async def test_alert_is_block_kit_with_story_and_delivery_in_metadata(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    ref = await adapter.post(channel(fake), card(), delivery_id=11)

    [call] = fake.calls_for("chat.postMessage")
    assert ref.message_id == fake.messages["C0NEWS"][0]["ts"]
    types = [b["type"] for b in call.args["blocks"]]
    assert types == ["header", "section", "section", "context", "actions"]
    buttons = call.args["blocks"][-1]["elements"]
    assert [(b["text"]["text"], b["action_id"], b["value"]) for b in buttons] == [
        ("Why this?", WHY_ACTION, "s7"),
        ("Not relevant", NOT_RELEVANT_ACTION, "s7"),
    ]
    assert call.args["metadata"] == {
        "event_type": METADATA_EVENT,
        "event_payload": {"story_id": 7, "story_key": "s7", "delivery_id": 11},
    }
    assert "<https://www.thehindu.com/a|The Hindu>" in json.dumps(call.args["blocks"])


async def test_second_outlet_edits_the_alert_instead_of_posting_again(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    ref = await adapter.post(channel(fake), card(), delivery_id=1)
    grown = card(outlets=(("The Hindu", "India, US sign", "https://www.thehindu.com/a"),
                          ("Reuters", "US, India agree", "https://www.reuters.com/b")))  # fmt: skip
    await adapter.update(ref, grown)

    assert len(fake.calls_for("chat.postMessage")) == 1
    [edit] = fake.calls_for("chat.update")
    assert edit.args["ts"] == ref.message_id
    assert "also reported by <https://www.reuters.com/b|Reuters>" in json.dumps(edit.args["blocks"])


async def test_thread_follow_up_replies_under_the_alert(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    ref = await adapter.post(channel(fake), card(), delivery_id=1)
    reply = await adapter.reply_in_thread(
        ref, SourceLink("Reuters", "US, India agree", "https://www.reuters.com/b")
    )
    [_, threaded] = fake.calls_for("chat.postMessage")
    assert threaded.args["thread_ts"] == ref.message_id
    assert reply.thread_id == ref.message_id
    assert "Reuters" in threaded.args["text"]


async def test_a_retried_thread_reply_is_not_posted_twice(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    ref = await adapter.post(channel(fake), card(), delivery_id=1)
    reuters = SourceLink("Reuters", "US, India agree", "https://www.reuters.com/b")
    first = await adapter.reply_in_thread(ref, reuters)
    again = await adapter.reply_in_thread(ref, reuters)  # the outbox retried the whole follow-up

    assert again == first
    assert len(fake.calls_for("chat.postMessage")) == 2  # the alert and one reply
    replies = fake.calls_for("conversations.replies")
    assert replies[-1].args["ts"] == ref.message_id


async def test_a_retried_delivery_finds_its_earlier_post(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    first = await adapter.post(channel(fake), card(), delivery_id=5)
    # The process died before recording the ts; the outbox hands the same delivery out again.
    again = await adapter.post(channel(fake), card(), delivery_id=5)

    assert again.message_id == first.message_id
    assert len(fake.calls_for("chat.postMessage")) == 1
    history = fake.calls_for("conversations.history")[-1]
    assert history.args["include_all_metadata"] in ("1", "true", True)


async def test_a_retry_finds_its_earlier_post_behind_hundreds_of_later_messages(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    first = await adapter.post(channel(fake), card(), delivery_id=5)
    # A busy channel: 450 messages by people and other bots since, more than two pages.
    base = float(first.message_id)
    fake.messages["C0NEWS"] += [
        {"type": "message", "user": "U-PEOPLE", "text": f"chat {n}", "ts": f"{base + n + 1:.6f}"}
        for n in range(450)
    ]

    again = await adapter.post(channel(fake), card(), delivery_id=5)

    assert again.message_id == first.message_id
    assert len(fake.calls_for("chat.postMessage")) == 1
    pages = fake.calls_for("conversations.history")
    assert len(pages) >= 3 and pages[-1].args.get("cursor")
    assert all(float(c.args["oldest"]) > 0 for c in pages)  # bounded by time, not by count


async def test_rate_limited_post_is_retried_after_retry_after_and_posted_once(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    started = time.monotonic()
    ref = await adapter.post(channel(fake), card(), delivery_id=3)

    calls = fake.calls_for("chat.postMessage")
    assert len(calls) == 2  # the 429, then the post
    assert len(fake.messages["C0NEWS"]) == 1
    assert ref.message_id == fake.messages["C0NEWS"][0]["ts"]
    assert time.monotonic() - started < 3


async def test_rate_limit_that_never_lifts_is_a_retryable_delivery_error(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=0, times=10)
    with pytest.raises(DeliveryError) as raised:
        await adapter.post(channel(fake), card(), delivery_id=3)
    assert not isinstance(raised.value, ChannelUnavailable | AdapterStopped)
    assert "429" in str(raised.value)
    assert "C0NEWS" not in fake.messages


@pytest.mark.parametrize("error", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_closed_channel_is_channel_unavailable(
    fake: FakeSlack, adapter: SlackAdapter, error: str
) -> None:
    fake.fail_next("chat.postMessage", status=200, error=error, retry_after=None)
    with pytest.raises(ChannelUnavailable) as raised:
        await adapter.post(channel(fake), card(), delivery_id=3)
    assert raised.value.reason.startswith(error)


async def test_a_deleted_channel_is_unavailable(fake: FakeSlack, adapter: SlackAdapter) -> None:
    with pytest.raises(ChannelUnavailable, match="channel_not_found"):
        await adapter.post(channel(fake, "C0GONE"), card(), delivery_id=3)


async def test_revoked_token_stops_the_adapter_with_a_clear_message(
    fake: FakeSlack, commands: Commands, cfg: AppConfig, caplog: pytest.LogCaptureFixture
) -> None:
    bot = SlackAdapter(slack_settings(fake), commands, chat_setup(cfg))
    await bot.start()
    fake.valid_tokens.discard(fake.bot_token)  # revoked while running
    with pytest.raises(AdapterStopped, match="SLACK_BOT_TOKEN"):
        await bot.post(channel(fake), card(), delivery_id=1)
    await fake_wait(fake, lambda: bot.http_port is None)  # it stopped listening
    with pytest.raises(AdapterStopped):
        await bot.post(channel(fake), card(), delivery_id=2)
    assert fake.bot_token not in caplog.text
    assert "C0NEWS" not in fake.messages


async def test_a_bad_token_at_start_raises_adapter_stopped(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    fake.valid_tokens.discard(fake.bot_token)
    bot = SlackAdapter(slack_settings(fake), commands, chat_setup(cfg))
    with pytest.raises(AdapterStopped) as raised:
        await bot.start()
    assert "invalid_auth" in str(raised.value)
    assert fake.bot_token not in str(raised.value)
    await bot.stop()


async def test_digest_is_one_message(fake: FakeSlack, adapter: SlackAdapter) -> None:
    cards = [card(story_id=i, story_key=f"s{i}", headline=f"Story {i}") for i in range(30)]
    await adapter.post_digest(channel(fake), "Daily digest", cards, delivery_id=9)
    [call] = fake.calls_for("chat.postMessage")
    assert len(call.args["blocks"]) <= 50
    assert call.args["blocks"][0]["text"]["text"] == "Daily digest"
    assert call.args["metadata"]["event_payload"]["delivery_id"] == 9


async def test_admins_are_told_by_direct_message(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    cfg = cfg.model_copy(
        update={"admins": cfg.admins.model_copy(update={"slack_users": ["U0ALICE"]})}
    )
    bot = SlackAdapter(slack_settings(fake), commands, chat_setup(cfg))
    fake.channels["U0ALICE"] = "alice (DM)"
    await bot.notify_admins(fake.team_id, "newsbot paused alerts to #news: channel_not_found")
    [dm] = fake.calls_for("chat.postMessage")
    assert dm.args["channel"] == "U0ALICE"
    assert "paused" in dm.args["text"]


async def test_at_here_in_a_feed_title_reaches_slack_escaped(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    evil = card(
        headline="@here <!channel> Pentagon & MoD <@U0ALICE> sign pact",
        extract="<!everyone> read this <https://evil.example|click>",
        outlets=(("<!here>", "@channel <b>", "https://x.example/a?b=1&c=<2>"),),
    )
    ref = await adapter.post(channel(fake), evil, delivery_id=1)
    await adapter.update(ref, evil)
    await adapter.reply_in_thread(ref, evil.sources[0])

    sent = json.dumps([c.args for c in fake.calls if c.method.startswith("chat.")])
    for forbidden in ("<!here", "<!channel", "<!everyone", "<@U0ALICE", "<https://evil", "@here",
                      "@channel", "@everyone"):  # fmt: skip
        assert forbidden not in sent, forbidden
    assert "&lt;!channel&gt;" in sent and "Pentagon &amp; MoD" in sent


async def test_a_rejected_app_token_stops_socket_mode_with_a_clear_message(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    settings = slack_settings(fake, socket_mode=True).model_copy(
        update={"slack_app_token": SecretStr("xapp-1-revoked")}
    )
    bot = SlackAdapter(settings, commands, chat_setup(cfg))
    with pytest.raises(AdapterStopped, match="SLACK_APP_TOKEN") as raised:
        await bot.start()
    assert "xapp-1-revoked" not in str(raised.value)
    await bot.stop()


async def test_http_mode_without_signing_secret_refuses_to_start(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    settings = slack_settings(fake).model_copy(update={"slack_signing_secret": None})
    bot = SlackAdapter(settings, commands, chat_setup(cfg))
    with pytest.raises(AdapterStopped, match="SLACK_SIGNING_SECRET"):
        await bot.start()
    assert bot.http_port is None


# Which bot scope each Web API method the adapter calls needs (docs.slack.dev/reference/methods).
METHOD_SCOPES = {
    "auth.test": None,
    "chat.postMessage": "chat:write",
    "chat.update": "chat:write",
    "conversations.history": "channels:history",
    "conversations.replies": "channels:history",
    "users.info": "users:read",
}


async def test_the_manifest_grants_every_scope_the_adapter_uses(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    ref = await adapter.post(channel(fake), card(), delivery_id=1)
    await adapter.update(ref, card())
    await adapter.reply_in_thread(ref, SourceLink("Reuters", "t", "https://r.example/b"))
    await send_signed(adapter, slash_body(fake, "topics"))
    await fake_wait(fake, lambda: fake.response_url_posts)

    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    used = {c.method for c in fake.calls}
    assert used <= set(METHOD_SCOPES), f"add the scope of {used - set(METHOD_SCOPES)} here"
    needed = {METHOD_SCOPES[m] for m in used} - {None}
    assert needed <= granted
    assert "commands" in granted and "groups:history" in granted  # private channels too
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/news"]
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is True


# -- end to end through the core's outbox -------------------------------------------------------


def outbox(db: Database, adapter: SlackAdapter) -> Alerts:
    return Alerts(Outbox(db, {"slack": adapter}, clock=lambda: NOW + timedelta(hours=1)))


async def test_subscribed_channel_gets_an_alert_then_an_edit_for_a_second_outlet(
    fake: FakeSlack, db: Database, cfg: AppConfig
) -> None:
    subscribe(db, fake)
    story_id = add_story(db, key="s1")
    bot = SlackAdapter(slack_settings(fake), Commands(db, cfg), chat_setup(cfg))
    delivery = outbox(db, bot)

    await delivery.plan([story_id])
    assert (await delivery.flush()).posted == 1
    [alert] = fake.calls_for("chat.postMessage")
    assert alert.args["channel"] == "C0NEWS"
    assert alert.args["blocks"][0]["type"] == "header"
    assert alert.args["metadata"]["event_payload"]["story_id"] == story_id

    second_report(db, story_id)
    await delivery.plan([story_id])
    assert (await delivery.flush()).updated == 1

    assert len(fake.calls_for("chat.postMessage")) == 1  # edited, never posted again
    [edit] = fake.calls_for("chat.update")
    assert edit.args["ts"] == alert_ts(fake)
    assert "also reported by <https://www.reuters.com/b|Reuters>" in json.dumps(edit.args["blocks"])


async def test_follow_ups_thread_channel_also_gets_a_thread_reply(
    fake: FakeSlack, db: Database, cfg: AppConfig
) -> None:
    subscribe(db, fake, follow_ups="thread")
    story_id = add_story(db, key="s2")
    delivery = outbox(db, SlackAdapter(slack_settings(fake), Commands(db, cfg), chat_setup(cfg)))
    await delivery.plan([story_id])
    await delivery.flush()
    second_report(db, story_id)
    await delivery.plan([story_id])
    await delivery.flush()

    posts = fake.calls_for("chat.postMessage")
    assert len(posts) == 2 and len(fake.calls_for("chat.update")) == 1
    assert posts[1].args["thread_ts"] == alert_ts(fake)
    assert "Reuters" in posts[1].args["text"]


async def test_a_429_then_success_posts_the_alert_once(
    fake: FakeSlack, db: Database, cfg: AppConfig
) -> None:
    subscribe(db, fake)
    story_id = add_story(db, key="s3")
    delivery = outbox(db, SlackAdapter(slack_settings(fake), Commands(db, cfg), chat_setup(cfg)))
    fake.fail_next("chat.postMessage", status=429, retry_after=0)

    await delivery.plan([story_id])
    assert (await delivery.flush()).posted == 1
    assert (await delivery.flush()).posted == 0  # nothing left to send

    assert len(fake.calls_for("chat.postMessage")) == 2  # the 429 and the post
    assert len(fake.messages["C0NEWS"]) == 1


async def test_channel_not_found_pauses_the_subscription_and_tells_the_admins(
    fake: FakeSlack, db: Database, cfg: AppConfig
) -> None:
    cfg = cfg.model_copy(
        update={"admins": cfg.admins.model_copy(update={"slack_users": ["U0ADM"]})}
    )
    fake.channels["U0ADM"] = "admin (DM)"
    sub_id = subscribe(db, fake, channel_id="C0GONE")
    story_id = add_story(db, key="s4")
    delivery = outbox(db, SlackAdapter(slack_settings(fake), Commands(db, cfg), chat_setup(cfg)))

    await delivery.plan([story_id])
    assert (await delivery.flush()).paused == 1

    sub = db.transaction(lambda s: s.get(SubscriptionRow, sub_id))
    assert sub is not None and sub.paused
    assert "channel_not_found" in (sub.paused_reason or "")
    [note] = fake.calls_for("chat.postMessage")[-1:]
    assert note.args["channel"] == "U0ADM" and "paused" in note.args["text"]
    assert "C0GONE" not in fake.messages


def second_report(db: Database, story_id: int) -> None:
    """Reuters reports the same story five minutes later."""
    title, url = "US and India sign defence pact", "https://www.reuters.com/b"
    at = NOW + timedelta(minutes=5)
    db.transaction(lambda s: add_report(s, story_id, "Reuters", title, url, at))


def alert_ts(fake: FakeSlack) -> str:
    return str(fake.messages["C0NEWS"][0]["ts"])


async def test_no_token_or_secret_reaches_the_log_even_at_debug(
    fake: FakeSlack, commands: Commands, cfg: AppConfig, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bot = SlackAdapter(slack_settings(fake, socket_mode=True), commands, chat_setup(cfg))
    await bot.start()
    try:
        await fake.wait_for_socket()
        envelope = await fake.send_envelope("slash_commands", fake.slash_command_payload("/news"))
        await fake.wait_for_ack(envelope)
        await bot.post(channel(fake), card(), delivery_id=1)
        await fake_wait(fake, lambda: fake.response_url_posts)
    finally:
        await bot.stop()
    assert "Sending a request" in caplog.text  # slack_sdk did log its requests
    for secret in (fake.bot_token, fake.app_token, SECRET):
        assert secret not in caplog.text


async def test_every_outbound_message_of_a_hostile_story_is_inert_on_the_wire(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    cfg = cfg.model_copy(
        update={"admins": cfg.admins.model_copy(update={"slack_users": ["U0ALICE"]})}
    )
    bot = SlackAdapter(slack_settings(fake), commands, chat_setup(cfg))
    fake.channels["U0ALICE"] = "alice (DM)"
    hostile = "*@here* <!channel> _x_ ~y~ `z` see http://evil.example \u202eq"
    evil = card(headline=hostile, extract=hostile,
                outlets=((hostile, hostile, "https://x.example/a"),))  # fmt: skip
    ref = await bot.post(channel(fake), evil, delivery_id=1)
    await bot.update(ref, evil)
    await bot.reply_in_thread(ref, evil.sources[0])
    await bot.post_digest(channel(fake), hostile, [evil], delivery_id=2)
    await bot.notify_admins(fake.team_id, f"feed {hostile} failed")

    sent = [c.args for c in fake.calls if c.method in ("chat.postMessage", "chat.update")]
    assert len(sent) == 5
    for args in sent:
        wire = json.dumps(args, ensure_ascii=False)
        for forbidden in ("<!channel", "@here", "http://", "\u202e"):
            assert forbidden not in wire, (forbidden, wire)
        blocks = args["blocks"] if isinstance(args["blocks"], list) else json.loads(args["blocks"])
        mrkdwn = [o for o in _text_objects(blocks) if o["type"] == "mrkdwn"]
        assert mrkdwn and all(o["verbatim"] is True for o in mrkdwn)
        # Formatting pairs only in mrkdwn (and the fallback text); plain_text shows it as is.
        formatted = json.dumps([o["text"] for o in mrkdwn] + [args["text"]], ensure_ascii=False)
        # The core's own note keeps its `code spans` (nothing inside one pings or links).
        core = args["channel"] == "U0ALICE"
        for forbidden in ("*@", "_x_", "~y~", *(() if core else ("`z`",))):
            assert forbidden not in formatted, (forbidden, formatted)


def _text_objects(node: object) -> list[dict[str, object]]:
    if isinstance(node, dict):
        found = [node] if node.get("type") in ("mrkdwn", "plain_text") else []
        return found + [o for v in node.values() for o in _text_objects(v)]
    if isinstance(node, list):
        return [o for v in node for o in _text_objects(v)]
    return []
