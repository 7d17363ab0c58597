"""A chat platform down at start is kept and retried with backoff until it connects; its
alerts wait in the outbox meanwhile. Real slack_sdk against the loopback fake Slack."""

from __future__ import annotations

import io
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import NewsBot, open_bot
from bot.config import load_config
from bot.connections import backoff
from bot.settings import DEFAULT_CONFIG, Settings
from tests.adapters.slack.fixtures import send_signed, slack_settings, slash_body
from tests.fakes._loopback import wait_until
from tests.fakes.fake_slack import FakeSlack
from tests.test_health import _get, free_port


def test_backoff_doubles_to_the_cap_with_jitter() -> None:
    rng = random.Random(7)
    delays = [backoff(n, 1.0, 300.0, rng) for n in range(12)]
    for n, delay in enumerate(delays):
        ceiling = min(300.0, 2.0**n)
        assert ceiling / 2 <= delay <= ceiling
    assert max(delays) <= 300.0 and delays[-1] >= 150.0
    assert len({round(d, 6) for d in delays[:3]}) == 3  # jittered, not a fixed ladder


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def _slack_bot(settings: Settings, tmp_path: Path) -> NewsBot:
    values = settings.model_dump() | {"database_url": f"sqlite:///{tmp_path / 'bot.db'}"}
    return await open_bot(
        Settings.model_validate(values, by_name=True),
        load_config(DEFAULT_CONFIG),
        out=io.StringIO(),
        platforms=["slack"],
    )


async def test_a_platform_failing_at_start_is_retried_until_it_connects(
    fake: FakeSlack, tmp_path: Path
) -> None:
    # Slack answers 503 to the first two token checks, as in an outage.
    fake.fail_next("auth.test", status=503, error="service_unavailable", times=2)
    bot = await _slack_bot(slack_settings(fake), tmp_path)
    try:
        await bot.start_adapters(wait=10)
        assert "slack" in bot.adapters  # kept in the registry, not dropped
        state, reason = bot.adapter_states()["slack"]
        assert state == "retrying" and reason
        assert "slack" not in bot.outbox.adapters  # nothing posts through it meanwhile
        port = await bot.start_health("127.0.0.1", free_port())
        assert port is not None
        status, body = await _get(port, "/readyz")
        assert status == 503 and '"adapter:slack": "retrying' in body

        await wait_until(lambda: bot.adapter_states()["slack"][0] == "connected", timeout=15)
        assert bot.outbox.adapters.get("slack") is bot.adapters["slack"]
        assert len(fake.calls_for("auth.test")) == 3
        status, body = await _get(port, "/readyz")
        assert '"adapter:slack": "ok"' in body
    finally:
        await bot.close()
    assert bot.adapter_states()["slack"][0] == "stopped"


async def test_an_unreachable_platform_keeps_retrying_and_says_why(
    fake: FakeSlack, tmp_path: Path
) -> None:
    settings = slack_settings(fake)
    await fake.stop()  # the port is closed now: connection refused
    bot = await _slack_bot(settings, tmp_path)
    try:
        await bot.start_adapters(wait=10)
        await wait_until(lambda: bot.adapter_states()["slack"][0] == "retrying", timeout=10)
        assert "slack" in bot.adapters and "slack" not in bot.outbox.adapters
    finally:
        await bot.close()


async def test_a_token_refused_later_brings_a_fresh_connection(
    fake: FakeSlack, tmp_path: Path
) -> None:
    bot = await _slack_bot(slack_settings(fake), tmp_path)
    try:
        await bot.start_adapters(wait=10)
        first = bot.adapters["slack"]
        assert bot.adapter_states()["slack"][0] == "connected"
        # Slack refuses the token on an inbound command's users.info (rotated, then restored).
        fake.fail_next("users.info", status=200, error="invalid_auth")
        await send_signed(first, slash_body(fake, "admin feeds list", user_id="U0NEW"))  # type: ignore[arg-type]
        await wait_until(lambda: bot.adapters["slack"] is not first, timeout=10)
        await wait_until(lambda: bot.adapter_states()["slack"][0] == "connected", timeout=15)
        fresh = bot.adapters["slack"]
        assert bot.outbox.adapters.get("slack") is fresh
        assert fresh.team_id == fake.team_id  # type: ignore[attr-defined]  # it checked its token
        assert not first.connected and fresh.connected  # type: ignore[attr-defined]
    finally:
        await bot.close()
