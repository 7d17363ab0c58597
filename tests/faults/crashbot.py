"""A real `newsbot run` process for the crash tests: its config (loopback feeds, short poll
interval and lease), its database (a SQLite file, or a PostgreSQL schema of its own), the
fake Slack it posts to, and what the database and the fake say about its alerts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from bot.config import load_config
from bot.core.models import ChannelRef
from bot.settings import DEFAULT_CONFIG
from bot.storage.configstore import seed
from bot.storage.db import Database
from bot.storage.subscriptions import get_or_create
from bot.storage.tables import (
    DeliveryRow,
    ItemRow,
    MatchRow,
    StoryItemRow,
    StoryRow,
    SubscriptionRow,
)
from tests.conftest import TESTDATA
from tests.fakes.fake_slack import FakeSlack
from tests.feedserver import FeedServer

INTERVAL = 2.0  # seconds between poll ticks
LEASE = 5.0  # poll.lease: the smallest the config allows
CHANNEL = "C0NEWS"


def write_config(tmp_path: Path, feeds: dict[str, str]) -> Path:
    """The shipped topics and matching, with loopback feeds and short intervals."""
    data = yaml.safe_load(DEFAULT_CONFIG.read_text())
    data["feeds"] = [{"name": n, "url": u, "allow_private": True} for n, u in feeds.items()]
    # max_age 0: the labelled set's articles carry their real (old) dates yet stand for news.
    data["poll"].update(interval=f"{INTERVAL}s", lease=f"{LEASE}s", max_age=0, timeout="20s")
    path = tmp_path / "newsbot.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@contextmanager
def database_url(kind: str, tmp_path: Path, postgres_url: str | None) -> Iterator[str]:
    """A SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    assert postgres_url
    schema = f"crash_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_url else "?"
    try:
        yield postgres_url + sep + f"options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def prepare(url: str, config: Path, fake: FakeSlack) -> Database:
    """Migrate and seed as a first start would, and subscribe the fake's channel to every
    topic, as an admin's `/news subscribe` would (since long ago: a restarted bot's view)."""
    db = Database.open(url)
    cfg = load_config(config)

    def setup(s: Session) -> None:
        seed(s, cfg)
        ref = ChannelRef("slack", fake.team_id, CHANNEL, fake.channels[CHANNEL])
        row = get_or_create(s, ref, now=datetime(2020, 1, 1, tzinfo=UTC))
        row.topics = [t.id for t in cfg.topics]

    db.transaction(setup)
    return db


def _labelled() -> tuple[list[list[dict[str, Any]]], list[dict[str, Any]]]:
    """The labelled set's relevant reports, a story's reports together, and the others."""
    rows = [json.loads(x) for x in (TESTDATA / "eval" / "dev.jsonl").read_text().splitlines()]
    stories: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["relevant"]:
            stories.setdefault(str(row["story"]), []).append(row)
    return list(stories.values()), [r for r in rows if not r["relevant"]]


