"""The whole bot in process, in the manner of errbot's ``testbot``: a command test is one line.

``TestBot`` is the real composition (``bot.app.open_bot``: migrations, the seeded config, the
commands, the one outbox, the pipeline) on a SQLite file, with a ``RecordingAdapter`` as its
only chat platform and one loopback news site as its only feed::

    async def test_topics(testbot: TestBot) -> None:
        assert "framework-agreement" in (await testbot.push("/news topics")).text

Alerts are asserted on the recorded calls (``testbot.chat.posts``), not on rendered text.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.adapters.console import console_channel
from bot.app import NewsBot, open_bot
from bot.config import AppConfig, FeedConfig, load_config
from bot.core.fetch import Resolver
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.core.pipeline import CycleReport
from bot.settings import DEFAULT_CONFIG, Settings
from bot.storage.subscriptions import follow_everything
from tests.fakes.recording import RecordingAdapter
from tests.feedserver import FeedServer

FEED = "news.xml"
CHANNEL = ChannelRef("console", "local", "C-NEWS", "news")
MEMBER = UserRef("console", "local", "U-MEMBER", "mira")
OWNER = UserRef("console", "local", "U-OWNER", "olu", is_admin=True, is_owner=True)


@dataclass
class TestBot:
    """A running bot's parts, and the one-line ways to drive them."""

    __test__ = False  # a helper, not a test class

    bot: NewsBot
    chat: RecordingAdapter
    site: FeedServer

    async def push(self, text: str, *, owner: bool = False, channel: ChannelRef = CHANNEL) -> Reply:
        """Run a ``/news …`` command as a member (or the owner) in the news channel."""
        command = text.removeprefix("/news").strip()
        return await self.bot.commands.handle(Command(command, OWNER if owner else MEMBER, channel))

    def publish(self, items: Iterable[Mapping[str, Any]]) -> None:
        """Put these items in the news site's feed (its whole content from now on)."""
        self.site.add_feed(FEED, items)

    async def cycle(self) -> CycleReport:
        """One poll cycle: fetch, match, group, plan and post."""
        return await self.bot.pipeline.run_cycle(force=True)


@asynccontextmanager
async def recording_bot(
    cfg: AppConfig, tmp_path: Path, *, resolver: Resolver | None = None, follow_all: bool = True
) -> AsyncIterator[tuple[NewsBot, RecordingAdapter]]:
    """The composed bot on a SQLite file with a RecordingAdapter as its console platform;
    with ``follow_all`` the console channel follows every topic, as the real console does."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'bot.db'}")
    bot = await open_bot(settings, cfg, platforms=[], resolver=resolver)
    chat = RecordingAdapter(platform="console")
    bot.adapters["console"] = chat
    bot.outbox.adapters["console"] = chat
    if follow_all:
        where, topics = console_channel(), [topic.id for topic in cfg.topics]
        await bot.db.run(lambda s: follow_everything(s, where, topics, now=datetime.now(UTC)))
    try:
        yield bot, chat
    finally:
        await bot.close()


@asynccontextmanager
async def running_testbot(site: FeedServer, tmp_path: Path) -> AsyncIterator[TestBot]:
    site.add_feed(FEED, [])
    base = load_config(DEFAULT_CONFIG)
    feed = FeedConfig.model_validate({"url": site.url(FEED), "name": "Loopback News",
                                      "allow_private": True})  # fmt: skip
    cfg: AppConfig = base.model_copy(update={"feeds": [feed]})
    async with recording_bot(cfg, tmp_path, follow_all=False) as (bot, chat):
        yield TestBot(bot, chat, site)
