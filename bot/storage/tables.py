"""The database schema, one table per stored concept; Alembic migrations are generated from it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from bot.core.models import DeliveryKind, DeliveryMode, DeliveryStatus, FollowUpStyle

# Stable constraint names so migrations behave the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect (SQLite drops tzinfo otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UtcDateTime column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class FeedRow(Base):
    """A polled feed and its fetch state (conditional-GET validators, backoff, health, lease)."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_on_first_poll: Mapped[bool] = mapped_column(Boolean, default=False)
    # A feed on a private network (an intranet, a test server), allowed one feed at a time.
    allow_private: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    added_at: Mapped[datetime]
    added_by: Mapped[str] = mapped_column(String(200), default="config")
    # fetch state
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    first_polled_at: Mapped[datetime | None]
    last_fetched_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_fetch_at: Mapped[datetime | None] = mapped_column(index=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    health: Mapped[str] = mapped_column(String(20), default="new")
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Scale-out: a poller claims a due feed until lease_until (PostgreSQL: FOR UPDATE SKIP LOCKED).
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None]


class ItemRow(Base):
    """A news item, stored once however many feeds carry it or how often it is seen."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    # The canonical link, unique like the key: the same article under two feeds' GUIDs is one
    # item. (NULL, for an item without a usable link, may repeat.)
    url: Mapped[str | None] = mapped_column(String(2048), index=True, unique=True)
    guid: Mapped[str | None] = mapped_column(String(2048))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(200), default="")
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    # False for items stored from a new feed's backlog: kept, matched, never alerted.
    alertable: Mapped[bool] = mapped_column(Boolean, default=True)
    # Work still to do on the item (matching and grouping), leased: written with the item,
    # cleared in the transaction that saves its match. A lease that runs out (its process
    # died, or lost the database) lets any worker take the item up.
    work_owner: Mapped[str | None] = mapped_column(String(200))
    work_until: Mapped[datetime | None] = mapped_column(index=True)


class MatchRow(Base):
    """The matcher's decision on one item and the evidence behind it."""

    __tablename__ = "matches"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    relevant: Mapped[bool] = mapped_column(Boolean, index=True)
    score: Mapped[float] = mapped_column(Float)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    why: Mapped[str] = mapped_column(Text, default="")
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    matched_at: Mapped[datetime]


class ArticleRow(Base):
    """The lead of an article page fetched for a title-only item, once per address."""

    __tablename__ = "articles"

    url: Mapped[str] = mapped_column(String(2048), primary_key=True)
    lead: Mapped[str] = mapped_column(Text, default="")
    # Why no lead came (one line), so a page that failed is not fetched again every cycle.
    error: Mapped[str | None] = mapped_column(Text)
    fetched_at: Mapped[datetime]


class GoogleTwinRow(Base):
    """An item stored under an undecoded Google News link, found by its outlet and headline.

    When the outlet's own copy of the article arrives later, it takes over this row (its
    link and outlet) instead of being stored beside it.
    """

    __tablename__ = "google_twins"

    twin: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the twin key
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"))
    first_seen_at: Mapped[datetime]


class LeaderRow(Base):
    """Who leads a role that must run once (a platform's chat connection, digests), until when.

    The leader renews `lease_until` every third of the lease; when it stops renewing, another
    process takes the row over once the lease has run out.
    """

    __tablename__ = "leaders"

    role: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))
    lease_until: Mapped[datetime]
    since: Mapped[datetime]


class StoryRow(Base):
    """One event as reported by one or more outlets; later phases link to the earlier story."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    headline: Mapped[str] = mapped_column(Text)
    topics: Mapped[list[Any]] = mapped_column(default=list)
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    last_item_at: Mapped[datetime] = mapped_column(index=True)
    event_at: Mapped[datetime | None]
    linked_story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL")
    )
    # Matching features of the story (terms, entities) so grouping needs no re-read of items.
    signature: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Its deliveries are still to be planned by then: set with a new report, cleared in the
    # transaction that writes the delivery rows; past due, any worker plans it (planning is
    # idempotent: one row per channel and story).
    plan_due_at: Mapped[datetime | None] = mapped_column(index=True)


class StoryItemRow(Base):
    __tablename__ = "story_items"

    item_id: Mapped[int] = mapped_column(
        ForeignKey("items.id", ondelete="CASCADE"), primary_key=True
    )
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float] = mapped_column(Float, default=1.0)
    added_at: Mapped[datetime]


class TopicRow(Base):
    """A tracked topic; seeded from config on first start, then edited from chat."""

    __tablename__ = "topics"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    terms: Mapped[list[Any]] = mapped_column(default=list)
    threshold: Mapped[float | None] = mapped_column(Float)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class SettingRow(Base):
    """Runtime settings that admins edit from chat (thresholds, poll interval, matcher lists)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column()
    updated_at: Mapped[datetime]


class SubscriptionRow(Base):
    """What one chat channel wants: topics, mode, filters, quiet hours, cap, digest."""

    __tablename__ = "subscriptions"
    __table_args__ = (UniqueConstraint("platform", "workspace", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    channel_name: Mapped[str] = mapped_column(String(200), default="")
    topics: Mapped[list[Any]] = mapped_column(default=list)
    mode: Mapped[str] = mapped_column(String(20), default=DeliveryMode.REALTIME)
    follow_ups: Mapped[str] = mapped_column(String(20), default=FollowUpStyle.EDIT)
    include_words: Mapped[list[Any]] = mapped_column(default=list)
    exclude_words: Mapped[list[Any]] = mapped_column(default=list)
    muted_sources: Mapped[list[Any]] = mapped_column(default=list)
    muted_stories: Mapped[list[Any]] = mapped_column(default=list)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    hourly_cap: Mapped[int | None] = mapped_column(Integer)
    digest: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"every": "daily", "at": ...}
    last_digest_at: Mapped[datetime | None]
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    paused_reason: Mapped[str | None] = mapped_column(Text)
    # Stories first seen before this instant never reach the channel: no flood on joining late.
    since: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200), default="")


class DeliveryRow(Base):
    """Outbox: written before the chat call, settled after it, so nothing is lost or doubled."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "story_id", "kind", name="uq_deliveries_once"),
        Index("ix_deliveries_status_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"))
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default=DeliveryKind.ALERT.value)
    # pending -> sent | failed | held (quiet hours / cap, released later) | skipped (with reason)
    status: Mapped[str] = mapped_column(String(20), default=DeliveryStatus.PENDING.value)
    reason: Mapped[str | None] = mapped_column(Text)
    items_posted: Mapped[int] = mapped_column(Integer, default=0)  # reports the post shows
    items_total: Mapped[int] = mapped_column(Integer, default=0)  # reports known; > posted: edit
    message_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))  # the flushing process
    # The articles the post shows, by identity (``cards.article_ids``): a follow-up names the
    # reports it does not, whatever their publication dates. NULL on rows from before 0007.
    shown: Mapped[list[Any] | None]


class FeedbackRow(Base):
    """A reader's verdict on a posted story ("Not relevant"), kept for threshold tuning."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    user: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(30))  # not_relevant
    at: Mapped[datetime]


class AuditRow(Base):
    """One admin change: who, when, what, before and after. Never deleted."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    platform: Mapped[str] = mapped_column(String(20))
    workspace: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(200), default="")
    action: Mapped[str] = mapped_column(String(100))  # e.g. "feeds.add", "topics.edit"
    target: Mapped[str] = mapped_column(String(500), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reverts_id: Mapped[int | None] = mapped_column(ForeignKey("audit_entries.id"))
