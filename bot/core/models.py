"""Plain values crossing the pipeline's stages: feeds, items, matches, stories, cards, chat refs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class FeedHealth(StrEnum):
    NEW = "new"  # never fetched yet
    OK = "ok"
    FAILING = "failing"  # last fetch failed; backing off
    PAUSED = "paused"  # an admin paused it
    GONE = "gone"  # the site answered 410 Gone: paused until an admin resumes it


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
class Feed:
    """A feed as the poller sees it: where to fetch and what the last fetch left behind."""

    id: int
    url: str
    name: str
    etag: str | None = None
    last_modified: str | None = None
    # None until the first successful fetch: that poll stores its backlog without alerting.
    first_polled_at: datetime | None = None
    failures: int = 0
    next_fetch_at: datetime | None = None
    health: FeedHealth = FeedHealth.NEW
    alert_on_first_poll: bool = False
    # Its own host may be a private or loopback address; redirects elsewhere stay guarded.
    allow_private: bool = False


@dataclass(frozen=True, slots=True)
class FeedListing:
    """A feed as admins see it listed: its state as stored, paused or not, and its last error."""

    id: int
    url: str
    name: str
    health: FeedHealth
    paused: bool
    allow_private: bool
    last_success_at: datetime | None
    last_error: str | None


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One entry of a feed after parsing: clean text, UTC date, canonical link, stable key."""

    key: str
    title: str
    summary: str
    url: str | None
    published: datetime | None
    source: str
    guid: str | None = None


@dataclass(frozen=True, slots=True)
class Item:
    """A stored item. ``id`` is the database row id; ``key`` is the stable identity."""

    id: int
    key: str
    feed_id: int | None
    title: str
    summary: str
    url: str | None
    source: str
    published: datetime | None
    first_seen: datetime
    # False for a new feed's backlog: stored and matched, never alerted.
    alertable: bool = True


@dataclass(frozen=True, slots=True)
class ArticleLead:
    """The opening text of an item's article page, or why there is none (one line)."""

    lead: str
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Match:
    """The matcher's decision on one item, with the evidence that ``/news why`` shows."""

    item_id: int
    relevant: bool
    score: float
    topics: tuple[str, ...]
    why: str  # one line
    evidence: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceLink:
    outlet: str
    title: str
    url: str | None
    published: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoryMaterial:
    """What a story's card is made of, as stored: the story and its reports, oldest first."""

    id: int
    key: str
    headline: str
    topics: tuple[str, ...]
    first_seen: datetime
    linked_key: str | None
    weights: dict[str, float]  # its signature's distinctive tokens and their weights
    reports: tuple[Item, ...]


@dataclass(frozen=True, slots=True)
class StoryCard:
    """What an adapter renders for a story: platform-neutral, already plain text."""

    story_id: int
    story_key: str
    headline: str
    extract: str
    topics: tuple[str, ...]
    sources: tuple[SourceLink, ...]
    first_seen: datetime
    linked_story_key: str | None = None
    # When its first report says it was published; None when the feed gave no date.
    published: datetime | None = None

    @property
    def url(self) -> str | None:
        return self.sources[0].url if self.sources else None


@dataclass(frozen=True, slots=True)
class ChatSetup:
    """What a chat adapter takes from the config: who owns the bot on its platform, the
    topics' display names, and where Discord registers the commands (built by core.chat)."""

    slack_owners: frozenset[str] = frozenset()
    discord_owners: frozenset[str] = frozenset()
    discord_owner_roles: frozenset[str] = frozenset()
    discord_guilds: tuple[str, ...] = ()
    topic_names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ChannelRef:
    platform: str  # "console", "slack", "discord"
    workspace: str  # Slack team id, Discord guild id, "local" for the console
    channel: str
    name: str = ""


@dataclass(frozen=True, slots=True)
class UserRef:
    platform: str
    workspace: str
    user: str
    name: str = ""
    # The adapter decides who is an admin (Slack: workspace admin; Discord: Manage Server)
    # and who an owner; the core enforces it. An admin manages their own channels; bot-wide
    # settings (feeds, topics, thresholds, schedules) are the owners' (configured ids, and
    # the admins of a single-workspace Slack install), since they change every guild's bot.
    is_admin: bool = False
    is_owner: bool = False


@dataclass(frozen=True, slots=True)
class MessageRef:
    """Where a posted message lives, so a later report can edit it or reply in its thread."""

    channel: ChannelRef
    message_id: str  # Slack ts, Discord message id, a counter on the console
    thread_id: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyField:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file a reply carries (an export, a chart): long text goes as a file, never cut or
    split by a platform's message limit. ``filename`` is a suggestion; adapters sanitise it."""

    filename: str
    data: bytes
    mime: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """A command's answer. Adapters render it; ephemeral answers go only to the asker."""

    text: str
    fields: tuple[ReplyField, ...] = ()
    links: tuple[SourceLink, ...] = ()
    cards: tuple[StoryCard, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    ephemeral: bool = True
    ok: bool = True


@dataclass(frozen=True, slots=True)
class Command:
    """A ``/news …`` invocation as the core receives it from any adapter."""

    text: str  # everything after "/news"
    user: UserRef
    channel: ChannelRef


# -- what the read commands show (storage builds them; the core renders them) -------------


@dataclass(frozen=True, slots=True)
class StoryView:
    """A story in a list (`/news latest`)."""

    key: str
    headline: str
    topics: tuple[str, ...]
    reports: int
    first_seen: datetime
    link: SourceLink | None


@dataclass(frozen=True, slots=True)
class ItemHit:
    """A stored item in a list (`/news search`, a story's reports)."""

    id: int
    title: str
    source: str
    seen: datetime
    link: SourceLink | None
    relevant: bool | None  # None: not matched yet
    story_key: str | None


@dataclass(frozen=True, slots=True)
class StoryDetail:
    """One story with every report, oldest first, and the stories it links to."""

    key: str
    headline: str
    topics: tuple[str, ...]
    reports: tuple[ItemHit, ...]
    linked: str | None
    followed_by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoredEvidence:
    """The matcher's stored decision on one item (`/news why`)."""

    item_id: int
    title: str
    relevant: bool
    score: float
    topics: tuple[str, ...]
    why: str
    details: dict[str, object]


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


@dataclass(frozen=True, slots=True)
class ItemFate:
    """What storage knows of an item's way to one channel; the core says why it did not arrive."""

    item_id: int
    title: str
    source: str
    seen: datetime
    published: datetime | None
    alertable: bool
    relevant: bool | None  # None: not matched yet
    why: str
    topics: tuple[str, ...]
    story_key: str | None  # None: not grouped yet
    story_first_seen: datetime | None
    first_report: bool  # the item its story's post shows first
    delivery_status: str | None  # None: no delivery row for this channel yet
    delivery_kind: str | None
    delivery_reason: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One admin change as the trail shows it: who, when, what, before and after."""

    id: int
    at: datetime
    platform: str
    user_id: str
    user_name: str
    action: str  # e.g. "feeds.add", "topics.edit", "channel.mute"
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reverts_id: int | None = None


@dataclass(frozen=True, slots=True)
class FlaggedReport:
    """One report of a flagged story and what the matcher stored when it let it through."""

    item: Item
    score: float
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FlaggedStory:
    """A story readers flagged: how many people, when last, and its reports (oldest first)."""

    story_id: int
    key: str
    headline: str
    flaggers: int
    last_flagged: datetime
    reports: tuple[FlaggedReport, ...]
