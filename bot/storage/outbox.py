"""The outbox's rows: claimed when due, settled after the chat call, and the claims on them.

A flush claims its rows for ``owner`` (``claimed_by``/``claimed_until``, a lease as short as
``poll.lease``, renewed while the flush works); each row is settled, and its claim taken off,
in the transaction that records the call's outcome. A process that dies leaves claims that
lapse within the lease, and a process restarted on the same host expires them at once.

Alerts, digests and held alerts released together go through the same claims and the same
settlement; what differs by row is said once, here: a held alert becomes ``released`` (never
edited later), and a digest is posted once or given up (its window has moved on).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import Select, Table, and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.core.models import ChannelRef, DeliveryKind, DeliveryStatus, FollowUpStyle
from bot.storage.tables import DeliveryRow, StoryRow, SubscriptionRow

DELIVERIES: Table = DeliveryRow.__table__  # type: ignore[assignment]
RETRY_BASE_SECONDS = 30
MAX_ATTEMPTS = 8
HELD_RETRY = timedelta(minutes=5)  # a release that failed is tried again this much later
CLAIM_LIMIT = 200  # rows one flush takes; the rest wait for the next


@dataclass(frozen=True, slots=True)
class Claimed:
    """One outbox row taken under a claim, with its channel as the chat call needs it."""

    delivery_id: int
    story_id: int | None
    subscription_id: int
    channel: ChannelRef
    follow_ups: FollowUpStyle
    message_id: str | None
    thread_id: str | None
    items_posted: int
    items_total: int
    shown: tuple[str, ...] | None  # the articles the post shows; None: not recorded
    reason: str | None  # why a held alert was held ("quiet hours", "cap (…)")


def _claimed(row: DeliveryRow, sub: SubscriptionRow) -> Claimed:
    return Claimed(
        delivery_id=row.id, story_id=row.story_id, subscription_id=sub.id,
        channel=ChannelRef(sub.platform, sub.workspace, sub.channel, sub.channel_name),
        follow_ups=FollowUpStyle(sub.follow_ups), message_id=row.message_id,
        thread_id=row.thread_id, items_posted=row.items_posted, items_total=row.items_total,
        shown=tuple(row.shown) if row.shown is not None else None, reason=row.reason,
    )  # fmt: skip


def _due(platforms: Collection[str], now: datetime) -> Select[DeliveryRow, SubscriptionRow]:
    """Rows of live platforms' unpaused channels, due, and claimed by nobody (or lapsed)."""
    return (
        select(DeliveryRow, SubscriptionRow)
        .join(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
        .where(
            SubscriptionRow.platform.in_(list(platforms)),
            SubscriptionRow.paused.is_(False),
            DeliveryRow.due_at <= now,
            or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < now),
        )
        .order_by(DeliveryRow.id)
    )


def _take(
    session: Session,
    query: Select[DeliveryRow, SubscriptionRow],
    owner: str,
    until: datetime,
    skip: Callable[[DeliveryRow, SubscriptionRow], bool] = lambda row, sub: False,
) -> list[tuple[DeliveryRow, SubscriptionRow]]:
    if session.get_bind().dialect.name == "postgresql":
        # Several bot processes share the outbox: each row goes to exactly one of them.
        query = query.with_for_update(skip_locked=True, of=DeliveryRow)
    taken = [(r, s) for r, s in session.execute(query).tuples() if not skip(r, s)]
    for row, _ in taken:
        row.claimed_until, row.claimed_by = until, owner
        row.attempts += 1
    return taken


def claim_alerts(
    session: Session, platforms: Collection[str], now: datetime, owner: str, lease: timedelta
) -> list[Claimed]:
    """Take due alerts (new posts, and posts whose story grew) under ``owner``'s lease."""
    if not platforms:
        return []
    query = (
        _due(platforms, now)
        .where(
            DeliveryRow.kind == DeliveryKind.ALERT,
            or_(
                DeliveryRow.status == DeliveryStatus.PENDING,
                and_(
                    DeliveryRow.status == DeliveryStatus.SENT,
                    DeliveryRow.items_total > DeliveryRow.items_posted,
                ),
            ),
        )
        .limit(CLAIM_LIMIT)
    )
    muted = partial(_muted, session)
    return [_claimed(r, s) for r, s in _take(session, query, owner, now + lease, muted)]


def _muted(session: Session, row: DeliveryRow, sub: SubscriptionRow) -> bool:
    """A story muted after its alert was planned: no post, and no more edits of the post."""
    if not sub.muted_stories:
        return False
    story = session.get(StoryRow, row.story_id)
    if story is None or story.key not in sub.muted_stories:
        return False
    if row.message_id is None:
        row.status, row.reason = DeliveryStatus.SKIPPED, f"muted (story `{story.key}`)"
    else:
        row.items_posted = row.items_total
    return True


def claim_held(
    session: Session, platforms: Collection[str], now: datetime, owner: str, lease: timedelta
) -> dict[int, list[Claimed]]:
    """Take the held alerts whose time has come, per subscription, under ``owner``'s lease."""
    if not platforms:
        return {}
    query = _due(platforms, now).where(
        DeliveryRow.kind == DeliveryKind.ALERT, DeliveryRow.status == DeliveryStatus.HELD
    )
    grouped: dict[int, list[Claimed]] = defaultdict(list)
    for row, sub in _take(session, query, owner, now + lease):
        grouped[sub.id].append(_claimed(row, sub))
    return dict(grouped)


