"""What admins edit from chat, as named entities with JSON snapshots.

An entity is ``feed:<url>``, ``topic:<id>``, ``setting:<section>`` or
``channel:<platform>/<workspace>/<channel>`` (a channel's own settings). ``snapshot`` reads its
state (None when it does not exist) and ``apply`` makes the database match a snapshot, so an
edit, its audit entry (before/after snapshots) and its revert (apply ``before``) share one code
path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.models import ChannelRef, FeedHealth, FeedListing
from bot.storage.tables import FeedRow, SettingRow, SubscriptionRow, TopicRow

Snapshot = dict[str, Any] | None


def feed_key(url: str) -> str:
    return f"feed:{url}"


def topic_key(topic_id: str) -> str:
    return f"topic:{topic_id}"


def setting_key(section: str) -> str:
    return f"setting:{section}"


# A channel's settings as people change them with `/news mode|quiet|cap|include|…`.
CHANNEL_FIELDS = ("mode", "follow_ups", "digest", "quiet_start", "quiet_end", "timezone",
                  "hourly_cap", "include_words", "exclude_words", "muted_sources",
                  "muted_stories")  # fmt: skip


def channel_key(channel: ChannelRef) -> str:
    return f"channel:{channel.platform}/{channel.workspace}/{channel.channel}"


def _subscription(session: Session, name: str) -> SubscriptionRow | None:
    platform, workspace, channel = [*name.split("/", 2), "", ""][:3]
    return session.scalars(
        select(SubscriptionRow).where(
            SubscriptionRow.platform == platform,
            SubscriptionRow.workspace == workspace,
            SubscriptionRow.channel == channel,
        )
    ).first()


def snapshot(session: Session, entity: str) -> Snapshot:
    kind, _, name = entity.partition(":")
    if kind == "channel":
        sub = _subscription(session, name)
        return None if sub is None else {f: _plain(getattr(sub, f)) for f in CHANNEL_FIELDS}
    if kind == "feed":
        feed = feed_by_url(session, name)
        if feed is None:
            return None
        return {"url": feed.url, "name": feed.name, "comment": feed.comment,
                "paused": feed.paused, "alert_on_first_poll": feed.alert_on_first_poll,
                "allow_private": bool(feed.allow_private)}  # fmt: skip
    if kind == "topic":
        topic = session.get(TopicRow, name)
        if topic is None:
            return None
        return {"id": topic.id, "name": topic.name, "description": topic.description,
                "terms": list(topic.terms), "threshold": topic.threshold,
                "extra": dict(topic.extra or {})}  # fmt: skip
    if kind == "setting":
        row = session.get(SettingRow, name)
        return None if row is None else {"value": row.value.get("value")}
    raise ValueError(f"unknown entity {entity!r}")


def apply(session: Session, entity: str, state: Snapshot, *, now: datetime, by: str) -> None:
    """Make the stored entity equal ``state`` (None removes it)."""
    kind, _, name = entity.partition(":")
    if kind == "channel":
        sub = _subscription(session, name)
        if sub is not None and state is not None:  # a channel's row is never deleted here
            for field in CHANNEL_FIELDS:
                setattr(sub, field, state.get(field, getattr(sub, field)))
    elif kind == "feed":
        _apply_feed(session, name, state, now=now, by=by)
    elif kind == "topic":
        _apply_topic(session, name, state)
    elif kind == "setting":
        row = session.get(SettingRow, name)
        if state is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(SettingRow(key=name, value={"value": state["value"]}, updated_at=now))
        else:
            row.value = {"value": state["value"]}
            row.updated_at = now
    else:
        raise ValueError(f"unknown entity {entity!r}")
    session.flush()


def _apply_feed(session: Session, url: str, state: Snapshot, *, now: datetime, by: str) -> None:
    feed = feed_by_url(session, url)
    if state is None:
        if feed is not None:
            session.delete(feed)
        return
    if feed is None:
        feed = FeedRow(url=url, added_at=now, added_by=by, health="new", failures=0)
        session.add(feed)
    feed.name = state["name"]
    feed.comment = state.get("comment", "")
    feed.alert_on_first_poll = bool(state.get("alert_on_first_poll", False))
    feed.allow_private = bool(state.get("allow_private", False))
    was_paused = bool(feed.paused)
    feed.paused = bool(state.get("paused", False))
    if feed.paused:
        feed.health = "paused"
    elif was_paused:
        # Resumed: fetch at the next tick, health decided by that fetch.
        feed.health = "ok" if feed.first_polled_at else "new"
        feed.next_fetch_at = None


def _apply_topic(session: Session, topic_id: str, state: Snapshot) -> None:
    topic = session.get(TopicRow, topic_id)
    if state is None:
        if topic is not None:
            session.delete(topic)
        return
    if topic is None:
        topic = TopicRow(id=topic_id)
        session.add(topic)
    topic.name = state["name"]
    topic.description = state.get("description", "")
    topic.terms = list(state.get("terms", []))
    topic.threshold = state.get("threshold")
    topic.extra = dict(state.get("extra", {}))


def feed_by_url(session: Session, url: str) -> FeedRow | None:
    return session.scalars(select(FeedRow).where(FeedRow.url == url)).one_or_none()


def feeds(session: Session) -> list[FeedListing]:
    """Every stored feed, paused ones too, in the order added."""
    return [
        FeedListing(r.id, r.url, r.name, FeedHealth(r.health), bool(r.paused),
                    bool(r.allow_private), r.last_success_at, r.last_error)
        for r in session.scalars(select(FeedRow).order_by(FeedRow.id))
    ]  # fmt: skip


def find_feed(session: Session, ref: str) -> FeedListing | None:
    """A feed by id, exact URL or name (case-insensitive)."""
    ref = ref.strip()
    rows = feeds(session)
    for row in rows:
        if ref.isdigit() and row.id == int(ref):
            return row
    for row in rows:
        if row.url == ref or row.name.lower() == ref.lower():
            return row
    return None


def setting(session: Session, section: str, cfg: AppConfig) -> Any:
    """A settings section as stored, or the config's when the database was never seeded."""
    row = session.get(SettingRow, section)
    if row is not None:
        return row.value.get("value")
    return cfg.model_dump(mode="json")[section]


def _plain(value: Any) -> Any:
    # JSON columns hand back lists and dicts the ORM tracks; a snapshot holds copies.
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value
