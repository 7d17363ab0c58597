"""Admin edits from chat: permission, audit in the same transaction, revert, SSRF guard,
dry-run replay, poll rescheduling and export/re-import, on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import AppConfig, parse_config
from bot.core.admin import ADMINS_ONLY
from bot.core.commands import Commands
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.core.probe import DefaultHooks
from bot.core.schedule import POLL_JOB, BotScheduler
from bot.core.track import suggest_terms
from bot.storage.configstore import load_runtime, seed
from bot.storage.db import Database
from bot.storage.tables import AuditRow, FeedRow, TopicRow
from tests.core.newsdata import add_item
from tests.feedserver import FeedServer

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("slack", "T1", "C1", "news")
ADMIN = UserRef("slack", "T1", "U-ADMIN", "asha", is_admin=True, is_owner=True)
BOB = UserRef("slack", "T1", "U-BOB", "bob")
RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback Defence</title>
<link>https://example.org/</link><description>d</description>
<item><title>India, US hold talks</title><link>https://example.org/1</link>
<guid>1</guid></item></channel></rss>"""


async def commands_for(db: Database, cfg: AppConfig, **kwargs: object) -> Commands:
    await db.run(lambda s: seed(s, cfg, now=NOW - timedelta(days=30)))
    return Commands(db, cfg, clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
async def commands(db: Database, cfg: AppConfig) -> Commands:
    return await commands_for(db, cfg)


async def run(commands: Commands, text: str, user: UserRef = ADMIN) -> Reply:
    return await commands.handle(Command(text, user, CHANNEL))


def audit_rows(s: Session) -> list[AuditRow]:
    return list(s.scalars(select(AuditRow).order_by(AuditRow.id)))


def feed(s: Session, name: str) -> FeedRow:
    return s.scalars(select(FeedRow).where(FeedRow.name == name)).one()


async def test_non_admin_is_refused_and_nothing_changes(commands: Commands, db: Database) -> None:
    before = await db.run(load_runtime)
    for text in (
        "admin feeds pause 1",
        "admin threshold relevance 0.9",
        "admin audit",
        "admin schedule poll 5m",
        "admin topics edit diplomacy terms add summit",
    ):
        reply = await run(commands, text, user=BOB)
        assert not reply.ok and reply.text == ADMINS_ONLY
    assert await db.run(load_runtime) == before
    assert await db.run(audit_rows) == []


async def test_pause_is_audited_and_reverted(commands: Commands, db: Database) -> None:
    reply = await run(commands, "admin feeds pause The Diplomat")
    assert reply.ok and "Feed **The Diplomat** paused" in reply.text
    assert (await db.run(lambda s: feed(s, "The Diplomat"))).paused
    [entry] = await db.run(audit_rows)
    assert (entry.platform, entry.workspace, entry.user_id, entry.user_name) == (
        "slack", "T1", "U-ADMIN", "asha")  # fmt: skip
    assert entry.action == "feeds.pause" and entry.at == NOW
    assert entry.before is not None and entry.after is not None
    assert (entry.before["paused"], entry.after["paused"]) == (False, True)

    reply = await run(commands, f"admin revert {entry.id}")
    assert reply.ok and f"Reverted #{entry.id}" in reply.text
    assert not (await db.run(lambda s: feed(s, "The Diplomat"))).paused
    first, undo = await db.run(audit_rows)
    assert undo.reverts_id == first.id and undo.action == "revert"
    assert undo.before == first.after and undo.after == first.before

    listing = await run(commands, "admin audit 5")
    assert [f.name.split()[0] for f in listing.fields] == [f"#{undo.id}", f"#{first.id}"]
    assert "already undone" in (await run(commands, f"admin revert {entry.id}")).text


async def test_remove_and_revert_brings_the_feed_back(commands: Commands, db: Database) -> None:
    await run(commands, "admin feeds remove Breaking Defense")
    names = await db.run(lambda s: [f.name for f in s.scalars(select(FeedRow))])
    assert "Breaking Defense" not in names
    [entry] = await db.run(audit_rows)
    await run(commands, f"admin revert {entry.id}")
    assert (await db.run(lambda s: feed(s, "Breaking Defense"))).url == (
        "https://breakingdefense.com/feed/"
    )
    assert len(await db.run(audit_rows)) == 2  # nothing is deleted from the trail


async def test_feed_mistakes(commands: Commands) -> None:
    reply = await run(commands, "admin feeds pause Breaking Defence")
    assert "did you mean `Breaking Defense`?" in reply.text
    assert "Usage: `/news admin feeds pause <feed>`" in reply.text
    assert "did you mean `#" not in (await run(commands, "admin revert 99")).text
    assert "unknown audit entry `99`" in (await run(commands, "admin revert 99")).text
    assert "whole number" in (await run(commands, "admin revert last")).text


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/rss", "http://10.1.2.3/feed", "http://169.254.169.254/latest/",
     "http://localhost/feed", "http://[::1]/rss", "http://192.168.0.10/rss"],
)  # fmt: skip
async def test_private_feed_address_is_refused(url: str, commands: Commands, db: Database) -> None:
    reply = await run(commands, f"admin feeds add {url} Internal")
    metadata = "169.254" in url
    if metadata:
        assert not reply.ok and "a link-local (cloud metadata) address; refused" in reply.text
        # Not even a feed allowed onto a private network may reach it.
        allowed = await run(commands, f"admin feeds add {url} Internal --allow-private")
        assert not allowed.ok and "cloud metadata" in allowed.text
    else:
        assert not reply.ok and "a private address; refused" in reply.text
        assert "add it with --allow-private" in reply.text
    assert await db.run(lambda s: s.scalar(select(func.count()).select_from(AuditRow))) == 0
    assert (
        await db.run(lambda s: s.scalars(select(FeedRow).where(FeedRow.url == url)).first()) is None
    )


