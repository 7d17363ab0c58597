"""Fixtures for the fault suite: a loopback web server, a raw socket server, a private dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

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
