"""Digest schedules in the channel's time zone, digest posts, and held alerts released as one
message; APScheduler's triggers are driven with explicit instants, never by sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.alerts import plan_deliveries
from bot.core.commands import Commands
from bot.core.digests import DigestJobs, Digests
from bot.core.models import ChannelRef, Command, UserRef
from bot.core.outbox import Outbox
from bot.core.probe import DefaultHooks
from bot.core.schedule import DIGEST_JOB, BotScheduler, digest_trigger
from bot.storage import subscriptions as subs_repo
from bot.storage.configstore import seed
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow, SubscriptionRow
from tests.core.newsdata import add_item, add_story
from tests.fakes.recording import DigestPosted, RecordingAdapter

NOW = datetime(2025, 11, 3, 17, 0, tzinfo=UTC)  # 22:30 in Kolkata
CHANNEL = ChannelRef("console", "local", "news", "news")
ALICE = UserRef("console", "local", "U1", "alice")
KOLKATA = ZoneInfo("Asia/Kolkata")


def test_a_daily_digest_in_kolkata_fires_at_the_right_utc_instant() -> None:
    trigger = digest_trigger({"every": "daily", "at": "08:00", "tz": "Asia/Kolkata"})
    first = trigger.get_next_fire_time(None, datetime(2025, 11, 3, 0, 0, tzinfo=UTC))
    assert first == datetime(2025, 11, 3, 2, 30, tzinfo=UTC)
    after = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert after == datetime(2025, 11, 4, 2, 30, tzinfo=UTC)


def test_a_digest_keeps_local_time_across_daylight_saving() -> None:
    trigger = digest_trigger({"every": "daily", "at": "08:00", "tz": "America/New_York"})
    # The clocks went back at 02:00 on Sunday 2 November 2025 (EDT → EST).
    before = trigger.get_next_fire_time(None, datetime(2025, 10, 31, 13, 0, tzinfo=UTC))
    after = trigger.get_next_fire_time(before, before + timedelta(seconds=1))
    assert before.astimezone(UTC) == datetime(2025, 11, 1, 12, 0, tzinfo=UTC)  # 08:00 EDT
    assert after.astimezone(UTC) == datetime(2025, 11, 2, 13, 0, tzinfo=UTC)  # 08:00 EST


def test_a_weekly_digest_fires_on_its_day() -> None:
    trigger = digest_trigger({"every": "weekly", "day": "fri", "at": "18:15", "tz": "Asia/Kolkata"})
    fire = trigger.get_next_fire_time(None, NOW)
    assert fire.astimezone(KOLKATA).strftime("%a %H:%M") == "Fri 18:15"
    assert fire.astimezone(UTC) == datetime(2025, 11, 7, 12, 45, tzinfo=UTC)


async def test_digest_jobs_follow_the_command_and_survive_a_restart(
    db: Database, cfg: AppConfig
) -> None:
    await db.run(lambda s: seed(s, cfg))
    digests = Digests(Outbox(db, {"console": RecordingAdapter()}))
    scheduler = BotScheduler(lambda: _nothing(), interval=900)
    scheduler.start(first_run=datetime.now(UTC) + timedelta(days=1))
    jobs = DigestJobs(scheduler, digests)
    commands = Commands(db, cfg, hooks=DefaultHooks(on_digest=jobs.changed))
    try:
        await commands.handle(Command("subscribe diplomacy", ALICE, CHANNEL))
        await commands.handle(Command("digest daily 08:00 Asia/Kolkata", ALICE, CHANNEL))
        sub_id = (await db.run(lambda s: subs_repo.find(s, CHANNEL))).id  # type: ignore[union-attr]
        job = scheduler.scheduler.get_job(DIGEST_JOB.format(sub_id))
        local = job.next_run_time.astimezone(KOLKATA)
        assert (local.hour, local.minute) == (8, 0)
        assert timedelta(0) < job.next_run_time - datetime.now(UTC) <= timedelta(days=1)
        await commands.handle(Command("digest off", ALICE, CHANNEL))
        assert scheduler.scheduler.get_job(DIGEST_JOB.format(sub_id)) is None
        await commands.handle(Command("digest weekly mon 07:00 UTC", ALICE, CHANNEL))
    finally:
        await scheduler.shutdown()

    restarted = BotScheduler(lambda: _nothing(), interval=900)
    restarted.start(first_run=datetime.now(UTC) + timedelta(days=1))
    try:
        assert await DigestJobs(restarted, digests).rebuild() == 1
        job = restarted.scheduler.get_job(DIGEST_JOB.format(sub_id))
        assert job.next_run_time.strftime("%a %H:%M") == "Mon 07:00"
    finally:
        await restarted.shutdown()


async def _nothing() -> None:
    return None


def _two_stories(s: Session) -> list[int]:
    h = timedelta(hours=1)
    one = add_item(s, "India, US hold 2+2 dialogue in Delhi", seen=NOW - 2 * h,
                   relevant=True, topics=("diplomacy",))  # fmt: skip
    two = add_item(s, "Quad foreign ministers meet", seen=NOW - h, relevant=True,
                   topics=("diplomacy",), source="Reuters")  # fmt: skip
    old = add_item(s, "Old diplomacy story", seen=NOW - 50 * h, relevant=True,
                   topics=("diplomacy",))  # fmt: skip
    a = add_story(s, "s-0a", "India, US hold 2+2 dialogue in Delhi", ("diplomacy",), [one])
    b = add_story(s, "s-0b", "Quad foreign ministers meet", ("diplomacy",), [two])
    add_story(s, "s-0c", "Old diplomacy story", ("diplomacy",), [old])
    return [a.id, b.id]


def _subscribe(s: Session, **settings: object) -> int:
    row = subs_repo.get_or_create(s, CHANNEL, now=NOW - timedelta(days=1))
    row.topics = ["diplomacy"]
    for name, value in settings.items():
        setattr(row, name, value)
    return row.id


async def test_a_digest_posts_the_stories_since_the_last_one(db: Database) -> None:
    chat = RecordingAdapter()
    sub_id = await db.run(
        lambda s: _subscribe(s, mode="digest",
                             digest={"every": "daily", "at": "08:00", "tz": "Asia/Kolkata"})
    )  # fmt: skip
    await db.run(_two_stories)
    digests = Digests(Outbox(db, {"console": chat}, clock=lambda: NOW))
    assert await digests.run(sub_id) == 2
    [digest] = chat.calls
    assert isinstance(digest, DigestPosted) and digest.channel == CHANNEL
    assert digest.title == "Your daily newsbot digest: 2 stories"
    assert sorted(digest.story_keys) == ["s-0a", "s-0b"]  # not the 50-hour-old s-0c
    rows = await db.run(lambda s: s.scalars(select(DeliveryRow)).all())
    assert [(r.kind, r.status, r.items_posted) for r in rows] == [("digest", "sent", 2)]
    assert [r.id for r in rows] == [digest.delivery_id]
    assert await digests.run(sub_id) == 0  # nothing new since


async def test_quiet_hours_hold_alerts_and_release_them_as_one_message(db: Database) -> None:
    sub_id = await db.run(
        lambda s: _subscribe(s, quiet_start="22:00", quiet_end="07:00", timezone="Asia/Kolkata")
    )
    story_ids = await db.run(_two_stories)
    await db.run(lambda s: plan_deliveries(s, story_ids, NOW))
    rows = await db.run(lambda s: s.scalars(select(DeliveryRow)).all())
    assert {(r.status, r.reason) for r in rows} == {("held", "quiet hours")}
    end = datetime(2025, 11, 4, 1, 30, tzinfo=UTC)  # 07:00 in Kolkata
    assert {r.due_at for r in rows} == {end}

    chat = RecordingAdapter()
    clock = [end - timedelta(minutes=1)]
    digests = Digests(Outbox(db, {"console": chat}, clock=lambda: clock[0]))
    assert await digests.release_held() == 0 and chat.calls == []
    clock[0] = end
    assert await digests.release_held() == 1
    [held] = chat.calls
    assert isinstance(held, DigestPosted) and held.channel == CHANNEL
    assert held.title == "Held during quiet hours: 2 stories"
    assert sorted(held.story_keys) == ["s-0a", "s-0b"]
    rows = await db.run(lambda s: s.scalars(select(DeliveryRow)).all())
    assert {r.status for r in rows} == {"released"}
    sub = await db.run(lambda s: s.get(SubscriptionRow, sub_id))
    assert sub is not None and not sub.paused


async def test_the_hourly_cap_holds_the_overflow(db: Database) -> None:
    await db.run(lambda s: _subscribe(s, hourly_cap=1))
    story_ids = await db.run(_two_stories)
    await db.run(lambda s: plan_deliveries(s, story_ids, NOW))
    rows = await db.run(lambda s: s.scalars(select(DeliveryRow).order_by(DeliveryRow.id)).all())
    assert [(r.status, r.reason) for r in rows] == [("pending", None), ("held", "cap (1/hour)")]


async def test_a_digest_due_while_the_bot_was_down_goes_out_at_start(db: Database) -> None:
    chat = RecordingAdapter()
    daily = {"every": "daily", "at": "08:00", "tz": "Asia/Kolkata"}
    today = datetime(2025, 11, 3, 8, 0, tzinfo=KOLKATA)
    sub_id = await db.run(
        lambda s: _subscribe(s, mode="digest", digest=daily,
                             last_digest_at=today - timedelta(days=1))
    )  # fmt: skip
    await db.run(_two_stories)
    # The bot comes back 40 minutes after today's digest was due.
    digests = Digests(Outbox(db, {"console": chat}, clock=lambda: today + timedelta(minutes=40)))
    scheduler = BotScheduler(lambda: _nothing(), interval=900)

    assert await DigestJobs(scheduler, digests).rebuild() == 1

    [digest] = chat.calls
    assert isinstance(digest, DigestPosted) and sorted(digest.story_keys) == ["s-0a", "s-0b"]
    assert scheduler.scheduler.get_job(DIGEST_JOB.format(sub_id)) is not None
    assert await DigestJobs(scheduler, digests).rebuild() == 1
    assert len(chat.calls) == 1  # sent once, not again at the next start
