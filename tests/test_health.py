"""/healthz, /readyz and /metrics served by a real bot, read over 127.0.0.1 with aiohttp."""

from __future__ import annotations

import io
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import NewsBot, open_bot
from bot.config import AppConfig, FeedConfig, load_config
from bot.settings import DEFAULT_CONFIG, Settings
from tests.feedserver import FeedServer


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0 when absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


@pytest.fixture
async def bot(feed_server: FeedServer, tmp_path: Path) -> AsyncIterator[NewsBot]:
    now = datetime.now(UTC)
    feed_server.add_feed(
        "a.xml",
        [
            {"title": f"Report {n}", "summary": "Text.", "url": f"https://example.org/{n}",
             "guid": f"https://example.org/{n}", "published": now}
            for n in range(3)
        ],
    )  # fmt: skip
    feed_server.add_feed("broken.xml", [])
    feed_server.set_response("broken.xml", status=500)
    base = load_config(DEFAULT_CONFIG)
    feeds = [
        FeedConfig.model_validate({"url": feed_server.url(p), "name": p, "allow_private": True})
        for p in ("a.xml", "broken.xml")
    ]
    cfg: AppConfig = base.model_copy(update={"feeds": feeds})
    bot = await open_bot(
        Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}"),
        cfg,
        out=io.StringIO(),
        platforms=["console"],
    )
    try:
        yield bot
    finally:
        await bot.close()


def free_port() -> int:
    """A loopback port free right now (0 means "off" to the bot, so a test picks one)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def test_health_port_off_serves_nothing(bot: NewsBot) -> None:
    assert await bot.start_health("127.0.0.1", 0) is None
    assert await bot.start_health("127.0.0.1", None) is None
    assert bot.health is None


async def test_alive_ready_and_metrics_after_a_cycle(bot: NewsBot) -> None:
    await bot.start_adapters()
    port = await bot.start_health("127.0.0.1", free_port())
    assert port is not None
    status, body = await _get(port, "/healthz")
    assert status == 200 and "alive" in body

    _, before = await _get(port, "/metrics")
    stored_before = _sample(before, "newsbot_items_stored_total")
    failed_before = _sample(before, "newsbot_feeds_polled_total", outcome="failed_http_500")
    report = await bot.pipeline.run_cycle(force=True)

    status, body = await _get(port, "/readyz")
    assert status == 200, body
    assert '"database": "ok"' in body and '"adapter:console": "ok"' in body

    _, after = await _get(port, "/metrics")
    assert _sample(after, "newsbot_items_stored_total") - stored_before == report.new_items == 3
    assert _sample(after, "newsbot_feeds_polled_total", outcome="failed_http_500") == (
        failed_before + 1
    )
    assert _sample(after, "newsbot_cycle_seconds_count") >= 1
    assert _sample(after, "newsbot_adapter_state", platform="console", state="connected") == 1
    assert _sample(after, "newsbot_outbox_backlog") >= 0  # read from the database, no error


async def test_not_ready_without_a_recent_cycle(bot: NewsBot) -> None:
    await bot.start_adapters()
    port = await bot.start_health("127.0.0.1", free_port())
    assert port is not None and bot.health is not None
    bot.health.max_cycle_age = 0.0  # any wait at all is too long
    bot.health.started -= 1
    status, body = await _get(port, "/readyz")
    assert status == 503
    assert '"last_cycle": "none for' in body
