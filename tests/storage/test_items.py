"""Storing items: new ones only, found with batched queries; and claiming due feeds with leases."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core.models import ParsedItem
from bot.storage.db import Database
from bot.storage.feeds import add_feed, claim_due_feeds
from bot.storage.items import FeedItems, load_items, store_new_items
from bot.storage.tables import FeedRow, ItemRow

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)


def parsed(n: int, *, key: str | None = None, url: str | None = "default") -> ParsedItem:
    return ParsedItem(
        key=key or f"{n:064x}",
        title=f"Item {n}",
        summary="Summary",
        url=f"https://news.example.org/{n}" if url == "default" else url,
        published=NOW - timedelta(hours=n),
        source="Fixture",
        guid=f"guid-{n}",
    )


@pytest.fixture
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def store(db: Database, *batches: FeedItems) -> list[Any]:
    return db.transaction(lambda s: store_new_items(s, batches, now=NOW))


def count(db: Database) -> int:
    return db.transaction(lambda s: s.scalar(select(func.count()).select_from(ItemRow)) or 0)


def test_new_items_come_back_with_their_ids(db: Database) -> None:
    feed = db.transaction(lambda s: add_feed(s, "https://x.example/rss", "X", now=NOW))
    items = store(db, FeedItems(feed.id, [parsed(1), parsed(2)], alertable=False))

    assert [(i.title, i.feed_id, i.alertable, i.first_seen) for i in items] == [
        ("Item 1", feed.id, False, NOW),
        ("Item 2", feed.id, False, NOW),
    ]
    ids = db.transaction(lambda s: list(s.scalars(select(ItemRow.id).order_by(ItemRow.id))))
    assert sorted(i.id for i in items) == ids


def test_stored_items_read_back_in_the_order_asked_and_unknown_ids_left_out(
    db: Database,
) -> None:
    stored = store(db, FeedItems(None, [parsed(1), parsed(2), parsed(3)]))
    ids = [stored[2].id, stored[0].id, 999_999]

    loaded = db.transaction(lambda s: load_items(s, ids))

    assert loaded == [stored[2], stored[0]]


def test_known_keys_and_known_urls_are_skipped(db: Database) -> None:
    store(db, FeedItems(None, [parsed(1), parsed(2)]))

    again = store(
        db,
        FeedItems(None, [parsed(1), parsed(2, key="f" * 64), parsed(3)]),
    )

    assert [i.title for i in again] == ["Item 3"]
    assert count(db) == 3


def test_duplicates_within_one_batch_are_stored_once(db: Database) -> None:
    a = FeedItems(None, [parsed(1), parsed(2)])
    b = FeedItems(None, [parsed(1, key="e" * 64), parsed(4), parsed(4)])

    items = store(db, a, b)

    assert [i.title for i in items] == ["Item 1", "Item 2", "Item 4"]
    assert count(db) == 3


def test_items_without_links_are_told_apart_by_key(db: Database) -> None:
    items = store(db, FeedItems(None, [parsed(1, url=None), parsed(2, url=None)]))
    assert [i.url for i in items] == [None, None]
    assert store(db, FeedItems(None, [parsed(1, url=None)])) == []


def test_the_insert_itself_is_the_is_it_new_check(db: Database, statements: list[str]) -> None:
    store(db, FeedItems(None, [parsed(n) for n in range(500)]))
    statements.clear()

    again = store(db, FeedItems(None, [parsed(n) for n in range(1500)]))

    # Nothing asks the items table first; the one lookup is the primary key of google_twins
    # (undecoded Google items waiting for their outlet's own copy: none here).
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert all("FROM google_twins" in s and "items" not in s.split("WHERE")[0] for s in selects)
    assert len(selects) <= 2
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert 1 <= len(inserts) <= 2  # multi-row INSERT … RETURNING batches, however many items
    assert len(again) == 1000
    assert count(db) == 1500


def test_the_database_refuses_a_second_row_for_a_link(db: Database) -> None:
    """The rule holds even for a writer that skips the bot's insert (another process, say)."""
    store(db, FeedItems(None, [parsed(1)]))

    with pytest.raises(IntegrityError):
        db.transaction(
            lambda s: s.execute(
                insert(ItemRow).values(
                    key="d" * 64, url="https://news.example.org/1", title="Copy", summary="",
                    source="", first_seen_at=NOW, alertable=True,
                )
            )
        )  # fmt: skip
    assert count(db) == 1


def test_a_monster_url_is_dropped_not_cut(db: Database) -> None:
    long_url = "https://news.example.org/" + "a" * 3000
    items = store(db, FeedItems(None, [parsed(1, url=long_url)]))
    assert items[0].url is None


def test_a_link_too_long_for_the_index_in_bytes_is_dropped_not_a_failed_batch(
    db: Database,
) -> None:
    # 2,000 characters, 6,000 bytes that hardly compress: over what a PostgreSQL index
    # entry can hold.
    rng = random.Random(7)
    wide = "https://news.example.org/" + "".join(
        chr(rng.randrange(0x4E00, 0x9FFF)) for _ in range(2000)
    )
    items = store(db, FeedItems(None, [parsed(1, url=wide), parsed(2)]))
    assert [i.url for i in items] == [None, "https://news.example.org/2"]


def _add(s: Session, n: int, **row: Any) -> int:
    feed = add_feed(s, f"https://x.example/{n}", f"Feed {n}", now=NOW)
    if row:
        s.execute(update(FeedRow).where(FeedRow.id == feed.id).values(**row))
    return feed.id


def test_claiming_takes_due_feeds_and_leases_them(db: Database) -> None:
    due = db.transaction(lambda s: _add(s, 1))
    later = db.transaction(lambda s: _add(s, 2, next_fetch_at=NOW + timedelta(hours=1)))
    paused = db.transaction(lambda s: _add(s, 3, paused=True))
    lease = timedelta(minutes=2)

    first = db.transaction(lambda s: claim_due_feeds(s, NOW, owner="a", lease=lease))
    second = db.transaction(lambda s: claim_due_feeds(s, NOW, owner="b", lease=lease))
    forced = db.transaction(lambda s: claim_due_feeds(s, NOW, owner="b", lease=lease, force=True))
    expired = db.transaction(lambda s: claim_due_feeds(s, NOW + lease, owner="b", lease=lease))

    assert [f.id for f in first] == [due]
    assert second == []  # leased to "a"
    assert [f.id for f in forced] == [later]  # forced ignores next_fetch_at, not the lease
    assert [f.id for f in expired] == [due]  # a's lease ran out: a crashed poller's feeds
    assert paused not in {f.id for f in first + forced + expired}


def test_a_date_far_in_the_future_is_replaced_by_first_seen(db: Database) -> None:
    soon = ParsedItem("a" * 64, "Soon", "", "https://x.example/soon", NOW + timedelta(hours=3), "X")
    wrong = ParsedItem(
        "b" * 64, "Wrong", "", "https://x.example/wrong", NOW.replace(year=2030), "X"
    )
    items = store(db, FeedItems(None, [soon, wrong]))
    assert [i.published for i in items] == [NOW + timedelta(hours=3), NOW]
    stored = db.transaction(
        lambda s: list(s.scalars(select(ItemRow.published_at).order_by(ItemRow.id)))
    )
    assert stored == [NOW + timedelta(hours=3), NOW]
