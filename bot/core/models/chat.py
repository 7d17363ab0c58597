"""What crosses the chat contract: channels, users, messages, replies and commands."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.models.feeds import SourceLink
from bot.core.models.stories import StoryCard


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
