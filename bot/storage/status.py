"""What the health endpoints read from the database: that it answers, and the outbox's wait."""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.core.models import DeliveryStatus
from bot.storage.tables import DeliveryRow


def ping(session: Session) -> None:
    session.execute(text("SELECT 1"))


def outbox_backlog(session: Session, now: datetime) -> tuple[int, float]:
    """Rows waiting to be posted (pending, due or not) and the age of the oldest, seconds."""
    row = session.execute(
        select(func.count(DeliveryRow.id), func.min(DeliveryRow.created_at)).where(
            DeliveryRow.status == DeliveryStatus.PENDING
        )
    ).one()
    count, oldest = int(row[0]), cast("datetime | None", row[1])  # min() of no rows is NULL
    if oldest is None:
        return int(count), 0.0
    return int(count), max((now - oldest).total_seconds(), 0.0)
