"""The audit trail: one row per admin change, written in the change's own transaction; read
back as values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.models import AuditEntry, UserRef
from bot.storage.tables import AuditRow


def record(
    session: Session,
    user: UserRef,
    *,
    action: str,
    target: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    now: datetime,
    reverts_id: int | None = None,
) -> AuditEntry:
    """Add the entry to the caller's session: it commits or rolls back with the change."""
    row = AuditRow(
        at=now,
        platform=user.platform,
        workspace=user.workspace,
        user_id=user.user,
        user_name=user.name,
        action=action,
        target=target,
        before=before,
        after=after,
        reverts_id=reverts_id,
    )
    session.add(row)
    session.flush()
    return entry(row)


def latest(session: Session, n: int) -> list[AuditEntry]:
    rows = session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(n))
    return [entry(r) for r in rows]


def get(session: Session, audit_id: int) -> AuditEntry | None:
    row = session.get(AuditRow, audit_id)
    return None if row is None else entry(row)


def entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.id, row.at, row.platform, row.user_id, row.user_name, row.action,
                      row.target, row.before, row.after, row.reverts_id)  # fmt: skip
