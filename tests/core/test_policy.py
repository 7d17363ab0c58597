"""The per-channel policy: mutes, include/exclude words, quiet hours in the channel's zone, cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.alerts import Alerts, plan_deliveries
from bot.core.models import ChannelRef, Subscription
from bot.core.outbox import Outbox
from bot.core.policy import HELD, PENDING, SKIPPED, decide, quiet_until, words_in
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import DeliveryRow
from tests.core.newsdata import add_item, add_story
from tests.fakes.recording import RecordingAdapter

NOW = datetime(2025, 11, 3, 17, 0, tzinfo=UTC)  # 22:30 in Kolkata
CHANNEL = ChannelRef("console", "local", "news", "news")


def sub(**changes: Any) -> Subscription:
    values: dict[str, Any] = dict(
        id=1, channel=ChannelRef("slack", "T1", "C1"), topics=("diplomacy",),
        since=NOW - timedelta(days=1),
    )  # fmt: skip
    values.update({k: tuple(v) if isinstance(v, list) else v for k, v in changes.items()})
    return Subscription(**values)


# A story's key and headline, as the policy reads them.
STORY = ("s-07", "Rajnath Singh and Hegseth sign framework")


def test_an_ordinary_story_posts_now() -> None:
    decision = decide(sub(), *STORY, NOW, sources=["The Hindu"])
    assert (decision.status, decision.reason, decision.due_at) == (PENDING, None, NOW)


def test_muted_story_and_muted_sources_are_skipped() -> None:
    assert decide(sub(muted_stories=["s-07"]), *STORY, NOW).reason == "muted (story `s-07`)"
    muted = sub(muted_sources=["the hindu"])
    assert decide(muted, *STORY, NOW, sources=["The Hindu"]).status == SKIPPED
    # Another outlet reports it too: the story is not only the muted source's.
    assert decide(muted, *STORY, NOW, sources=["The Hindu", "Reuters"]).status == PENDING


def test_include_and_exclude_words() -> None:
    assert decide(sub(exclude_words=["hegseth"]), *STORY, NOW).reason == "excluded word `hegseth`"
    assert decide(sub(include_words=["stryker"]), *STORY, NOW).status == SKIPPED
    assert (
        decide(sub(include_words=["stryker"]), *STORY, NOW, text="Stryker deal").status == PENDING
    )
    assert words_in("the frame-work", ["frame"]) == ["frame"]
    assert words_in("New tariffs on steel", ["tariff"]) == ["tariff"]
    assert words_in("Firms sanctioned by the US", ["sanctions", "firm"]) == ["sanctions", "firm"]
    assert words_in("rare books on earth", ["rare earth"]) == []
    assert words_in("rare-earth magnets", ["rare earth"]) == ["rare earth"]
    assert words_in("said again", ["ai"]) == []


def test_quiet_hours_hold_until_they_end_in_the_channels_zone() -> None:
    quiet = sub(quiet_start="22:00", quiet_end="07:00", timezone="Asia/Kolkata")
    decision = decide(quiet, *STORY, NOW)
    assert decision.status == HELD and decision.reason == "quiet hours"
    assert decision.due_at == datetime(2025, 11, 4, 1, 30, tzinfo=UTC)  # 07:00 IST
    assert quiet_until(quiet, NOW + timedelta(hours=9)) is None  # 07:30 IST: awake
    assert quiet_until(quiet, datetime(2025, 11, 3, 22, 0, tzinfo=UTC)) == decision.due_at


def test_quiet_hours_follow_daylight_saving() -> None:
    quiet = sub(quiet_start="23:00", quiet_end="07:00", timezone="America/New_York")
    # The night the clocks go back (2 Nov 2025): 07:00 EST is 12:00 UTC, not 11:00.
    assert quiet_until(quiet, datetime(2025, 11, 2, 5, 0, tzinfo=UTC)) == datetime(
        2025, 11, 2, 12, 0, tzinfo=UTC
    )


def test_the_hourly_cap_overflows_to_the_digest_or_waits() -> None:
    capped = sub(hourly_cap=2)
    assert decide(capped, *STORY, NOW, sent_last_hour=1).status == PENDING
    waiting = decide(capped, *STORY, NOW, sent_last_hour=2)
    assert (waiting.status, waiting.due_at) == (HELD, NOW + timedelta(hours=1))
    with_digest = sub(hourly_cap=2, digest={"every": "daily", "at": "08:00", "tz": "UTC"})
    overflow = decide(with_digest, *STORY, NOW, sent_last_hour=2)
    assert overflow.status == SKIPPED and overflow.reason == "cap (2/hour): in the next digest"


async def test_a_story_muted_after_planning_is_not_posted(db: Database) -> None:
    def setup(s: Session) -> list[int]:
        row = subs_repo.get_or_create(s, CHANNEL, now=NOW - timedelta(days=1))
        row.topics = ["diplomacy"]
        item = add_item(s, "India, US hold 2+2 dialogue", seen=NOW, relevant=True,
                        topics=("diplomacy",))  # fmt: skip
        story = add_story(s, "s-0m", "India, US hold 2+2 dialogue", ("diplomacy",), [item])
        plan_deliveries(s, [story.id], NOW)
        row.muted_stories = ["s-0m"]
        return [story.id]

    await db.run(setup)
    chat = RecordingAdapter()
    report = await Alerts(Outbox(db, {"console": chat}, clock=lambda: NOW)).flush()
    assert report.posted == 0 and chat.calls == []
    row = await db.run(lambda s: s.scalars(select(DeliveryRow)).one())
    assert (row.status, row.reason) == ("skipped", "muted (story `s-0m`)")
