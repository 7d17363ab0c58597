"""The demo: two poll cycles against local feeds, showing the backlog rule and live alerts."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from bot.app import open_bot
from bot.config import AppConfig, FeedConfig
from bot.core.pipeline import CycleReport
from bot.demo.feeds import DemoFeedServer, load_demo_items, split_into_feeds
from bot.settings import Settings

FEEDS = 6
FIRST_PUBLISHED = 0.25  # share of each feed's items already out before the bot's first poll


@dataclass(frozen=True, slots=True)
class DemoReport:
    first: CycleReport
    second: CycleReport
    seconds: float


async def run_demo(cfg: AppConfig, out: TextIO, *, workdir: Path | None = None) -> DemoReport:
    started = time.perf_counter()
    server = DemoFeedServer(split_into_feeds(load_demo_items(), FEEDS))
    await server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="newsbot-demo-") as tmp:
            folder = workdir or Path(tmp)
            return await _two_cycles(cfg, out, server, folder, started)
    finally:
        await server.stop()


async def _two_cycles(
    cfg: AppConfig, out: TextIO, server: DemoFeedServer, folder: Path, started: float
) -> DemoReport:
    feeds = [
        # The demo's outlets are on loopback: each feed is allowed onto it.
        FeedConfig.model_validate(
            {"url": server.url(n), "name": f"Demo outlet {n + 1}", "allow_private": True}
        )
        for n in range(FEEDS)
    ]
    # The demo replays recorded articles as if live: their real dates would trip poll.max_age.
    replay = cfg.poll.model_copy(update={"max_age": 0.0})
    demo_cfg = cfg.model_copy(update={"feeds": feeds, "poll": replay})
    settings = Settings(database_url=f"sqlite:///{folder / 'demo.db'}")
    bot = await open_bot(settings, demo_cfg, out=out, platforms=["console"])
    try:
        server.publish(FIRST_PUBLISHED)
        _say(out, f"newsbot demo: {FEEDS} feeds on 127.0.0.1:{server.port}, a database in {folder}")
        _say(out, "── cycle 1: the bot meets these feeds for the first time ──")
        first = await bot.pipeline.run_cycle(force=True)
        _say(
            out,
            f"cycle 1: {first.new_items} items stored as backlog ({first.relevant} relevant), "
            f"{first.flush.posted} alerts: a new feed's backlog never floods the channel.",
        )
        server.publish(1.0)
        _say(out, "── cycle 2: the outlets publish the rest; new items are alerted live ──")
        second = await bot.pipeline.run_cycle(force=True)
        _say(
            out,
            f"cycle 2: {second.new_items} new items, {second.relevant} relevant, "
            f"{len(second.stories)} stories; {second.flush.posted} alerts posted, "
            f"{second.flush.updated} updated with another outlet's report; "
            f"{second.new_items - second.relevant} irrelevant items not alerted.",
        )
    finally:
        await bot.close()
    seconds = time.perf_counter() - started
    _say(out, f"demo finished in {seconds:.1f}s")
    return DemoReport(first, second, seconds)


def _say(out: TextIO, text: str) -> None:
    print(text, file=out, flush=True)
