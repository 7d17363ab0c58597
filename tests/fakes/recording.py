"""A chat platform that records what the core asks of it, for core tests to assert on calls
(which channel, which story, which delivery id) rather than on rendered text.

It implements the core's ``ChatAdapter`` contract and nothing more; ``fail_next`` makes a call
raise one of the core's delivery errors, as a platform would.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.core.chat import DeliveryError
from bot.core.models import ChannelRef, MessageRef, SourceLink, StoryCard


@dataclass(frozen=True)
class Posted:
    channel: ChannelRef
    card: StoryCard
    delivery_id: int
    ref: MessageRef


@dataclass(frozen=True)
class Updated:
    ref: MessageRef
    card: StoryCard


@dataclass(frozen=True)
class ThreadReply:
    parent: MessageRef
    source: SourceLink
    ref: MessageRef


@dataclass(frozen=True)
class DigestPosted:
    channel: ChannelRef
    title: str
    cards: tuple[StoryCard, ...]
    delivery_id: int
    ref: MessageRef

    @property
    def story_keys(self) -> list[str]:
        return [card.story_key for card in self.cards]


@dataclass(frozen=True)
class AdminNote:
    workspace: str
    text: str


Call = Posted | Updated | ThreadReply | DigestPosted | AdminNote


@dataclass(frozen=True)
class Seen:
    """What the platform was asked to do over a stretch (one poll cycle, say)."""

    calls: list[Call]

    @property
    def alerts(self) -> list[Posted]:
        return [c for c in self.calls if isinstance(c, Posted)]

    @property
    def updates(self) -> list[Updated]:
        return [c for c in self.calls if isinstance(c, Updated)]

    @property
    def notes(self) -> list[str]:
        return [c.text for c in self.calls if isinstance(c, AdminNote)]

    def text(self) -> str:
        """The headlines, extracts, report titles and outlets of every card posted or updated."""
        cards = [c.card for c in self.calls if isinstance(c, Posted | Updated)]
        return "\n".join(
            "\n".join([c.headline, c.extract, *(f"{s.title} ({s.outlet})" for s in c.sources)])
            for c in cards
        )


@dataclass
class RecordingAdapter:
    """Every ChatAdapter call, in order, in ``calls``; message ids count up from 1."""

    platform: str = "console"
    calls: list[Call] = field(default_factory=list)
    _failures: dict[str, list[DeliveryError]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def since(self, start: int) -> Seen:
        """The calls after the first ``start`` (``len(calls)`` taken earlier)."""
        return Seen(self.calls[start:])

    def fail_next(self, method: str, error: DeliveryError) -> None:
        """The next call of ``method`` ("post", "update", …) raises ``error``, unrecorded."""
        self._failures.setdefault(method, []).append(error)

    @property
    def posts(self) -> list[Posted]:
        return [call for call in self.calls if isinstance(call, Posted)]

    @property
    def digests(self) -> list[DigestPosted]:
        return [call for call in self.calls if isinstance(call, DigestPosted)]

    @property
    def admin_notes(self) -> list[AdminNote]:
        return [call for call in self.calls if isinstance(call, AdminNote)]

    def _raise_if_failing(self, method: str) -> None:
        pending = self._failures.get(method)
        if pending:
            raise pending.pop(0)

    def _ref(self, channel: ChannelRef, thread: str | None = None) -> MessageRef:
        return MessageRef(channel, str(next(self._ids)), thread)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def post(self, channel: ChannelRef, card: StoryCard, *, delivery_id: int) -> MessageRef:
        self._raise_if_failing("post")
        ref = self._ref(channel)
        self.calls.append(Posted(channel, card, delivery_id, ref))
        return ref

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        self._raise_if_failing("update")
        self.calls.append(Updated(ref, card))

    async def reply_in_thread(self, ref: MessageRef, source: SourceLink) -> MessageRef:
        self._raise_if_failing("reply_in_thread")
        reply = self._ref(ref.channel, ref.thread_id or ref.message_id)
        self.calls.append(ThreadReply(ref, source, reply))
        return reply

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        self._raise_if_failing("post_digest")
        ref = self._ref(channel)
        self.calls.append(DigestPosted(channel, title, tuple(cards), delivery_id, ref))
        return ref

    async def notify_admins(self, workspace: str, text: str) -> None:
        self._raise_if_failing("notify_admins")
        self.calls.append(AdminNote(workspace, text))