def add_digest(
    session: Session, subscription_id: int, stories: int, now: datetime, owner: str,
    lease: timedelta,
) -> int:  # fmt: skip
    """The digest's row, written (and claimed) before its chat call; returns its id."""
    row = DeliveryRow(subscription_id=subscription_id, story_id=None, kind=DeliveryKind.DIGEST,
                      status=DeliveryStatus.PENDING, items_total=stories, created_at=now,
                      due_at=now, attempts=1, claimed_until=now + lease,
                      claimed_by=owner)  # fmt: skip
    session.add(row)
    session.flush()
    return row.id


def _rows(session: Session, ids: Sequence[int]) -> list[DeliveryRow]:
    rows = (session.get(DeliveryRow, i) for i in ids)
    return [row for row in rows if row is not None]


def settle_sent(
    session: Session,
    ids: Sequence[int],
    message_id: str,
    thread_id: str | None,
    now: datetime,
    *,
    shown: list[str] | None = None,
    items_total: int | None = None,
) -> None:
    """The chat call went through: the post, what it shows, and no claim on it. A held alert
    is now ``released``; ``items_total`` is the count the post showed (later ones are edits)."""
    for row in _rows(session, ids):
        row.status = DeliveryStatus.RELEASED if row.status == DeliveryStatus.HELD else (
            DeliveryStatus.SENT
        )  # fmt: skip
        row.message_id = message_id
        row.thread_id = thread_id or message_id
        row.sent_at = row.sent_at or now
        row.updated_at = now
        row.items_posted = row.items_total if items_total is None else items_total
        if shown is not None:
            row.shown = shown
        row.claimed_until = None
        row.claimed_by = None
        row.last_error = None


def pause(
    session: Session, subscription_id: int, ids: Sequence[int], reason: str, now: datetime
) -> None:
    """The channel is gone or closed to the bot: its subscription stops until re-subscribed."""
    sub = session.get(SubscriptionRow, subscription_id)
    if sub is not None:
        sub.paused = True
        sub.paused_reason = f"{reason} (at {now:%Y-%m-%d %H:%M} UTC)"
    release(session, ids, reason)


def _unrepeatable(row: DeliveryRow, error: str) -> bool:
    """A digest is not posted later: its window has moved on, so it is given up at once."""
    if row.kind != DeliveryKind.DIGEST:
        return False
    row.status, row.reason = DeliveryStatus.FAILED, error
    return True


def release(session: Session, ids: Sequence[int], error: str) -> None:
    """Left pending, held (or sent with an edit due): out when the channel or adapter is back."""
    for row in _rows(session, ids):
        row.claimed_until = None
        row.claimed_by = None
        row.last_error = error
        _unrepeatable(row, error)


def retry_later(session: Session, ids: Sequence[int], error: str, now: datetime) -> None:
    """The call failed for now: due again after a backoff, or given up after MAX_ATTEMPTS."""
    for row in _rows(session, ids):
        row.claimed_until = None
        row.claimed_by = None
        row.last_error = error
        row.updated_at = now
        if _unrepeatable(row, error):
            continue
        if row.status == DeliveryStatus.HELD:  # tried again at a later release
            row.due_at = now + HELD_RETRY
            continue
        if row.attempts >= MAX_ATTEMPTS and row.message_id is None:
            row.status = DeliveryStatus.FAILED
            row.reason = f"gave up after {row.attempts} attempts: {error}"
            continue
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


def alert_totals(session: Session, story_ids: Collection[int]) -> dict[tuple[int, int], int]:
    """The alerts already planned for these stories: (subscription, story) → reports known."""
    query = select(DeliveryRow).where(
        DeliveryRow.story_id.in_(list(story_ids)), DeliveryRow.kind == DeliveryKind.ALERT
    )
    return {(r.subscription_id, r.story_id or 0): r.items_total for r in session.scalars(query)}


def set_alert_total(session: Session, subscription_id: int, story_id: int, total: int) -> None:
    """The story gained reports: the next flush edits the channel's post."""
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.subscription_id == subscription_id, DeliveryRow.story_id == story_id,
               DeliveryRow.kind == DeliveryKind.ALERT)
        .values(items_total=total)
    )  # fmt: skip


def add_alert(
    session: Session, subscription_id: int, story_id: int, status: DeliveryStatus,
    reason: str | None, items_total: int, due_at: datetime, now: datetime,
) -> None:  # fmt: skip
    session.add(DeliveryRow(subscription_id=subscription_id, story_id=story_id,
                            kind=DeliveryKind.ALERT, status=status, reason=reason,
                            items_total=items_total, created_at=now, due_at=due_at))  # fmt: skip


def alerts_last_hour(session: Session, now: datetime) -> dict[int, int]:
    """Alerts each channel got (or is about to get) in the hour before ``now``: the cap's count."""
    rows = session.execute(
        select(DeliveryRow.subscription_id, func.count())
        .where(
            DeliveryRow.kind == DeliveryKind.ALERT,
            DeliveryRow.status.in_((DeliveryStatus.PENDING, DeliveryStatus.SENT)),
            DeliveryRow.created_at >= now - timedelta(hours=1),
        )
        .group_by(DeliveryRow.subscription_id)
    )
    return {sub_id: count for sub_id, count in rows}
