"""Slack adapter test helpers: settings aimed at the fake Slack, payloads, stored stories."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from bot.adapters.slack.adapter import EVENTS_PATH, SlackAdapter
from bot.core.models import ChannelRef, SourceLink, StoryCard
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.tables import SubscriptionRow
from tests.fakes._loopback import wait_until
from tests.fakes.fake_slack import FakeSlack, form_body
from tests.fakes.slack_signing import signed_headers

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def slack_settings(fake: FakeSlack, *, socket_mode: bool = False) -> Settings:
    """Settings for a bot aimed at the fake: HTTP mode on a free loopback port, or Socket Mode."""
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token if socket_mode else None,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.base_url,
        "slack_http_host": "127.0.0.1",
        "slack_http_port": 0,
    }
    return Settings(**values)


def channel(fake: FakeSlack, channel_id: str = "C0NEWS") -> ChannelRef:
    return ChannelRef("slack", fake.team_id, channel_id, fake.channels.get(channel_id, ""))


def card(
    *,
    headline: str = "India and US sign 10-year defence framework",
    extract: str = "The two defence ministers signed the framework in Kuala Lumpur.",
    outlets: tuple[tuple[str, str, str], ...] = (
        ("The Hindu", "India, US sign defence framework", "https://www.thehindu.com/a"),
    ),
    story_id: int = 7,
    story_key: str = "s7",
) -> StoryCard:
    return StoryCard(
        story_id=story_id,
        story_key=story_key,
        headline=headline,
        extract=extract,
        topics=("framework-agreement",),
        sources=tuple(SourceLink(o, t, u, NOW) for o, t, u in outlets),
        first_seen=NOW,
    )


async def send_signed(
    adapter: SlackAdapter, body: bytes, *, secret: str = SECRET
) -> tuple[int, str]:
    """POST a request to the adapter's HTTP endpoint signed the way Slack signs it."""
    url = f"http://127.0.0.1:{adapter.http_port}{EVENTS_PATH}"
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=signed_headers(secret, body)) as resp,
    ):
        return resp.status, await resp.text()


def slash_body(fake: FakeSlack, text: str, **kwargs: Any) -> bytes:
    return form_body(fake.slash_command_payload("/news", text, **kwargs))


def block_action(
    fake: FakeSlack,
    action_id: str,
    story_key: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0NEWS",
    response_name: str = "button",
) -> dict[str, Any]:
    """The ``block_actions`` payload Slack sends when someone presses a button on an alert."""
    return {
        "type": "block_actions",
        "team": {"id": fake.team_id, "domain": fake.team_domain},
        "user": {"id": user_id, "username": "alice", "name": "alice", "team_id": fake.team_id},
        "api_app_id": fake.app_id,
        "token": "legacy-verification-token",
        "trigger_id": "1.2.3",
        "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel_id},
        "channel": {"id": channel_id, "name": fake.channels.get(channel_id, "")},
        "message": {"type": "message", "ts": "1.000001", "text": "story"},
        "response_url": fake.response_url(response_name),
        "actions": [
            {
                "action_id": action_id,
                "block_id": f"story:{story_key}",
                "value": story_key,
                "type": "button",
                "action_ts": "1.5",
            }
        ],
    }


def interactive_body(payload: dict[str, Any]) -> bytes:
    return form_body({"payload": json.dumps(payload)})


def subscribe(db: Database, fake: FakeSlack, channel_id: str = "C0NEWS", **extra: Any) -> int:
    def write(s: Any) -> int:
        sub = SubscriptionRow(platform="slack", workspace=fake.team_id, channel=channel_id,
                              channel_name=fake.channels.get(channel_id, "gone"),
                              topics=["framework-agreement"], since=NOW - timedelta(days=1),
                              **extra)  # fmt: skip
        s.add(sub)
        s.flush()
        return int(sub.id)

    return db.transaction(write)


async def fake_wait(fake: FakeSlack, predicate: Callable[[], object]) -> None:
    await wait_until(predicate, timeout=5.0, what="the fake Slack to see the bot's answer")
