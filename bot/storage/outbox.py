"""Outbox rows settled after the chat call, and the claims a flush holds on them.

A flush claims its rows for ``owner`` (``claimed_by``/``claimed_until``, a lease as short as
``poll.lease``, renewed while the flush works); each row is settled, and its claim taken off,
in the transaction that records the call's outcome. A process that dies leaves claims that
lapse within the lease, and a process restarted on the same host expires them at once.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from bot.core.models import DeliveryStatus
from bot.storage.tables import DeliveryRow, SubscriptionRow

DELIVERIES: Table = DeliveryRow.__table__  # type: ignore[assignment]
RETRY_BASE_SECONDS = 30
MAX_ATTEMPTS = 8


def settle_sent(
    session: Session,
    delivery_id: int,
    message_id: str,
    thread_id: str | None,
    shown: list[str],
    items_total: int,
    now: datetime,
) -> None:
    """The chat call went through: the post, what it shows, and no claim on it."""
    row = session.get(DeliveryRow, delivery_id)
    if row is None:
        return
    row.status = DeliveryStatus.SENT
    row.message_id = message_id
    row.thread_id = thread_id or message_id
    row.sent_at = row.sent_at or now
    row.updated_at = now
    row.items_posted = items_total
    row.shown = shown
    row.claimed_until = None
    row.claimed_by = None
    row.last_error = None


def pause(
    session: Session, subscription_id: int, delivery_id: int, reason: str, now: datetime
) -> None:
    """The channel is gone or closed to the bot: its subscription stops until re-subscribed."""
    sub = session.get(SubscriptionRow, subscription_id)
    if sub is not None:
        sub.paused = True
        sub.paused_reason = f"{reason} (at {now:%Y-%m-%d %H:%M} UTC)"
    release(session, delivery_id, reason)


def release(session: Session, delivery_id: int, error: str) -> None:
    """Left pending (or sent with an edit due): it goes out when the channel or adapter is
    back."""
    row = session.get(DeliveryRow, delivery_id)
    if row is not None:
        row.claimed_until = None
        row.claimed_by = None
        row.last_error = error


def retry_later(session: Session, delivery_id: int, error: str, now: datetime) -> None:
    """The call failed for now: due again after a backoff, or given up after MAX_ATTEMPTS."""
    row = session.get(DeliveryRow, delivery_id)
    if row is None:
        return
    row.claimed_until = None
    row.claimed_by = None
    row.last_error = error
    if row.attempts >= MAX_ATTEMPTS and row.message_id is None:
        row.status = DeliveryStatus.FAILED
        row.reason = f"gave up after {row.attempts} attempts: {error}"
        return
    row.due_at = now + timedelta(seconds=RETRY_BASE_SECONDS * 2 ** min(row.attempts, 8))


def renew_claims(session: Session, owner: str, ids: Sequence[int], until: datetime) -> int:
    """Extend ``owner``'s claims on these rows while its flush still works through them."""
    if not ids:
        return 0
    result = session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.id.in_(list(ids)), DELIVERIES.c.claimed_by == owner)
        .values(claimed_until=until)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def claim_owners(session: Session, prefix: str) -> list[str]:
    """The owners holding delivery claims whose name starts with ``prefix``."""
    query = (
        select(DELIVERIES.c.claimed_by).distinct().where(DELIVERIES.c.claimed_by.like(f"{prefix}%"))
    )
    return [owner for owner in session.scalars(query) if owner]


def expire_claims(session: Session, owners: Collection[str], now: datetime) -> int:
    """Claims of processes known to be gone run out now, for the next flush to take."""
    if not owners:
        return 0
    result = session.execute(
        update(DELIVERIES)
        .where(DELIVERIES.c.claimed_by.in_(list(owners)), DELIVERIES.c.claimed_until.is_not(None))
        .values(claimed_until=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
