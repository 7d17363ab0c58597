"""One fault, next to a healthy feed, through the real bot: serve, run a cycle, assert.

A case (``Fault``) says how the hostile site answers and what the bot must do about it. The
harness serves a healthy feed beside it (a fresh, relevant US–India defence report), opens the
real app (``open_bot`` with the console adapter, a SQLite file per test), runs forced poll
cycles, and then asserts for every case:

* the healthy feed's report was stored and posted, once;
* nothing was posted twice (one alert per story, no article in two cards);
* every stored item is plain, visible text with a web link or none and a plausible date;
* every posted card, as the Slack and Discord renderers draw it, pings nobody, links only to
  web addresses the bot built, hides no characters and stays within the platform's limits;
* the hostile feed's ``last_error``: none when it should succeed, else one line that names the
  problem and (for fetch failures) says what to do;

and then the case's own checks on what was stored.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import open_bot
from bot.config import AppConfig, FeedConfig, load_config
from bot.core.cards import load_card
from bot.core.models import StoryCard
from bot.settings import DEFAULT_CONFIG, Settings
from bot.storage.tables import DeliveryRow, FeedRow, ItemRow
from tests.conftest import TESTDATA
from tests.fakes.dns import MapResolver
from tests.faults import checks
from tests.faults.rawserver import RawServer
from tests.feedserver import FeedServer, rss_from_items

DEV = {
    row["id"]: row
    for row in map(json.loads, (TESTDATA / "eval" / "dev.jsonl").read_text().splitlines())
}
HEALTHY = DEV["dev-001"]  # Tiger Triumph: the healthy feed's report in every case
# Relevant reports of other stories, for hostile feeds to carry.
COCHIN, SOSA, MALABAR, QUAD = DEV["dev-003"], DEV["dev-011"], DEV["dev-019"], DEV["dev-016"]
SENSEX = DEV["dev-010"]  # not relevant
TIMEOUT = 1.0  # poll.timeout in every case: stalls and trickles outlast it
MAX_BYTES = 2_000_000  # poll.max_bytes in every case


def fresh(row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A report as a feed lists it, published an hour ago (old news is not alerted)."""
    item = {k: row[k] for k in ("title", "summary", "url", "source")}
    item |= {"guid": row["url"], "published": datetime.now(UTC) - timedelta(hours=1)}
    return item | changes


def rss(*items: dict[str, Any]) -> str:
    return rss_from_items(items, title="Hostile Outlet")


@dataclass
class Sites:
    """The loopback servers a case may use, and a private directory."""

    web: FeedServer
    raw: RawServer
    other: FeedServer  # on 127.0.0.2: another private address than the feed's own
    tmp: Path
    # The DNS the bot's fetcher asks: names a case maps to loopback addresses (rebinding).
    dns: MapResolver = field(default_factory=lambda: MapResolver({}))


@dataclass
class Outcome:
    """What a case left behind, read from the database and the console."""

    feed: FeedRow  # the hostile feed's row
    items: list[ItemRow]  # the hostile feed's stored items
    all_items: list[ItemRow]
    cards: list[StoryCard]  # the stories posted, as delivered
    console: str
    sites: Sites
    connections: list[Any]

    def titles(self) -> list[str]:
        return [i.title for i in self.items]


Check = Callable[[Outcome], None]


@dataclass
class Fault:
    """One kind of hostile or odd response, and what the bot must do about it.

    ``serve`` sets the hostile site up and returns the feed's address. ``fails`` is None when
    the feed must be read, else patterns its one-line message must contain; ``advice`` asks the
    message to say what to do. ``stored`` is the number of the hostile feed's items kept (None:
    not checked); ``check`` any further assertion. ``between`` changes the site before each
    later cycle. ``xfail`` names the fix on another branch the case waits for.
    """

    id: str
    serve: Callable[[Sites], str]
    fails: tuple[str, ...] | None = None
    advice: bool = True
    stored: int | None = None
    check: Check | None = None
    cycles: int = 1
    between: Callable[[Sites], None] | None = None
    xfail: str | None = None
    skip: str | None = None
    warns: str | None = None  # a pattern the log must show (a skipped item's warning)
    marks: Sequence[Any] = field(default_factory=tuple)


