"""Feed leases in the database: only their owner renews or gives them back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.feeds import (
    add_feed,
    claim_due_feeds,
    lease_owners,
    release_leases,
    release_owner,
    renew_leases,
)
from bot.storage.tables import FeedRow

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _two_claimed(s: Session) -> tuple[int, int]:
    a = add_feed(s, "https://a.example/rss", "A", now=NOW).id
    b = add_feed(s, "https://b.example/rss", "B", now=NOW).id
    claim_due_feeds(s, NOW, owner="w1:1", lease=LEASE, limit=1)
    claim_due_feeds(s, NOW, owner="w2:2", lease=LEASE, limit=1)
    return a, b


def _leases(s: Session) -> dict[int, tuple[str | None, datetime | None]]:
    rows = s.execute(select(FeedRow.id, FeedRow.lease_owner, FeedRow.lease_until))
    return {i: (o, u.replace(tzinfo=UTC) if u else None) for i, o, u in rows}


def test_a_batch_claim_takes_at_most_its_limit_and_the_next_worker_the_rest(db: Database) -> None:
    a, b = db.transaction(_two_claimed)
    leases = db.transaction(_leases)
    assert leases[a][0] == "w1:1" and leases[b][0] == "w2:2"


def test_only_the_owner_renews_its_leases(db: Database) -> None:
    a, b = db.transaction(_two_claimed)
    later = NOW + timedelta(minutes=5)

    renewed = db.transaction(lambda s: renew_leases(s, "w1:1", [a, b], later))

    leases = db.transaction(_leases)
    assert renewed == 1
    assert leases[a][1] == later and leases[b][1] == NOW + LEASE


def test_giving_back_frees_only_the_owners_rows(db: Database) -> None:
    a, b = db.transaction(_two_claimed)

    released = db.transaction(lambda s: release_leases(s, "w2:2", [a, b]))

    leases = db.transaction(_leases)
    assert released == 1
    assert leases[b] == (None, None) and leases[a][0] == "w1:1"


def test_a_gone_owner_loses_every_lease_and_owners_are_listed_by_host(db: Database) -> None:
    a, _b = db.transaction(_two_claimed)

    assert db.transaction(lambda s: lease_owners(s, "w1:")) == ["w1:1"]
    assert db.transaction(lambda s: release_owner(s, "w1:1")) == 1
    assert db.transaction(_leases)[a] == (None, None)


def test_a_claim_late_in_a_cycle_takes_leases_run_out_since_and_leases_from_its_own_clock(
    db: Database,
) -> None:
    a, b = db.transaction(_two_claimed)  # w2:2 holds b until NOW + LEASE, then dies
    late = NOW + LEASE + timedelta(seconds=1)  # w1:1's cycle began at NOW and runs on

    early = db.transaction(lambda s: claim_due_feeds(s, NOW, owner="w1:1", lease=LEASE))
    taken = db.transaction(
        lambda s: claim_due_feeds(s, NOW, owner="w1:1", lease=LEASE, leased_at=late)
    )

    assert early == [] and sorted(f.id for f in taken) == [a, b]  # a: its own, run out too
    assert db.transaction(_leases)[b] == ("w1:1", late + LEASE)