def item(row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    item = {k: row[k] for k in ("title", "summary", "url", "published", "source")}
    return item | {"guid": row["url"]} | changes


class Site:
    """The two loopback feeds the bot polls; each stage adds reports to one of them."""

    def __init__(self, server: FeedServer) -> None:
        self.server = server
        relevant, other = _labelled()
        self.relevant, self.other = relevant, other
        self.fast: list[dict[str, Any]] = [item(other[0])]
        self.slow: list[dict[str, Any]] = [item(other[1])]
        self.publish(slow_delay=None)

    def next_reports(self, stories: int = 3) -> list[dict[str, Any]]:
        """A few relevant stories' reports and an unrelated one, not served before."""
        picked = [item(r) for story in self.relevant[:stories] for r in story]
        del self.relevant[:stories]
        return [*picked, item(self.other.pop(2))]

    def served(self) -> int:
        """How many distinct reports the feeds carry: all of them are stored once polled."""
        return len({i["url"] for i in [*self.fast, *self.slow]})

    def publish(self, *, slow_delay: float | None) -> None:
        self.server.add_feed("/fast.xml", self.fast, last_modified=None)
        self.server.add_feed("/slow.xml", self.slow, last_modified=None, delay=slow_delay)


# Every bot process a test started; whatever still runs when the test ends (it failed midway)
# is killed by tests/faults/conftest.py, never left running after the suite.
STARTED: list[asyncio.subprocess.Process] = []


def kill_leftovers() -> None:
    while STARTED:
        proc = STARTED.pop()
        # Not reaped yet (returncode None): the pid is still this child's, never a reused one.
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


@dataclass
class BotProcess:
    """One `newsbot run`; its output lines are collected as they come."""

    proc: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    ready_at: float | None = None
    _reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, url: str, config: Path, fake: FakeSlack) -> BotProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))}
        env |= {
            "NEWSBOT_DATABASE_URL": url,
            "NEWSBOT_CONFIG": str(config),
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_APP_TOKEN": fake.app_token,  # Socket Mode, through the fake's websocket
            "SLACK_API_URL": fake.base_url,
            "NEWSBOT_SLACK_HTTP_HOST": "127.0.0.1",
        }
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        STARTED.append(proc)
        bot = cls(proc)
        bot._reader = asyncio.create_task(bot._read())
        return bot

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        while line := (await self.proc.stdout.readline()).decode(errors="replace"):
            if self.ready_at is None and "newsbot running" in line:
                self.ready_at = time.monotonic()
            self.lines.append(line)

    @property
    def output(self) -> str:
        return "".join(self.lines)

    async def wait_for(self, condition: Callable[[], bool], what: str, timeout: float) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.returncode is not None:
                raise AssertionError(f"newsbot exited while waiting for {what}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {what} within {timeout}s:\n{self.output}")
            await asyncio.sleep(0.01)

    async def wait_for_line(self, words: str, timeout: float = 30) -> None:  # noqa: ASYNC109
        await self.wait_for(lambda: any(words in x for x in self.lines), repr(words), timeout)

    async def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()
        if self._reader is not None:
            await self._reader

    async def stop(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(self.proc.wait(), timeout=40)
        if self._reader is not None:
            await self._reader
        return code


def posts(fake: FakeSlack) -> Counter[str]:
    """Top-level alert messages in the channel, counted by the delivery id they carry."""
    seen: Counter[str] = Counter()
    for message in fake.messages.get(CHANNEL, []):
        if message.get("thread_ts", message["ts"]) != message["ts"]:
            continue
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        if "delivery_id" in payload:
            seen[str(payload["delivery_id"])] += 1
    return seen


@dataclass(frozen=True)
class AlertState:
    relevant_items: int
    unposted_items: int  # relevant items whose story's alert does not show them yet
    story_deliveries: dict[int, int]  # story id -> its delivery id for the channel
    unmatched_items: int  # stored, no match yet
    unplanned_stories: int  # grouped, their alerts not planned yet
    stored_items: int

    @property
    def settled(self) -> bool:
        """Nothing left to match, plan or post."""
        return not (self.unmatched_items or self.unplanned_stories or self.unposted_items)


def alert_state(db: Database, posted: Counter[str]) -> AlertState:
    """Every relevant item, and whether its story's alert in the fake channel shows it."""

    def read(s: Session) -> AlertState:
        relevant = s.execute(
            select(StoryItemRow.item_id, StoryItemRow.story_id)
            .join(MatchRow, MatchRow.item_id == StoryItemRow.item_id)
            .where(MatchRow.relevant.is_(True))
        ).all()
        rows = s.execute(
            select(DeliveryRow)
            .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            .where(SubscriptionRow.channel == CHANNEL, DeliveryRow.kind == "alert")
        ).scalars()
        shown: dict[int, Any] = {r.story_id: r for r in rows if r.story_id is not None}
        per_story = Counter(story for _, story in relevant)
        unposted = 0
        for story, count in per_story.items():
            row = shown.get(story)
            if row is None or str(row.id) not in posted or row.items_posted < count:
                unposted += count
        unmatched = s.scalar(
            select(func.count())
            .select_from(ItemRow)
            .where(~ItemRow.id.in_(select(MatchRow.item_id)))
        )
        unplanned = s.scalar(select(func.count()).where(StoryRow.plan_due_at.is_not(None)))
        return AlertState(
            len(relevant),
            unposted,
            {k: v.id for k, v in shown.items()},
            unmatched or 0,
            unplanned or 0,
            s.scalar(select(func.count()).select_from(ItemRow)) or 0,
        )

    return db.transaction(read)
