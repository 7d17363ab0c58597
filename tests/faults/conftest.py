"""Fixtures for the fault suite: a loopback web server, a raw socket server, a private dir,
the fake Slack a crashed bot posts to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.fakes.fake_slack import FakeSlack
from tests.faults.crashbot import kill_leftovers
from tests.faults.harness import Sites
from tests.faults.rawserver import RawServer
from tests.feedserver import FeedServer


@pytest.fixture
async def sites(tmp_path: Path) -> AsyncIterator[Sites]:
    raw = RawServer()
    await raw.start()
    try:
        async with FeedServer() as web, FeedServer(host="127.0.0.2") as other:
            yield Sites(web, raw, other, tmp_path)
    finally:
        await raw.stop()


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fake Slack on 127.0.0.1, outliving the bot processes a test kills and restarts."""
    server = FakeSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture(autouse=True)
def no_bot_left_running() -> Iterator[None]:
    """A test that fails midway must not leave its `newsbot run` processes behind."""
    yield
    kill_leftovers()
