"""Project-wide fixtures: the loopback guard, proxy scrubbing, and real databases.

* ``loopback_only`` (autouse): a socket connect() to anything but loopback fails the test,
  proving no test leaves 127.0.0.1.
* ``no_proxy_env`` (autouse): slack_sdk and aiohttp read proxy variables themselves; a proxy in
  the environment would swallow loopback calls.
* ``db``: a migrated database; a SQLite file always, and PostgreSQL too when
  ``NEWSBOT_TEST_POSTGRES_URL`` is set (tests using ``db`` then run once per dialect).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.config import AppConfig, load_config
from bot.core.matching import Matcher
from bot.settings import DEFAULT_CONFIG
from bot.storage.db import Database
from tests.feedserver import FeedServer
from tests.testbot import TestBot, running_testbot

_PROXY_VARS = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "WS_PROXY",
    "WSS_PROXY",
)
POSTGRES_URL = os.environ.get("NEWSBOT_TEST_POSTGRES_URL")
TESTDATA = Path(__file__).parent / "testdata"


def _assert_loopback(address: Any) -> None:
    if not isinstance(address, tuple):  # AF_UNIX paths (PostgreSQL's socket) are local
        return
    host = address[0]
    try:
        ip = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        raise AssertionError(f"test tried to connect to unresolved host {host!r}") from None
    if not ip.is_loopback:
        raise AssertionError(f"test tried to connect to non-loopback address {address!r}")


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    seen: list[Any] = []

    def connect(self: socket.socket, address: Any) -> None:
        _assert_loopback(address)
        seen.append(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        _assert_loopback(address)
        seen.append(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    yield seen


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in _PROXY_VARS:
        monkeypatch.delenv(var, raising=False)


def _dialects() -> list[Any]:
    postgres = pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL,
            reason="NEWSBOT_TEST_POSTGRES_URL is unset; set it to also run on PostgreSQL",
        ),
    )
    return ["sqlite", postgres]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(f"sqlite:///{tmp_path / 'newsbot.db'}")
    yield database
    database.close()


@pytest.fixture(params=_dialects())
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated database of each dialect under test."""
    if request.param == "sqlite":
        database = Database.open(f"sqlite:///{tmp_path / 'newsbot.db'}")
        yield database
        database.close()
        return
    assert POSTGRES_URL
    # Each test gets its own schema so tests never see each other's rows.
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = POSTGRES_URL + ("&" if "?" in POSTGRES_URL else "?") + f"options=-csearch_path%3D{schema}"
    database = Database.open(url)
    try:
        yield database
    finally:
        database.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
async def feed_server() -> AsyncIterator[FeedServer]:
    """A news site on 127.0.0.1 serving fixture feeds (``add_feed`` / ``set_response``)."""
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def testbot(feed_server: FeedServer, tmp_path: Path) -> AsyncIterator[TestBot]:
    """The whole bot in process with a recording chat platform (see tests/testbot.py)."""
    async with running_testbot(feed_server, tmp_path) as bot:
        yield bot


@pytest.fixture(scope="session")
def cfg() -> AppConfig:
    """The shipped config (config/newsbot.yaml), loaded once: it is frozen."""
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def matcher(cfg: AppConfig) -> Matcher:
    """The matcher of the shipped config, built once (a match changes nothing in it)."""
    return Matcher.from_config(cfg)
