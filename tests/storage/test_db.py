"""The schema migrates from nothing on each dialect and keeps UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.tables import FeedRow


def test_migration_creates_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "feeds",
        "items",
        "matches",
        "stories",
        "story_items",
        "subscriptions",
        "deliveries",
        "audit_entries",
        "topics",
        "settings",
        "feedback",
    } <= tables


async def test_datetimes_come_back_as_utc(db: Database) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    added = datetime(2025, 10, 31, 15, 0, tzinfo=ist)

    def write(s: Session) -> None:
        s.add(FeedRow(url="https://example.org/rss", name="Example", added_at=added))

    await db.run(write)
    got = await db.run(lambda s: s.scalars(select(FeedRow.added_at)).one())
    assert got == added
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.astimezone(UTC).hour == 9
