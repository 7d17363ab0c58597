"""Readers' "Not relevant" presses reach `/news admin feedback` as Slack renders it: real
slack-bolt against the fake Slack on 127.0.0.1, a real SQLite database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.adapters.slack.adapter import SlackAdapter
from bot.adapters.slack.blocks import NOT_RELEVANT_ACTION
from bot.config import AppConfig
from bot.core.chat import chat_setup
from bot.core.commands import Commands
from bot.storage.db import Database
from tests.adapters.slack.fixtures import (
    block_action,
    interactive_body,
    send_signed,
    slack_settings,
    slash_body,
)
from tests.core.weekdata import ingest
from tests.fakes._loopback import wait_until
from tests.fakes.fake_slack import FakeSlack

ALASKA = "US and India hold drills in Alaska"
GOA = "Indian and US navies begin drills off Goa"


async def test_pressed_not_relevant_then_admin_feedback_renders_evidence_and_the_fix(
    fake: FakeSlack, sqlite_db: Database, cfg: AppConfig
) -> None:
    now = datetime.now(UTC)
    keys = sqlite_db.transaction(
        lambda s: ingest(s, cfg, [(GOA, "", now - timedelta(days=6)),
                                  (ALASKA, "", now - timedelta(hours=2))])
    )  # fmt: skip
    bot = SlackAdapter(slack_settings(fake), Commands(sqlite_db, cfg), chat_setup(cfg))
    await bot.start()
    try:
        for user in ("U0ALICE", "U0CAROL"):
            press = block_action(fake, NOT_RELEVANT_ACTION, str(keys[ALASKA]), user_id=user)
            assert (await send_signed(bot, interactive_body(press)))[0] == 200
        await wait_until(lambda: len(fake.response_url_posts) >= 2)
        fake.user_flags["U0BOSS"] = {"is_admin": True}
        ask = slash_body(fake, "admin feedback", user_id="U0BOSS", response_name="boss")
        await send_signed(bot, ask)
        await wait_until(
            lambda: any(p["name"] == "boss" for p in fake.response_url_posts), timeout=30
        )
    finally:
        await bot.stop()
    body = next(p["body"] for p in fake.response_url_posts if p["name"] == "boss")
    assert body["response_type"] == "ephemeral"
    rendered = json.dumps(body["blocks"], ensure_ascii=False)
    assert f"{ALASKA} ({keys[ALASKA]}) — flagged by 2 people" in rendered
    assert "The US side was US (country); the Indian side was India (country)." in rendered
    assert "Topic terms found: military-exercises (drills; weight 3.0)." in rendered
    assert f"would also remove 1 other alert(s) of the last 7 days: “{GOA}”" in rendered
    assert "/news admin topics edit military-exercises terms remove drills" in rendered