@pytest.fixture
async def feed_site() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


async def test_added_feed_is_fetched_and_validated_first(
    db: Database, cfg: AppConfig, feed_site: FeedServer
) -> None:
    commands = await commands_for(db, cfg)
    url = feed_site.set_feed("/defence.xml", RSS)
    refused = await run(commands, f"admin feeds add {url}")
    assert not refused.ok and "127.0.0.1 resolves to 127.0.0.1, a private address" in refused.text
    reply = await run(commands, f"admin feeds add {url} --allow-private")
    assert reply.ok and "Added feed **Loopback Defence** (1 items now" in reply.text
    listing = await run(commands, "admin feeds list")
    [shown] = [f.value for f in listing.fields if url in f.value]
    assert "allowed on a private network" in shown
    assert await db.run(lambda s: feed(s, "Loopback Defence").allow_private) is True
    assert "already a feed" in (await run(commands, f"admin feeds add {url}")).text

    page = feed_site.set_response("/page.html", body="<html><body>hi</body></html>",
                                  content_type="text/html")  # fmt: skip
    reply = await run(commands, f"admin feeds add {page} Page --allow-private")
    assert not reply.ok and "HTML page, not a feed" in reply.text
    missing = feed_site.url("/missing.xml")
    assert not (await run(commands, f"admin feeds add {missing} --allow-private")).ok
    assert len(await db.run(audit_rows)) == 1


async def test_topic_edit_audit_and_revert(commands: Commands, db: Database) -> None:
    reply = await run(commands, "admin topics edit emerging-tech terms add zorblax, Hypersonics")
    assert reply.ok
    terms = (await db.run(lambda s: s.get(TopicRow, "emerging-tech"))).terms  # type: ignore[union-attr]
    assert terms[-2:] == ["zorblax", "Hypersonics"]
    shown = await run(commands, "admin topics show emerging-tech")
    assert "zorblax, Hypersonics" in shown.fields[0].value
    [entry] = await db.run(audit_rows)
    await run(commands, f"admin revert {entry.id}")
    cfg = await db.run(load_runtime)
    assert "zorblax" not in next(t for t in cfg.topics if t.id == "emerging-tech").terms
    reply = await run(commands, "admin topics edit diplomacy description Summits and 2+2 talks.")
    assert reply.ok
    assert (await db.run(lambda s: s.get(TopicRow, "diplomacy"))).description == (  # type: ignore[union-attr]
        "Summits and 2+2 talks."
    )


async def test_topic_edit_mistakes(commands: Commands) -> None:
    reply = await run(commands, "admin topics edit emerging-tec terms add x")
    assert "did you mean `emerging-tech`?" in reply.text
    assert (
        "did you mean `add`?"
        in (await run(commands, "admin topics edit diplomacy terms ad x")).text
    )
    reply = await run(commands, "admin topics edit diplomacy terms remove nonsense-term")
    assert "unknown term `nonsense-term`" in reply.text
    assert (
        "did you mean `terms`?"
        in (await run(commands, "admin topics edit diplomacy term add x")).text
    )


