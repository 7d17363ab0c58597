"""The Slack adapter's inbound side (bot/adapters/slack/inbound.py): `/news` over signed HTTP
and Socket Mode, the admin check, and the alert buttons, against the loopback fake Slack."""

from __future__ import annotations

import json

import yaml
from sqlalchemy import select

from bot.adapters.slack.adapter import SlackAdapter
from bot.adapters.slack.blocks import NOT_RELEVANT_ACTION, WHY_ACTION
from bot.config import AppConfig
from bot.core.chat import chat_setup
from bot.core.commands import Commands
from bot.storage.db import Database
from bot.storage.tables import FeedbackRow, SubscriptionRow
from tests.adapters.slack.fixtures import (
    SECRET,
    block_action,
    fake_wait,
    interactive_body,
    send_signed,
    slack_settings,
    slash_body,
)
from tests.adapters.storydata import add_story
from tests.fakes.fake_slack import FakeSlack, form_body

# -- /news over HTTP and Socket Mode ----------------------------------------------------------


async def test_signed_slash_command_over_http_gets_its_answer(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    status, _ = await send_signed(adapter, slash_body(fake, "topics"))
    assert status == 200  # the ack, well within Slack's 3 seconds

    await fake_wait(fake, lambda: fake.response_url_posts)
    answer = fake.response_url_posts[0]["body"]
    assert "framework-agreement" in json.dumps(answer["blocks"])
    assert answer["replace_original"] is False


async def test_bad_signature_gets_401_and_runs_nothing(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    status, text = await send_signed(adapter, slash_body(fake, "topics"), secret="wrong-secret")
    assert status == 401
    assert "invalid request" in text
    assert fake.response_url_posts == []


async def test_a_wrong_argument_gets_usage_help_only_the_asker_sees(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    await send_signed(adapter, slash_body(fake, "subscrbe framework-agreement"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    answer = fake.response_url_posts[0]["body"]
    assert answer["response_type"] == "ephemeral"
    assert "subscribe" in answer["text"]


async def test_slash_command_through_socket_mode(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    bot = SlackAdapter(slack_settings(fake, socket_mode=True), commands, chat_setup(cfg))
    await bot.start()
    try:
        await fake.wait_for_socket()
        payload = fake.slash_command_payload("/news", "topics")
        envelope = await fake.send_envelope("slash_commands", payload)
        ack = await fake.wait_for_ack(envelope)
        assert ack["envelope_id"] == envelope
        await fake_wait(fake, lambda: fake.response_url_posts)
        assert "framework-agreement" in json.dumps(fake.response_url_posts[0]["body"])
        assert bot.http_port is None  # no web server in Socket Mode
    finally:
        await bot.stop()


async def test_admin_commands_need_a_workspace_admin(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    await send_signed(adapter, slash_body(fake, "admin feeds list", user_id="U0ALICE"))
    fake.user_flags["U0BOSS"] = {"is_admin": True}
    await send_signed(adapter, slash_body(fake, "admin feeds list", user_id="U0BOSS",
                                          response_name="boss"))  # fmt: skip
    await fake_wait(fake, lambda: len(fake.response_url_posts) >= 2)
    by_name = {p["name"]: p["body"]["text"] for p in fake.response_url_posts}
    assert "admins only" in by_name["cmd"]
    assert "admins only" not in by_name["boss"]
    # users.info is asked once per user and cached.
    await send_signed(adapter, slash_body(fake, "topics", user_id="U0BOSS", response_name="again"))
    await fake_wait(fake, lambda: len(fake.response_url_posts) >= 3)
    assert [c.args["user"] for c in fake.calls_for("users.info")] == ["U0ALICE", "U0BOSS"]


async def test_another_workspaces_admin_manages_only_their_channels(
    fake: FakeSlack, adapter: SlackAdapter, sqlite_db: Database, cfg: AppConfig
) -> None:
    # An org-wide install hears from workspaces other than the token's own: their admins must
    # not change the feeds and topics the whole install sees, only their own channels.
    fake.user_flags["U0OTHER"] = {"is_admin": True}

    def from_other_team(text: str, name: str) -> bytes:
        payload = fake.slash_command_payload("/news", text, user_id="U0OTHER",
                                             channel_id="C0NEWS", response_name=name)  # fmt: skip
        return form_body(payload | {"team_id": "T0OTHERTEAM"})

    await send_signed(adapter, from_other_team("admin feeds list", "bot-wide"))
    topic = cfg.topics[0].id
    await send_signed(adapter, from_other_team(f"subscribe {topic}", "own"))
    await fake_wait(fake, lambda: len(fake.response_url_posts) >= 2)
    by_name = {p["name"]: p["body"]["text"] for p in fake.response_url_posts}
    assert by_name["bot-wide"].startswith("admins only")
    assert topic in by_name["own"] and "Usage" not in by_name["own"], by_name["own"]
    rows = sqlite_db.transaction(lambda s: s.scalars(select(SubscriptionRow)).all())
    assert [(r.workspace, r.channel, r.topics) for r in rows] == [
        ("T0OTHERTEAM", "C0NEWS", [topic])
    ]


async def test_config_admins_are_admins_without_asking_slack(
    fake: FakeSlack, commands: Commands, cfg: AppConfig
) -> None:
    cfg = cfg.model_copy(
        update={"admins": cfg.admins.model_copy(update={"slack_users": ["U0CFG"]})}
    )
    bot = SlackAdapter(slack_settings(fake), commands, chat_setup(cfg))
    await bot.start()
    try:
        await send_signed(bot, slash_body(fake, "admin feeds list", user_id="U0CFG"))
        await fake_wait(fake, lambda: fake.response_url_posts)
        assert "admins only" not in fake.response_url_posts[0]["body"]["text"]
        assert fake.calls_for("users.info") == []
    finally:
        await bot.stop()


# -- buttons ----------------------------------------------------------------------------------


async def test_not_relevant_button_records_feedback(
    fake: FakeSlack, db: Database, cfg: AppConfig
) -> None:
    story_id = add_story(db, key="s42")
    bot = SlackAdapter(slack_settings(fake), Commands(db, cfg), chat_setup(cfg))
    await bot.start()
    try:
        body = interactive_body(block_action(fake, NOT_RELEVANT_ACTION, "s42"))
        status, _ = await send_signed(bot, body)
        assert status == 200
        await fake_wait(fake, lambda: fake.response_url_posts)
    finally:
        await bot.stop()
    rows = db.transaction(lambda s: [(r.story_id, r.user, r.channel, r.verdict)
                                     for r in s.scalars(select(FeedbackRow))])  # fmt: skip
    assert rows == [(story_id, "U0ALICE", "C0NEWS", "not_relevant")]
    answer = fake.response_url_posts[0]["body"]
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False


async def test_why_button_answers_only_the_presser(fake: FakeSlack, adapter: SlackAdapter) -> None:
    await send_signed(adapter, interactive_body(block_action(fake, WHY_ACTION, "s404")))
    await fake_wait(fake, lambda: fake.response_url_posts)
    answer = fake.response_url_posts[0]["body"]
    assert answer["response_type"] == "ephemeral"
    assert answer["text"]


def test_sign_helper_matches_slack_docs_example() -> None:
    # Slack's documented example (api.slack.com/authentication/verifying-requests-from-slack).
    from tests.fakes.slack_signing import slack_signature

    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id="
        b"G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook"
        b"-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F3977"
        b"00885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d1"
        b"0d2c447fce8b6703c"
    )
    assert slack_signature(SECRET, 1531420618, body) == (
        "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    )


async def test_not_relevant_button_through_socket_mode(
    fake: FakeSlack, db: Database, cfg: AppConfig
) -> None:
    story_id = add_story(db, key="s9")
    bot = SlackAdapter(slack_settings(fake, socket_mode=True), Commands(db, cfg), chat_setup(cfg))
    await bot.start()
    try:
        await fake.wait_for_socket()
        press = block_action(fake, NOT_RELEVANT_ACTION, "s9")
        envelope = await fake.send_envelope("interactive", press)
        await fake.wait_for_ack(envelope)
        await fake_wait(fake, lambda: fake.response_url_posts)
    finally:
        await bot.stop()
    verdicts = db.transaction(lambda s: [(r.story_id, r.verdict)
                                         for r in s.scalars(select(FeedbackRow))])  # fmt: skip
    assert verdicts == [(story_id, "not_relevant")]


async def test_admin_export_arrives_as_a_yaml_file_in_the_admins_direct_messages(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    fake.user_flags["U0BOSS"] = {"is_admin": True}
    await send_signed(adapter, slash_body(fake, "admin export", user_id="U0BOSS"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    answer = fake.response_url_posts[0]["body"]
    assert answer["response_type"] == "ephemeral"
    assert "newsbot-config.yaml is in your direct messages" in answer["text"]
    # Private answer, private file: uploaded to the admin's DM through files_upload_v2's
    # three steps, never shared in the channel.
    (opened,) = fake.calls_for("conversations.open")
    assert opened.args["users"] == "U0BOSS"
    (entry,) = fake.files.values()
    assert entry["filename"] == "newsbot-config.yaml" and entry["channel"] == "D0BOSS"
    exported = yaml.safe_load(entry["data"].decode("utf-8"))
    assert exported["topics"][0]["id"] == "framework-agreement"
    assert all("files" not in m for m in fake.messages.get("C0GENERAL", []))


async def test_a_file_slack_refuses_is_named_in_the_answer_with_the_scope_it_needs(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    fake.user_flags["U0BOSS"] = {"is_admin": True}
    fake.fail_next("files.getUploadURLExternal", status=200, error="missing_scope")
    await send_signed(adapter, slash_body(fake, "admin export", user_id="U0BOSS"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    text = fake.response_url_posts[0]["body"]["text"]
    assert "newsbot-config.yaml could not be attached" in text and "files:write" in text
    assert "xoxb" not in text  # no secret in an error message


async def test_an_upload_url_that_refuses_the_bytes_still_gets_the_answer(
    fake: FakeSlack, adapter: SlackAdapter
) -> None:
    # files_upload_v2's second step (the POST to the upload URL) fails with an HTTP status,
    # which slack_sdk raises as SlackRequestError, not as an API error.
    fake.user_flags["U0BOSS"] = {"is_admin": True}
    fake.upload_refusals.append(403)
    await send_signed(adapter, slash_body(fake, "admin export", user_id="U0BOSS"))
    await fake_wait(fake, lambda: fake.response_url_posts)
    text = fake.response_url_posts[0]["body"]["text"]
    assert "config apply newsbot-config.yaml" in text  # the answer itself
    assert "newsbot-config.yaml could not be attached (Slack refused the upload (HTTP 403))" in text
    assert "scopes" not in text  # not a scope problem
    assert not fake.calls_for("files.completeUploadExternal")