def params(faults: Sequence[Fault]) -> list[Any]:
    """The cases as pytest params, each under its fault's id, with its xfail or skip mark."""
    ids = [f.id for f in faults]
    assert len(ids) == len(set(ids)), "fault ids must be unique"
    out = []
    for f in faults:
        marks = list(f.marks)
        if f.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=f"issue 12: {f.xfail}"))
        if f.skip:
            marks.append(pytest.mark.skip(reason=f.skip))
        out.append(pytest.param(f, id=f.id, marks=marks))
    return out


def config(healthy: str, hostile: str) -> AppConfig:
    base = load_config(DEFAULT_CONFIG)
    poll = base.poll.model_copy(
        update={"timeout": TIMEOUT, "max_bytes": MAX_BYTES, "alert_on_first_poll": True}
    )
    feeds = [
        FeedConfig.model_validate({"url": url, "name": name, "allow_private": True})
        for url, name in ((healthy, "Healthy Outlet"), (hostile, "Hostile Outlet"))
    ]
    return base.model_copy(update={"poll": poll, "feeds": feeds})


async def run(
    fault: Fault, sites: Sites, connections: list[Any], log: pytest.LogCaptureFixture | None = None
) -> Outcome:
    """Serve the fault next to a healthy feed, run the cycles, and assert what every case must."""
    healthy = sites.web.add_feed("/healthy.xml", [fresh(HEALTHY)], title="Healthy Outlet")
    hostile = fault.serve(sites)
    out = io.StringIO()
    bot = await open_bot(
        Settings(database_url=f"sqlite:///{sites.tmp / 'bot.db'}"),
        config(healthy, hostile),
        out=out,
        platforms=["console"],
        resolver=sites.dns,
    )
    try:
        for n in range(fault.cycles):
            if n and fault.between is not None:
                fault.between(sites)
            await bot.pipeline.run_cycle(force=True)
        outcome = await bot.db.run(lambda s: _read(s, hostile, out.getvalue(), sites, connections))
    finally:
        await bot.close()
    # The case's own checks first: where a case waits for a fix, what already holds on main
    # (no secret read, no DTD fetched) is still asserted before the common checks fail.
    if fault.stored is not None:
        assert len(outcome.items) == fault.stored, f"stored {outcome.titles()!r}"
    if fault.check is not None:
        fault.check(outcome)
    if fault.warns is not None:
        assert log is not None and re.search(fault.warns, log.text, re.IGNORECASE), "no warning"
    assert_common(fault, outcome)
    return outcome


def _read(s: Any, hostile: str, console: str, sites: Sites, connections: list[Any]) -> Outcome:
    feeds = {f.name: f for f in s.scalars(select(FeedRow))}
    feed = feeds["Hostile Outlet"]
    items = list(s.scalars(select(ItemRow).order_by(ItemRow.id)))
    stories = s.scalars(
        select(DeliveryRow.story_id).where(
            DeliveryRow.status == "sent", DeliveryRow.kind == "alert"
        )
    ).all()
    cards = [load_card(s, story_id) for story_id in stories if story_id is not None]
    mine = [i for i in items if i.feed_id == feed.id]
    return Outcome(feed, mine, items, cards, console, sites, list(connections))


def assert_common(fault: Fault, o: Outcome) -> None:
    checks.check_stored(o.all_items)
    healthy = [i for i in o.all_items if i.url == HEALTHY["url"]]
    assert len(healthy) == 1, "the healthy feed's report was not stored once"
    posted = [s.url for c in o.cards for s in c.sources if s.url]
    assert posted.count(HEALTHY["url"]) == 1, "the healthy feed's report was not posted once"
    assert len(posted) == len(set(posted)), "an article is in two posted cards"
    alerts = re.findall(r"^\[ALERT\] .*\((\S+)\)$", o.console, re.MULTILINE)
    assert len(alerts) == len(set(alerts)) == len(o.cards), "a story was posted twice"
    checks.check_renders(o.cards)
    if fault.fails is None:
        assert o.feed.last_error is None, f"the feed failed: {o.feed.last_error}"
    else:
        assert o.feed.last_error, "the hostile feed did not fail"
        checks.check_message(o.feed.last_error, *fault.fails, advice=fault.advice)


def posted_titles(o: Outcome) -> list[str]:
    return [s.title for c in o.cards for s in c.sources]


def no_connection_to(o: Outcome, port: int) -> None:
    assert not [c for c in o.connections if isinstance(c, tuple) and c[1] == port]