async def test_dry_run_replays_the_last_week_and_changes_nothing(
    commands: Commands, db: Database
) -> None:
    def items(s: Session) -> None:
        for day in range(3):
            add_item(s, f"India and US partner on zorblax research, day {day}",
                     seen=NOW - timedelta(days=day, hours=1))  # fmt: skip
        add_item(s, "India and US partner on zorblax, long ago", seen=NOW - timedelta(days=9))
        add_item(s, "India and US sign defence framework agreement; Rajnath Singh meets Hegseth",
                 seen=NOW - timedelta(hours=2))  # fmt: skip

    await db.run(items)
    before = await db.run(load_runtime)
    reply = await run(commands, "admin topics edit emerging-tech terms add zorblax --dry-run")
    assert reply.ok and "over 4 items of the last 7 days (nothing changed)" in reply.text
    fields = {f.name: f.value for f in reply.fields}
    assert "would add 3" in fields and "zorblax research, day 0" in fields["would add 3"]
    assert fields["stories per day"].splitlines()[-1] == "2025-11-03: 1 → 2"
    assert await db.run(load_runtime) == before and await db.run(audit_rows) == []

    reply = await run(commands, "admin threshold framework-agreement 0.9 --dry-run")
    assert reply.ok and "would drop 0" in {f.name for f in reply.fields}
    assert "has no --dry-run" in (await run(commands, "admin feeds list --dry-run")).text


async def test_threshold_edits(commands: Commands, db: Database) -> None:
    assert (await run(commands, "admin threshold relevance 0.6")).ok
    assert (await db.run(load_runtime)).thresholds.relevance == 0.6
    assert (await run(commands, "admin threshold diplomacy 0.7")).ok
    cfg = await db.run(load_runtime)
    assert next(t for t in cfg.topics if t.id == "diplomacy").threshold == 0.7
    assert "between 0 and 1" in (await run(commands, "admin threshold relevance 7")).text
    assert (
        "did you mean `relevance`?" in (await run(commands, "admin threshold relevence 0.5")).text
    )
    assert len(await db.run(audit_rows)) == 2


async def test_changing_the_poll_interval_reschedules_the_running_job(
    db: Database, cfg: AppConfig
) -> None:
    polls: list[datetime] = []

    async def poll() -> None:
        polls.append(datetime.now(UTC))

    scheduler = BotScheduler(poll, interval=cfg.poll.interval)
    scheduler.start(first_run=datetime.now(UTC) + timedelta(days=1))
    try:
        hooks = DefaultHooks(on_poll_interval=scheduler.reschedule_poll)
        commands = await commands_for(db, cfg, hooks=hooks)
        job = scheduler.scheduler.get_job(POLL_JOB)
        assert job.trigger.interval == timedelta(minutes=15)
        reply = await run(commands, "admin schedule poll 5m")
        assert reply.ok and "every 5m" in reply.text
        job = scheduler.scheduler.get_job(POLL_JOB)
        assert job.trigger.interval == timedelta(minutes=5)
        assert (await db.run(load_runtime)).poll.interval == 300
        [entry] = await db.run(audit_rows)
        await run(commands, f"admin revert {entry.id}")
        assert scheduler.scheduler.get_job(POLL_JOB).trigger.interval == timedelta(minutes=15)
        assert "between 1m and 24h" in (await run(commands, "admin schedule poll 5s")).text
        assert "not a duration" in (await run(commands, "admin schedule poll soon")).text
    finally:
        await scheduler.shutdown()


