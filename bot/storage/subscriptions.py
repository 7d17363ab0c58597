"""Subscription repository: one row per chat channel, found by (platform, workspace, channel)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.models import ChannelRef
from bot.storage.tables import SubscriptionRow


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
        mode="realtime",
        follow_ups="edit",
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


def with_digest(session: Session) -> list[SubscriptionRow]:
    """Subscriptions with a digest schedule, for rebuilding digest jobs at start."""
    return [r for r in session.scalars(select(SubscriptionRow)) if r.digest]


def channel_of(row: SubscriptionRow) -> ChannelRef:
    return ChannelRef(row.platform, row.workspace, row.channel, row.channel_name)
