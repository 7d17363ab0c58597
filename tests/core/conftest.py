"""Fixtures for the core's tests: a loopback news site serving fixture feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.feedserver import FeedServer


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A started FeedServer on 127.0.0.1; add feeds with ``add_feed`` / ``set_response``."""
    server = FeedServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
