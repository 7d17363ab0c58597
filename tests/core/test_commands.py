"""`/news …` commands through the core on a real SQLite file: happy paths and user mistakes."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.commands import SPECS, Commands, reference_markdown
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.settings import DEFAULT_CONFIG
from bot.storage import subscriptions as subs_repo
from bot.storage.configstore import seed
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow, FeedbackRow, SubscriptionRow
from tests.core.newsdata import add_item, add_story

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("console", "local", "general", "general")
ALICE = UserRef("console", "local", "U1", "alice")


@pytest.fixture
async def commands(db: Database, cfg: AppConfig) -> Commands:
    await db.run(lambda s: seed(s, cfg, now=NOW - timedelta(days=30)))
    return Commands(db, cfg, clock=lambda: NOW)


@pytest.fixture
async def news(db: Database, commands: Commands) -> Database:
    """Three stories (the second follows the first), a military one, and an irrelevant item."""

    def write(s: Session) -> None:
        h = timedelta(hours=1)
        fa = ("framework-agreement",)
        hindu = add_item(
            s,
            "India, US sign 10-year defence framework",
            seen=NOW - 5 * h,
            relevant=True,
            topics=fa,
            source="The Hindu",
        )
        reuters = add_item(
            s,
            "US and India agree defence framework, Reuters",
            seen=NOW - 4 * h,
            relevant=True,
            topics=fa,
            source="Reuters",
        )
        first = add_story(
            s, "s-01", "India, US sign 10-year defence framework", fa, [reuters, hindu]
        )
        visit = add_item(
            s,
            "Hegseth to visit Delhi on framework follow-up",
            seen=NOW + h,
            relevant=True,
            topics=fa,
            source="ThePrint",
        )
        add_story(s, "s-02", "Hegseth to visit Delhi", fa, [visit], linked=first)
        drill = add_item(
            s,
            "Yudh Abhyas begins in Alaska",
            seen=NOW - 3 * h,
            relevant=True,
            topics=("military-exercises",),
            source="PIB",
        )
        add_story(s, "s-03", "Yudh Abhyas begins", ("military-exercises",), [drill])
        add_item(
            s,
            "Cricket: India beat Australia in Perth",
            seen=NOW - 2 * h,
            relevant=False,
            why="Not relevant: no US actor as a subject",
            source="ESPN",
        )
        add_item(s, "Unmatched item about framework", seen=NOW - 1 * h)  # fmt: skip

    await db.run(write)
    return db


async def run(commands: Commands, text: str, user: UserRef = ALICE,
              channel: ChannelRef = CHANNEL) -> Reply:  # fmt: skip
    return await commands.handle(Command(text, user, channel))


async def test_help_lists_the_commands_people_can_run(commands: Commands) -> None:
    reply = await run(commands, "help")
    assert reply.ok
    assert "/news subscribe <topic…>" in reply.text
    assert "admin feeds add" not in reply.text  # not an admin


async def test_unknown_command_suggests_the_closest(commands: Commands) -> None:
    reply = await run(commands, "subscrbe framework-agreement")
    assert not reply.ok and reply.ephemeral
    assert "did you mean `subscribe`?" in reply.text


async def test_topics_lists_all_nine(commands: Commands) -> None:
    reply = await run(commands, "topics")
    assert len(reply.fields) == 9
    assert "framework-agreement" in reply.fields[0].name


async def test_subscribe_then_subscriptions_then_unsubscribe(commands: Commands) -> None:
    reply = await run(commands, "subscribe framework-agreement military-exercises")
    assert reply.ok and not reply.ephemeral
    reply = await run(commands, "subscriptions")
    assert "framework-agreement, military-exercises" in reply.text
    assert any(f.name == "mode" and f.value == "realtime" for f in reply.fields)
    reply = await run(commands, "unsubscribe framework-agreement")
    assert reply.ok and "military-exercises" in reply.text
    assert "framework-agreement" not in reply.text


async def test_subscribe_to_a_misspelt_topic_names_the_closest(commands: Commands) -> None:
    reply = await run(commands, "subscribe framwork")
    assert not reply.ok
    assert "unknown topic `framwork`; did you mean `framework-agreement`?" in reply.text
    assert "Usage: `/news subscribe <topic…>`" in reply.text
    assert "follows no topics" in (await run(commands, "subscriptions")).text


async def test_subscribe_without_a_topic_shows_usage(commands: Commands) -> None:
    reply = await run(commands, "subscribe")
    assert not reply.ok and "missing <topic>" in reply.text


async def test_specs_cover_admin_commands(commands: Commands) -> None:
    names = {s.name for s in commands.specs()}
    assert {"admin feeds add", "admin revert", "digest daily", "subscribe"} <= names
    assert all(s.admin == s.name.startswith("admin") for s in commands.specs())


async def test_topic_completion(commands: Commands) -> None:
    assert await commands.complete("topic", "mil") == ["military-exercises"]


async def test_latest_shows_newest_stories_first(news: Database, commands: Commands) -> None:
    reply = await run(commands, "latest")
    assert [f.name.split()[0] for f in reply.fields] == ["`s-02`", "`s-03`", "`s-01`"]
    assert "2 reports" in reply.fields[2].value
    reply = await run(commands, "latest military-exercises 1")
    assert len(reply.fields) == 1 and "Yudh Abhyas" in reply.fields[0].name
    reply = await run(commands, "latest 2")
    assert len(reply.fields) == 2


async def test_latest_with_a_wrong_topic_or_count(news: Database, commands: Commands) -> None:
    reply = await run(commands, "latest militry")
    assert not reply.ok and "did you mean `military-exercises`?" in reply.text
    reply = await run(commands, "latest diplomacy many")
    assert not reply.ok and "<n> must be a whole number, not `many`" in reply.text


async def test_search_finds_items_by_every_word(news: Database, commands: Commands) -> None:
    reply = await run(commands, "search defence framework")
    titles = [f.name for f in reply.fields]
    assert len(titles) == 2 and all("framework" in t for t in titles)
    assert "story `s-01`" in reply.fields[0].value
    reply = await run(commands, "search 100%_nothing")
    assert reply.ok and "No stored item" in reply.text


async def test_search_needs_words(news: Database, commands: Commands) -> None:
    assert "missing <words>" in (await run(commands, "search")).text
    assert not (await run(commands, "search a")).ok


async def test_story_lists_reports_oldest_first_and_links(
    news: Database, commands: Commands
) -> None:
    reply = await run(commands, "story s-01")
    assert [f.value.split(" · ")[0] for f in reply.fields] == ["The Hindu", "Reuters"]
    assert "followed by: `s-02`" in reply.text
    reply = await run(commands, "story s-02")
    assert "follows story `s-01`" in reply.text


async def test_unknown_story_suggests_one(news: Database, commands: Commands) -> None:
    reply = await run(commands, "story s-011")
    assert not reply.ok and "did you mean `s-01`?" in reply.text


async def test_why_shows_the_matchers_evidence(news: Database, commands: Commands) -> None:
    reply = await run(commands, "why s-01")
    assert len(reply.fields) == 2 and "relevant (score 1.00; framework-agreement)" in (
        reply.fields[0].value
    )
    assert "The US side was US (country); the Indian side was India (country)." in (
        reply.fields[0].value
    )
    assert "{" not in reply.fields[0].value  # sentences, not the stored JSON
    cricket = (await run(commands, "search cricket")).fields[0].name.split()[0]
    reply = await run(commands, f"why {cricket}")
    assert "no US actor" in reply.fields[0].value
    assert not (await run(commands, "why nothing-here")).ok


async def test_missed_gives_a_reason_per_item(news: Database, commands: Commands) -> None:
    await run(commands, "subscribe framework-agreement")

    def deliveries(s: Session) -> None:
        sub = subs_repo.find(s, CHANNEL)
        assert sub is not None
        stories = {k: i for k, i in [("s-01", 1), ("s-02", 2)]}
        s.add(
            DeliveryRow(
                subscription_id=sub.id,
                story_id=stories["s-02"],
                kind="alert",
                status="held",
                reason="quiet hours",
                created_at=NOW,
                due_at=NOW,
            )
        )
        sub.since = NOW - timedelta(days=1)  # as if subscribed yesterday
        s.add(DeliveryRow(subscription_id=sub.id, story_id=stories["s-01"], kind="alert",
                          status="sent", created_at=NOW, due_at=NOW, sent_at=NOW))  # fmt: skip

    await news.run(deliveries)
    reply = await run(commands, "missed 24h")
    reasons = {f.name.split(" ", 1)[1]: f.value.split(" · ")[-1] for f in reply.fields}
    assert reasons["Cricket: India beat Australia in Perth"].startswith("not relevant")
    assert reasons["Yudh Abhyas begins in Alaska"] == "other topic (military-exercises)"
    assert reasons["Unmatched item about framework"] == "not matched yet"
    assert (
        reasons["Hegseth to visit Delhi on framework follow-up"] == "quiet hours (released later)"
    )
    assert reasons["US and India agree defence framework, Reuters"].startswith("duplicate")
    assert "India, US sign 10-year defence framework" not in reasons  # it was posted
    assert not (await run(commands, "missed forever")).ok


async def test_digest_daily_weekly_and_off(commands: Commands) -> None:
    reply = await run(commands, "digest daily 8:30 asia/kolkata")
    assert reply.ok and "08:30 Asia/Kolkata" in reply.text and "mode is both" in reply.text
    reply = await run(commands, "digest weekly mon 09:00 UTC")
    assert reply.ok and "mon at 09:00 UTC" in reply.text
    fields = {f.name: f.value for f in (await run(commands, "subscriptions")).fields}
    assert fields["digest"] == "weekly mon 09:00 UTC"
    assert (await run(commands, "digest off")).ok


async def test_times_and_zones_as_people_write_them(commands: Commands) -> None:
    reply = await run(commands, "digest daily 8am IST")
    assert reply.ok and "08:00 Asia/Kolkata" in reply.text
    reply = await run(commands, "digest daily 8.30pm et")
    assert reply.ok and "20:30 America/New_York" in reply.text
    reply = await run(commands, "quiet 10pm-7am ist")
    assert reply.ok and "22:00–07:00 Asia/Kolkata" in reply.text
    reply = await run(commands, "digest daily noon UTC+5:30")
    assert not reply.ok and "write a zone name, e.g. Asia/Kolkata" in reply.text


async def test_digest_with_wrong_arguments(commands: Commands) -> None:
    reply = await run(commands, "digest daily 08:00 Asia/Kolkatta")
    assert "unknown time zone `Asia/Kolkatta`; did you mean `Asia/Kolkata`?" in reply.text
    reply = await run(commands, "digest daily 25:00 UTC")
    assert "`25:00` is not a time" in reply.text
    reply = await run(commands, "digest weekly someday 08:00 UTC")
    assert "unknown day `someday`" in reply.text
    reply = await run(commands, "digest hourly")
    assert "unknown subcommand `hourly`" in reply.text and "digest daily" in reply.text


async def test_quiet_hours(commands: Commands) -> None:
    reply = await run(commands, "quiet 22:00-07:00 Asia/Kolkata")
    assert reply.ok and "22:00–07:00 Asia/Kolkata" in reply.text
    assert (await run(commands, "quiet off")).ok
    assert "HH:MM-HH:MM" in (await run(commands, "quiet 22:00 UTC")).text
    assert not (await run(commands, "quiet 22:00-22:00 UTC")).ok


async def test_mute_and_unmute(news: Database, commands: Commands) -> None:
    assert "Muted Reuters" in (await run(commands, "mute reuters")).text
    assert "Muted story `s-01`" in (await run(commands, "mute s-01")).text
    fields = {f.name: f.value for f in (await run(commands, "subscriptions")).fields}
    assert fields["muted"] == "Reuters, s-01"
    assert not (await run(commands, "mute")).ok
    reply = await run(commands, "mute The Hindoo")
    assert (
        reply.ok
        and "no stored report comes from `The Hindoo` yet; did you mean `The Hindu`?"
        in (reply.text)
    )
    assert "Unmuted Reuters" in (await run(commands, "unmute Reuters")).text
    reply = await run(commands, "unmute s-02")
    assert not reply.ok and "unknown muted source or story" in reply.text


async def test_mode_follow_ups_words_and_cap(commands: Commands, db: Database) -> None:
    assert "only in the digest" in (await run(commands, "mode digest")).text
    assert "reply in its thread" in (await run(commands, "follow-ups thread")).text
    assert (
        "only with one of: stryker, javelin"
        in (await run(commands, "include Stryker, Javelin")).text
    )
    assert "never with any of: cricket" in (await run(commands, "exclude cricket")).text
    assert "At most 3 alert(s)" in (await run(commands, "cap 3")).text
    row = await db.run(lambda s: subs_repo.find(s, CHANNEL))
    assert row is not None
    assert (row.mode, row.follow_ups, row.include_words, row.exclude_words, row.hourly_cap) == (
        "digest", "thread", ["stryker", "javelin"], ["cricket"], 3)  # fmt: skip
    assert (await run(commands, "cap off")).ok and (await run(commands, "include off")).ok


async def test_channel_setting_mistakes(commands: Commands) -> None:
    assert "did you mean `digest`?" in (await run(commands, "mode digst")).text
    assert "did you mean `thread`?" in (await run(commands, "follow-ups thred")).text
    assert "from 1 to 100 or `off`" in (await run(commands, "cap lots")).text
    assert "missing <words>" in (await run(commands, "exclude")).text


async def test_feedback_is_stored(news: Database, commands: Commands) -> None:
    reply = await commands.feedback("s-01", ALICE, CHANNEL)
    assert reply.ok
    rows = await news.run(lambda s: s.scalars(select(FeedbackRow)).all())
    assert [(r.user, r.verdict) for r in rows] == [("U1", "not_relevant")]
    assert not (await commands.feedback("s-99", ALICE, CHANNEL)).ok


async def test_subscribing_late_sets_since(commands: Commands, db: Database) -> None:
    await run(commands, "subscribe diplomacy")
    row = await db.run(lambda s: s.scalars(select(SubscriptionRow)).one())
    assert row.since == NOW


def test_the_committed_command_reference_is_generated_from_the_specs() -> None:
    committed = (Path(__file__).resolve().parents[2] / "docs" / "commands.md").read_text("utf-8")
    assert committed == reference_markdown(), (
        "docs/commands.md is stale: run `python -m bot.core.commands > docs/commands.md`"
    )
    assert committed.count("| `/news ") == len(SPECS)


async def test_completion_of_stories_sources_and_zones(news: Database, commands: Commands) -> None:
    assert await commands.complete("story", "s-0") == ["s-03", "s-02", "s-01"]
    assert "Reuters" in await commands.complete("source", "reu", CHANNEL)
    assert (await commands.complete("tz", "asia/kolk")) == ["Asia/Kolkata"]
    assert len(await commands.complete("tz", "")) == 25


async def test_subscribing_again_resumes_a_paused_channel(commands: Commands, db: Database) -> None:
    await run(commands, "subscribe diplomacy")

    def pause(s: Session) -> None:
        row = subs_repo.find(s, CHANNEL)
        assert row is not None
        row.paused, row.paused_reason = True, "channel_not_found"

    await db.run(pause)
    await run(commands, "subscribe diplomacy")
    row = await db.run(lambda s: subs_repo.find(s, CHANNEL))
    assert row is not None and not row.paused and row.paused_reason is None


PNG = b"\x89PNG\r\n\x1a\n"


async def test_a_story_of_several_reports_comes_with_its_timeline_chart(
    news: Database, commands: Commands
) -> None:
    reply = await run(commands, "story s-01")
    (chart,) = reply.attachments
    assert chart.filename == "story-s-01.png" and chart.mime == "image/png"
    assert chart.data.startswith(PNG)
    # One report makes no timeline worth drawing.
    assert (await run(commands, "story s-03")).attachments == ()


async def test_topics_come_with_the_volume_chart_of_the_last_month(
    news: Database, commands: Commands
) -> None:
    reply = await run(commands, "topics")
    (chart,) = reply.attachments
    assert chart.filename == "topics-2025-11-03.png" and chart.data.startswith(PNG)
    assert "(No chart" not in reply.text


def test_without_the_charts_extra_story_says_how_to_get_charts(tmp_path: Path) -> None:
    code = f"""
