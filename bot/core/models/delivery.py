"""How a channel is served: its subscription and where each delivery stands in the outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from bot.core.models.chat import ChannelRef


class DeliveryStatus(StrEnum):
    """Where one delivery (an alert, a digest, a release of held alerts) stands in the outbox."""

    PENDING = "pending"  # to post now (or when its lease or retry time comes)
    HELD = "held"  # to post at due_at, grouped with the other held stories in one message
    SENT = "sent"  # posted; an alert is still edited as later reports come
    RELEASED = "released"  # a held alert posted inside a grouped message; never edited later
    SKIPPED = "skipped"  # never posted as an alert; its reason says why (a digest may show it)
    FAILED = "failed"  # given up after the retries; its reason says why


class DeliveryKind(StrEnum):
    ALERT = "alert"  # one story's post in a channel
    DIGEST = "digest"  # the day's or week's stories in one message


class DeliveryMode(StrEnum):
    """What a subscribed channel gets (stored as these strings in ``subscriptions.mode``)."""

    REALTIME = "realtime"  # an alert per story as it happens
    DIGEST = "digest"  # only the scheduled digest
    BOTH = "both"


class FollowUpStyle(StrEnum):
    """How a posted alert learns of later reports (``subscriptions.follow_ups``)."""

    EDIT = "edit"  # the post is edited in place
    THREAD = "thread"  # edited, and each later report is also a reply in its thread


@dataclass(frozen=True, slots=True)
class Subscription:
    """A channel's subscription and its own settings, as the commands read and edit them.

    An edit is a new value (``dataclasses.replace``); storage writes it back and audits it.
    """

    id: int
    channel: ChannelRef
    topics: tuple[str, ...]
    since: datetime
    mode: DeliveryMode = DeliveryMode.REALTIME
    follow_ups: FollowUpStyle = FollowUpStyle.EDIT
    include_words: tuple[str, ...] = ()
    exclude_words: tuple[str, ...] = ()
    muted_sources: tuple[str, ...] = ()
    muted_stories: tuple[str, ...] = ()
    quiet_start: str | None = None
    quiet_end: str | None = None
    timezone: str = "UTC"
    hourly_cap: int | None = None
    digest: dict[str, str] = field(default_factory=dict)  # {"every": "daily", "at": …, "tz": …}
    paused: bool = False
    last_digest_at: datetime | None = None  # the end of the last digest's window
