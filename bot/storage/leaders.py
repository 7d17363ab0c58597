"""Leader rows: claim, renew and give back a role's lease (SQL only here; the policy is
`bot/core/leadership.py`). Written so that one statement decides, on SQLite and PostgreSQL
alike: the update takes a row whose lease ran out (or is ours), the insert a role never led."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.tables import LeaderRow


def claim(session: Session, role: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Take or renew `role` for `owner` until now + lease; False while another holds it."""
    until = now + lease
    taken = session.execute(
        update(LeaderRow)
        .where(
            LeaderRow.role == role,
            or_(LeaderRow.owner == owner, LeaderRow.lease_until < now),
        )
        .values(owner=owner, lease_until=until)
        .returning(LeaderRow.role)
        .execution_options(synchronize_session=False)
    ).first()
    # RETURNING, not rowcount: psycopg does not count an upsert's rows the way SQLite does.
    if taken is not None:
        return True
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    added = session.execute(
        insert(LeaderRow)
        .values(role=role, owner=owner, lease_until=until, since=now)
        .on_conflict_do_nothing(index_elements=[LeaderRow.role])
        .returning(LeaderRow.role)
    ).first()
    return added is not None


def release(session: Session, role: str, owner: str) -> None:
    """Give the role up at once (a clean stop), so another process need not wait the lease."""
    session.execute(delete(LeaderRow).where(LeaderRow.role == role, LeaderRow.owner == owner))


def expire(session: Session, owners: list[str]) -> int:
    """End the leases of processes known to be gone (this host's dead predecessors)."""
    if not owners:
        return 0
    done = session.execute(delete(LeaderRow).where(LeaderRow.owner.in_(owners)))
    return int(done.rowcount)  # type: ignore[attr-defined]


def leaders(session: Session, now: datetime) -> dict[str, str]:
    """Each role with a live lease, and its owner."""
    rows = session.execute(
        select(LeaderRow.role, LeaderRow.owner).where(LeaderRow.lease_until >= now)
    )
    return {role: owner for role, owner in rows}


def owners_like(session: Session, prefix: str) -> list[str]:
    """Owners of leader rows whose name starts with `prefix` (a host's processes)."""
    rows = session.scalars(
        select(LeaderRow.owner).where(LeaderRow.owner.startswith(prefix)).distinct()
    )
    return list(rows)
