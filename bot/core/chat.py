"""The chat contract, owned by the core: what it asks of a platform (``ChatAdapter``), what a
platform asks of it (``CommandHandler``), and the delivery errors an adapter raises.

Adapters implement ``ChatAdapter`` and take a ``CommandHandler``; the core never imports them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.config import AppConfig
from bot.core.models import (
    ChannelRef,
    ChatSetup,
    Command,
    MessageRef,
    Reply,
    SourceLink,
    StoryCard,
    UserRef,
)

if TYPE_CHECKING:
    # The grammar is data the adapters render (Discord builds its command tree from it).
    from bot.core.commands.grammar import CommandSpec


class DeliveryError(Exception):
    """A chat call failed in a way worth retrying later (network, 5xx, rate limit exhausted)."""


class ChannelUnavailable(DeliveryError):
    """The channel is gone or closed to the bot (not found, not a member, archived, 403/404).

    The core pauses the subscription and tells the admins; retrying would fail the same way.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AdapterStopped(DeliveryError):
    """The adapter cannot work at all (revoked token): it stops, the rest of the bot runs on."""


@runtime_checkable
class ChatAdapter(Protocol):
    """A chat platform as the core sees it. Rendering a card is the adapter's own business."""

    platform: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def post(self, channel: ChannelRef, card: StoryCard, *, delivery_id: int) -> MessageRef:
        """Post a new story. ``delivery_id`` makes a retried post idempotent (nonce/metadata)."""
        ...

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        """Edit a posted story in place when another outlet reports it."""
        ...

    async def reply_in_thread(self, ref: MessageRef, source: SourceLink) -> MessageRef:
        """Reply under a posted story with a later report's headline and link."""
        ...

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        """Post several stories as one message (digests, alerts released after quiet hours)."""
        ...

    async def notify_admins(self, workspace: str, text: str) -> None:
        """Tell a workspace's admins something needs them (a subscription paused)."""
        ...


@runtime_checkable
class CommandHandler(Protocol):
    """The core as an adapter's inbound side sees it: text in, a ``Reply`` out.

    ``handle`` and ``feedback`` answer every command error (unknown command, bad usage, not an
    admin) with a ``Reply``; an adapter only guards its own transport.
    """

    async def handle(self, cmd: Command) -> Reply:
        """Run one `/news …` command typed (or clicked) by ``cmd.user`` in ``cmd.channel``."""
        ...

    def specs(self) -> Sequence[CommandSpec]:
        """Every command with its arguments, for platforms that declare them (Discord's tree)."""
        ...

    async def complete(
        self, kind: str, prefix: str, channel: ChannelRef | None = None
    ) -> list[str]:
        """Suggestions for an argument of ``kind`` (topic, source, story, …) starting ``prefix``."""
        ...

    async def feedback(
        self, story_key: str, user: UserRef, channel: ChannelRef, verdict: str = "not_relevant"
    ) -> Reply:
        """A reader's verdict on a posted story (the "Not relevant" button)."""
        ...


# What an adapter answers when the handler itself raised (the database is down, a bug): the
# command's own errors come back as replies, so this is the one line adapters write.
HANDLER_FAILED = Reply(
    text="That failed on the bot's side and is logged; try again in a minute.", ok=False
)


def chat_setup(cfg: AppConfig) -> ChatSetup:
    """The part of the config the chat adapters read (they import no config themselves)."""
    return ChatSetup(
        slack_owners=frozenset(cfg.admins.slack_users),
        discord_owners=frozenset(cfg.admins.discord_users),
        discord_owner_roles=frozenset(cfg.admins.discord_roles),
        discord_guilds=tuple(cfg.discord_guilds),
        topic_names={t.id: t.name for t in cfg.topics},
    )
