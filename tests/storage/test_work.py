"""Leased work on stored rows: an item's matching and a story's planning are held by one
worker at a time, and what a dead worker held is taken up once its lease has run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.tables import ItemRow, StoryRow
from bot.storage.work import (
    claim_overdue_items,
    claim_overdue_stories,
    expire_item_leases,
    plan_due,
    planned,
    take_items,
)
from tests.core.newsdata import add_item, add_story

NOW = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _leased(db: Database, owner: str, until: datetime, n: int = 2) -> list[int]:
    def write(s: Session) -> list[int]:
        ids = [add_item(s, f"Report {k}", seen=NOW - timedelta(minutes=k)).id for k in range(n)]
        s.execute(update(ItemRow).where(ItemRow.id.in_(ids))
                  .values(work_owner=owner, work_until=until))  # fmt: skip
        return ids

    return db.transaction(write)


def test_the_holder_takes_its_items_off_lease_and_no_one_else_can(db: Database) -> None:
    ids = _leased(db, "w1:1", NOW + LEASE)
    assert db.transaction(lambda s: take_items(s, "w2:1", ids)) == set()
    assert db.transaction(lambda s: take_items(s, "w1:1", ids)) == set(ids)
    assert db.transaction(lambda s: take_items(s, "w1:1", ids)) == set()  # taken once


def test_items_are_claimed_only_once_their_lease_ran_out_oldest_first(db: Database) -> None:
    live = _leased(db, "w1:1", NOW + LEASE)
    dead = _leased(db, "w2:1", NOW - timedelta(seconds=1))
    claimed = db.transaction(lambda s: claim_overdue_items(s, "w3:1", NOW, NOW + LEASE, 10))
    assert [item_id for item_id, _ in claimed] == list(reversed(dead))  # older first
    assert not {item_id for item_id, _ in claimed} & set(live)
    # Claimed, they are the new holder's: a second claim finds nothing.
    assert db.transaction(lambda s: claim_overdue_items(s, "w4:1", NOW, NOW + LEASE, 10)) == []
    assert db.transaction(lambda s: take_items(s, "w3:1", dead)) == set(dead)


def test_a_gone_process_s_leases_run_out_at_once(db: Database) -> None:
    ids = _leased(db, "w1:1", NOW + LEASE)
    assert db.transaction(lambda s: expire_item_leases(s, ["w1:1"], NOW - timedelta(seconds=1)))
    claimed = db.transaction(lambda s: claim_overdue_items(s, "w2:1", NOW, NOW + LEASE, 10))
    assert sorted(item_id for item_id, _ in claimed) == sorted(ids)


def test_a_story_due_for_planning_keeps_its_earlier_time_and_is_claimed_once(
    db: Database,
) -> None:
    def write(s: Session) -> int:
        item = add_item(s, "Pact signed", seen=NOW, relevant=True, topics=("diplomacy",))
        return add_story(s, "s-01", "Pact signed", ("diplomacy",), [item]).id

    story_id = db.transaction(write)
    db.transaction(lambda s: plan_due(s, [story_id], NOW - timedelta(seconds=5)))
    db.transaction(lambda s: plan_due(s, [story_id], NOW + timedelta(hours=1)))  # later: kept
    assert db.transaction(lambda s: claim_overdue_stories(s, NOW, NOW + LEASE, 10)) == [story_id]
    assert db.transaction(lambda s: claim_overdue_stories(s, NOW, NOW + LEASE, 10)) == []
    db.transaction(lambda s: planned(s, [story_id]))
    row = db.transaction(lambda s: s.get(StoryRow, story_id))
    assert row is not None and row.plan_due_at is None