import asyncio, sys
sys.modules["matplotlib"] = None  # as if the charts extra were not installed
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from bot.config import load_config
from bot.core.commands import Commands
from bot.core.models import ChannelRef, Command, UserRef
from bot.storage.configstore import seed
from bot.storage.db import Database
from tests.core.newsdata import add_item, add_story
now = datetime(2025, 11, 3, 9, tzinfo=UTC)
db = Database.open("sqlite:///{tmp_path / "bot.db"}")
cfg = load_config(__import__("pathlib").Path({str(DEFAULT_CONFIG)!r}))
def write(s):
    seed(s, cfg, now=now)
    fa = ("framework-agreement",)
    a = add_item(s, "Pact signed", seen=now, relevant=True, topics=fa, source="A")
    b = add_item(s, "Pact signed, B says", seen=now, relevant=True, topics=fa, source="B")
    add_story(s, "s-01", "Pact signed", fa, [a, b])
db.transaction(write)
user = UserRef("console", "local", "U1", "alice")
channel = ChannelRef("console", "local", "general", "general")
commands = Commands(db, cfg, clock=lambda: now)
reply = asyncio.run(commands.handle(Command("story s-01", user, channel)))
print(reply.attachments == ())
print(reply.text.splitlines()[-1])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=DEFAULT_CONFIG.parents[1], timeout=60, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "True",
        "(No chart: charts need matplotlib: pip install -e '.[charts]'.)",
    ]
