"""Subscription repository: one row per chat channel, found by (platform, workspace, channel)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.models import ChannelRef, DeliveryMode, FollowUpStyle, Subscription, UserRef
from bot.storage import admin as admin_store
from bot.storage import audit as audit_repo
from bot.storage.tables import SubscriptionRow

T = TypeVar("T")
# The settings a channel edits itself; written back from the value and audited.
_SETTINGS = ("topics", "mode", "follow_ups", "include_words", "exclude_words", "muted_sources",
             "muted_stories", "quiet_start", "quiet_end", "timezone", "hourly_cap", "digest",
             "paused", "since")  # fmt: skip


def find(session: Session, channel: ChannelRef) -> SubscriptionRow | None:
    return session.scalars(
        select(SubscriptionRow).where(
            SubscriptionRow.platform == channel.platform,
            SubscriptionRow.workspace == channel.workspace,
            SubscriptionRow.channel == channel.channel,
        )
    ).one_or_none()


def follow_everything(
    session: Session, channel: ChannelRef, topics: list[str], *, now: datetime
) -> None:
    """The channel follows every topic from the moment it first appears (the console's); a
    channel that exists already keeps what it chose."""
    if find(session, channel) is None:
        row = get_or_create(session, channel, now=now, created_by="newsbot")
        row.topics = topics


def get_or_create(
    session: Session, channel: ChannelRef, *, now: datetime, created_by: str = ""
) -> SubscriptionRow:
    """The channel's subscription, created empty on first use.

    ``since`` is set to the creation instant: a channel that joins late gets the stories first
    seen from now on, not the backlog.
    """
    row = find(session, channel)
    if row is not None:
        if channel.name and row.channel_name != channel.name:
            row.channel_name = channel.name
        return row
    row = SubscriptionRow(
        platform=channel.platform,
        workspace=channel.workspace,
        channel=channel.channel,
        channel_name=channel.name,
        topics=[],
        mode=DeliveryMode.REALTIME,
        follow_ups=FollowUpStyle.EDIT,
        include_words=[],
        exclude_words=[],
        muted_sources=[],
        muted_stories=[],
        timezone="UTC",
        digest={},
        paused=False,
        since=now,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row


def subscribed_workspaces(session: Session) -> list[tuple[str, str]]:
    """(platform, workspace) of every place with a subscription."""
    rows = session.execute(select(SubscriptionRow.platform, SubscriptionRow.workspace).distinct())
    return sorted((str(p), str(w)) for p, w in rows)


def with_digest(session: Session) -> list[Subscription]:
    """Subscriptions with a digest schedule, for rebuilding digest jobs at start."""
    return [value(r) for r in session.scalars(select(SubscriptionRow)) if r.digest]


def unpaused(session: Session) -> list[Subscription]:
    """Every subscription not paused: the channels an alert may be planned for."""
    query = select(SubscriptionRow).where(SubscriptionRow.paused.is_(False))
    return [value(r) for r in session.scalars(query.order_by(SubscriptionRow.id))]


def get(session: Session, subscription_id: int) -> Subscription | None:
    row = session.get(SubscriptionRow, subscription_id)
    return None if row is None else value(row)


def digest_window_moved(session: Session, subscription_id: int, now: datetime) -> None:
    """The next digest starts after ``now`` (moved even when this one was empty)."""
    row = session.get(SubscriptionRow, subscription_id)
    if row is not None:
        row.last_digest_at = now


def channel_of(row: SubscriptionRow) -> ChannelRef:
    return ChannelRef(row.platform, row.workspace, row.channel, row.channel_name)


def value(row: SubscriptionRow) -> Subscription:
    return Subscription(
        id=row.id, channel=channel_of(row), topics=tuple(row.topics), since=row.since,
        mode=DeliveryMode(row.mode), follow_ups=FollowUpStyle(row.follow_ups),
        include_words=tuple(row.include_words),
        exclude_words=tuple(row.exclude_words), muted_sources=tuple(row.muted_sources),
        muted_stories=tuple(row.muted_stories), quiet_start=row.quiet_start,
        quiet_end=row.quiet_end, timezone=row.timezone, hourly_cap=row.hourly_cap,
        digest={str(k): str(v) for k, v in (row.digest or {}).items()}, paused=row.paused,
        last_digest_at=row.last_digest_at,
    )  # fmt: skip


def subscription(session: Session, channel: ChannelRef) -> Subscription | None:
    """The channel's subscription as a value, or None when it has none."""
    row = find(session, channel)
    return None if row is None else value(row)


def update(
    session: Session,
    channel: ChannelRef,
    change: Callable[[Subscription], tuple[Subscription, T]],
    *,
    by: UserRef,
    action: str,
    now: datetime,
) -> tuple[Subscription, T]:
    """Apply ``change`` to the channel's subscription (created on first use) and write it back.

    A change to the channel's settings is audited like an admin edit (``action``); following
    or leaving topics is not (it is the channel's own reading list, shown by /news subscriptions).
    """
    row = get_or_create(session, channel, now=now, created_by=by.user)
    key = admin_store.channel_key(channel)
    before = admin_store.snapshot(session, key)
    new, said = change(value(row))
    for name in _SETTINGS:
        current = getattr(new, name)
        setattr(row, name, list(current) if isinstance(current, tuple) else current)
    if not new.paused:
        row.paused_reason = None
    session.flush()
    after = admin_store.snapshot(session, key)
    if after != before:
        audit_repo.record(session, by, action=action, target=key, before=before, after=after,
                          now=now)  # fmt: skip
    return value(row), said
