"""The audit trail: one row per admin change, written in the change's own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.models import UserRef
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
) -> AuditRow:
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
    return row


def latest(session: Session, n: int) -> list[AuditRow]:
    return list(session.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(n)))


def get(session: Session, audit_id: int) -> AuditRow | None:
    return session.get(AuditRow, audit_id)
