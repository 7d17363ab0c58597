"""Flags read back on each dialect: people counted once per story, the newest flag first,
the window respected, each report with the evidence stored when it was matched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.flagged import flagged_stories
from bot.storage.items import items_since
from bot.storage.tables import FeedbackRow, StoryRow
from tests.core.newsdata import add_item, add_story, evidence

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def flag(
    s: Session, story: StoryRow, user: str, at: datetime, verdict: str = "not_relevant"
) -> None:
    s.add(FeedbackRow(story_id=story.id, platform="slack", workspace="T1", channel="C1",
                      user=user, verdict=verdict, at=at))  # fmt: skip


def week(s: Session) -> None:
    a1 = add_item(s, "Drills begin", seen=NOW - timedelta(days=2), relevant=True)
    a2 = add_item(s, "Drills end", seen=NOW - timedelta(days=1), relevant=True)
    b1 = add_item(s, "Framework signed", seen=NOW - timedelta(days=3), relevant=True)
    c1 = add_item(s, "Old story", seen=NOW - timedelta(days=20), relevant=True)
    a = add_story(s, "s-0a", "Drills begin", ["military-exercises"], [a1, a2])
    b = add_story(s, "s-0b", "Framework signed", ["framework-agreement"], [b1])
    c = add_story(s, "s-0c", "Old story", ["diplomacy"], [c1])
    for user, hours in (("U1", 5), ("U1", 4), ("U2", 3)):
        flag(s, a, user, NOW - timedelta(hours=hours))
    flag(s, b, "U3", NOW - timedelta(hours=1))
    flag(s, b, "U4", NOW - timedelta(hours=1), verdict="useful")  # not a "not relevant"
    flag(s, c, "U1", NOW - timedelta(days=10))


async def test_flagged_stories_newest_flag_first_people_once(db: Database) -> None:
    await db.run(week)
    found = await db.run(lambda s: flagged_stories(s, NOW - timedelta(days=7), 10))
    assert [(f.key, f.flaggers) for f in found] == [("s-0b", 1), ("s-0a", 2)]
    assert found[0].last_flagged.replace(tzinfo=UTC) == NOW - timedelta(hours=1)
    assert [r.item.title for r in found[1].reports] == ["Drills begin", "Drills end"]
    assert found[1].reports[0].evidence == evidence(relevant=True)
    assert found[1].reports[0].score == 1.0
    older = await db.run(lambda s: flagged_stories(s, NOW - timedelta(days=14), 10))
    assert [f.key for f in older] == ["s-0b", "s-0a", "s-0c"]
    assert [f.key for f in await db.run(lambda s: flagged_stories(s, NOW, 10))] == []
    first = await db.run(lambda s: flagged_stories(s, NOW - timedelta(days=14), 1))
    assert [f.key for f in first] == ["s-0b"]


async def test_items_since_in_the_order_seen(db: Database) -> None:
    await db.run(week)
    titles = [i.title for i in await db.run(lambda s: items_since(s, NOW - timedelta(days=7)))]
    assert titles == ["Framework signed", "Drills begin", "Drills end"]
