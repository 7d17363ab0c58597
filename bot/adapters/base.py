"""The ChatAdapter protocol: what the core asks of Slack, Discord and the console; their errors."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bot.core.models import ChannelRef, MessageRef, SourceLink, StoryCard


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
