"""`newsbot run --role …` across processes: one chat connection per platform among workers
on PostgreSQL, failing over within a lease period; a second process on one SQLite file is
refused in one line. Real slack_sdk against the loopback fake Slack."""

from __future__ import annotations

import asyncio
import io
import signal
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bot.app import NewsBot, open_bot
from bot.config import AppConfig, load_config
from bot.core.schedule import DIGEST_JOB
from bot.roles import SharingRefused, expand
from bot.settings import DEFAULT_CONFIG, Settings
from bot.storage.tables import SubscriptionRow
from tests.adapters.slack.fixtures import slack_settings
from tests.conftest import POSTGRES_URL
from tests.fakes._loopback import wait_until
from tests.fakes.fake_slack import FakeSlack
from tests.feedserver import FeedServer
from tests.test_cli import _config_with_feeds, _env

LEASE = 5.0  # the shortest the config allows: failover is awaited in real time


def _cfg() -> AppConfig:
    base = load_config(DEFAULT_CONFIG)
    poll = base.poll.model_copy(update={"lease": LEASE, "interval": 3600.0})
    return base.model_copy(update={"feeds": [], "poll": poll})


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = FakeSlack()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("NEWSBOT_TEST_POSTGRES_URL is unset: workers share work on PostgreSQL only")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield (
            POSTGRES_URL
            + ("&" if "?" in POSTGRES_URL else "?")
            + (f"options=-csearch_path%3D{schema}")
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def _worker(fake: FakeSlack, url: str) -> NewsBot:
    values = slack_settings(fake).model_dump() | {"database_url": url}
    settings = Settings.model_validate(values, by_name=True)
    return await open_bot(settings, _cfg(), out=io.StringIO(), platforms=["slack"])


def _connected(bots: list[NewsBot]) -> list[int]:
    return [
        n for n, b in enumerate(bots) if b.adapter_states().get("slack", ("",))[0] == "connected"
    ]


async def test_one_chat_connection_among_workers_and_failover(fake: FakeSlack, pg_url: str) -> None:
    bots = [await _worker(fake, pg_url) for _ in range(3)]
    try:
        for n, bot in enumerate(bots):
            await bot.start(expand("all"), owner=f"worker-{n}:1")
        await wait_until(lambda: len(_connected(bots)) == 1, timeout=10)
        [leader] = _connected(bots)
        assert sum(b.leads("digests") for b in bots) == 1
        others = [b for n, b in enumerate(bots) if n != leader]
        assert all(b.adapter_states()["slack"][0] == "standby" for b in others)
        assert len(fake.calls_for("auth.test")) == 1  # one connection was ever made

        # The leader dies without a word (its renewals stop; its row stays).
        dead = bots[leader]
        assert dead.leadership is not None and dead.connections is not None
        await dead.leadership.stop_renewing()
        await dead.connections.stop()
        started = asyncio.get_running_loop().time()
        await wait_until(lambda: len(_connected(others)) == 1, timeout=3 * LEASE)
        took = asyncio.get_running_loop().time() - started
        assert took <= LEASE + LEASE / 3 + 2, took  # the lease ran out, then one renewal tick
        assert len(_connected(others)) == 1
        # The digests lease was renewed a moment after the connection's: it lapses as soon.
        await wait_until(lambda: sum(b.leads("digests") for b in others) == 1, timeout=LEASE)
    finally:
        for bot in bots:
            await bot.close()


async def test_a_second_bot_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    first = await open_bot(Settings(database_url=url), _cfg(), out=io.StringIO(),
                           platforms=["console"])  # fmt: skip
    second = await open_bot(Settings(database_url=url), _cfg(), out=io.StringIO(),
                            platforms=["console"])  # fmt: skip
    try:
        await first.start(expand("all"), owner="first:1")
        with pytest.raises(SharingRefused, match="cannot be shared") as refused:
            await second.start(expand("ingest"), owner="second:1")
        assert "first:1" in str(refused.value) and "ingest" in str(refused.value)
        assert "\n" not in str(refused.value)
    finally:
        await second.close()
        await first.close()


async def test_run_says_in_one_line_it_cannot_share_sqlite(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add_feed("ok.xml", [{"title": "Fixture", "url": "https://example.org/a"}])
    config = _config_with_feeds(tmp_path, {"Good feed": feed_server.url("ok.xml")}, interval="1h")
    env = _env(tmp_path, config)
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert first.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not any("newsbot running" in line for line in lines):
                line = (await first.stdout.readline()).decode()
                assert line, "newsbot run exited early:\n" + "".join(lines)
                lines.append(line)
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", "--role", "chat", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, err = await asyncio.wait_for(second.communicate(), timeout=30)
    finally:
        first.send_signal(signal.SIGINT)
        await asyncio.wait_for(first.communicate(), timeout=30)
    assert second.returncode == 1, (out + err).decode()
    errors = [x for x in err.decode().splitlines() if x.startswith("Error:")]
    assert len(errors) == 1 and "cannot be shared" in errors[0], err.decode()
    assert "Traceback" not in err.decode()
    assert first.returncode == 0


async def test_the_digests_leader_follows_digest_settings_changed_elsewhere(
    tmp_path: Path,
) -> None:
    bot = await open_bot(Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}"), _cfg(),
                         out=io.StringIO(), platforms=["console"])  # fmt: skip
    try:
        await bot.start(expand("all"), owner="only:1")
        assert bot.leads("digests") and bot.digest_lead is not None and bot.scheduler
        jobs = bot.scheduler.scheduler

        # Another worker answered `/news digest daily 08:00 UTC`: only the row changed.
        def add(s: Session) -> int:
            daily = {"every": "daily", "at": "08:00", "tz": "UTC"}
            row = SubscriptionRow(platform="slack", workspace="T1", channel="C1", topics=["x"],
                                  mode="both", since=datetime.now(UTC), created_by="U1",
                                  digest=daily)  # fmt: skip
            s.add(row)
            s.flush()
            return row.id

        sub_id = await bot.db.run(add)
        job_id = DIGEST_JOB.format(sub_id)
        assert jobs.get_job(job_id) is None
        await bot.digest_lead.sync()
        job = jobs.get_job(job_id)
        assert job is not None and "hour='8'" in str(job.trigger)

        def realtime(s: Session) -> None:
            row = s.get(SubscriptionRow, sub_id)
            assert row is not None
            row.mode = "realtime"

        await bot.db.run(realtime)
        await bot.digest_lead.sync()
        assert jobs.get_job(job_id) is None
    finally:
        await bot.close()