async def test_export_then_reimport_gives_the_same_config(
    commands: Commands, db: Database, cfg: AppConfig, tmp_path: Path
) -> None:
    await run(commands, "admin topics edit diplomacy terms add summit")
    await run(commands, "admin schedule poll 10m")
    reply = await run(commands, "admin export")
    (attachment,) = reply.attachments
    assert attachment.filename == "newsbot-config.yaml" and "config apply" in reply.text
    text = attachment.data.decode("utf-8")
    exported = parse_config(text, tmp_path / "exported.yaml")
    assert exported == await db.run(load_runtime)
    assert exported.poll.interval == 600 and "summit" in exported.topics[6].terms
    fresh = Database.open(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        await fresh.run(lambda s: seed(s, exported))
        assert await fresh.run(load_runtime) == exported
    finally:
        fresh.close()
    assert yaml.safe_load(text)["topics"][0]["id"] == "framework-agreement"


async def test_track_suggests_terms_for_the_admin(commands: Commands, cfg: AppConfig) -> None:
    article = (
        "India and the United States agreed to co-produce Javelin missiles and Stryker "
        "combat vehicles. The co-production deal for Javelin missiles will be signed in Delhi. "
        "Officials said the Ghatak stealth drone programme supports defence industry "
        "cooperation. The Ghatak stealth drone would be built in Bengaluru."
    )
    reply = await run(commands, f"admin track {article}")
    assert reply.ok
    suggested = " ".join(f.value for f in reply.fields)
    assert (
        "Ghatak" in suggested
        and "Javelin" not in suggested
        and "/news admin topics edit" in suggested
    )
    assert suggest_terms(article, cfg)  # the same suggestions, callable directly
    assert not (await run(commands, "admin track too short")).ok


async def test_allow_private_is_audited_and_reverted(commands: Commands, db: Database) -> None:
    reply = await run(commands, "admin feeds allow-private The Diplomat on")
    assert reply.ok and "may now reach its own host on a private network" in reply.text
    assert await db.run(lambda s: feed(s, "The Diplomat").allow_private) is True
    [entry] = await db.run(audit_rows)
    assert entry.action == "feeds.allow-private"
    assert entry.before["allow_private"] is False and entry.after["allow_private"] is True
    again = await run(commands, "admin feeds allow-private The Diplomat on")
    assert "already has allow-private on" in again.text
    assert (await run(commands, f"admin revert {entry.id}")).ok
    assert await db.run(lambda s: feed(s, "The Diplomat").allow_private) is False
    bad = await run(commands, "admin feeds allow-private The Diplomat maybe")
    assert not bad.ok and "Usage: `/news admin feeds allow-private <feed> on|off`" in bad.text


async def test_channel_settings_are_audited_as_diffs_and_can_be_reverted(
    commands: Commands, db: Database
) -> None:
    assert (await run(commands, "subscribe diplomacy")).ok
    assert (await run(commands, "mode both", user=BOB)).ok
    assert (await run(commands, "cap 5", user=BOB)).ok
    assert (await run(commands, "include tariff, sanctions", user=BOB)).ok
    assert (await run(commands, "cap 5", user=BOB)).ok  # no change, no entry

    mode, cap, words = await db.run(audit_rows)
    assert [e.action for e in (mode, cap, words)] == ["channel.mode", "channel.cap",
                                                      "channel.include"]  # fmt: skip
    assert mode.target == "channel:slack/T1/C1" and mode.user_id == "U-BOB"
    listing = await run(commands, "admin audit 3")
    shown = [f.value for f in listing.fields]
    assert shown == [
        "channel slack/T1/C1: include_words [] → ['tariff', 'sanctions']",
        "channel slack/T1/C1: hourly_cap unset → 5",
        "channel slack/T1/C1: mode realtime → both",
    ]

    assert (await run(commands, f"admin revert {cap.id}")).ok
    settings = await run(commands, "subscriptions")
    shown_now = {f.name: f.value for f in settings.fields}
    assert (shown_now["hourly cap"], shown_now["mode"]) == ("off", "both")


async def test_an_audited_edit_shows_what_changed_not_two_snapshots(commands: Commands) -> None:
    await run(commands, "admin topics edit emerging-tech terms add zorblax")
    await run(commands, "admin feeds pause The Diplomat")

    pause, terms = (await run(commands, "admin audit 2")).fields

    assert terms.value == "topic emerging-tech: terms +zorblax"
    assert pause.value == 'feed "The Diplomat" (https://thediplomat.com/feed/): paused False → True'


async def test_a_sites_address_adds_the_feed_its_page_names(
    db: Database, cfg: AppConfig, feed_site: FeedServer
) -> None:
    commands = await commands_for(db, cfg)
    feed_url = feed_site.set_feed("/rss/defence.xml", RSS)
    page = feed_site.set_response(
        "/news/",
        body='<html><head><link rel="alternate" type="application/rss+xml" title="Defence" '
        'href="/rss/defence.xml"><link rel="alternate" type="application/atom+xml" '
        'href="/atom.xml"></head><body>News</body></html>',
        content_type="text/html",
    )

    reply = await run(commands, f"admin feeds add {page} --allow-private")

    assert reply.ok and "Added feed **Loopback Defence**" in reply.text
    assert f"Found at {feed_url} (named by the page {page})" in reply.text
    assert feed_site.url("/atom.xml") in reply.text  # the page's other feed, named
    assert (await db.run(lambda s: feed(s, "Loopback Defence"))).url == feed_url
    again = await run(commands, f"admin feeds add {page} --allow-private")
    assert not again.ok and "which is already a feed" in again.text
