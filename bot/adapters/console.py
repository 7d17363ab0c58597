"""The console adapter: the whole bot on standard output, no chat platform needed."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.core.models import ChannelRef, MessageRef, Reply, SourceLink, StoryCard

PLATFORM = "console"
WORKSPACE = "local"


def console_channel(name: str = "console") -> ChannelRef:
    return ChannelRef(PLATFORM, WORKSPACE, name, name)


def _clean(text: str) -> str:
    # Feed text is untrusted: no terminal escape sequences or stray control characters.
    return "".join(ch for ch in text if ch.isprintable() or ch == " ")


def render_card(card: StoryCard, *, update: bool = False) -> str:
    """A story card as plain text lines."""
    label = "UPDATE" if update else "ALERT"
    lines = [f"[{label}] {_clean(card.headline)}  ({card.story_key})"]
    if card.extract:
        lines.append(f"  {_clean(card.extract)}")
    lines.append(f"  topics: {', '.join(card.topics)}")
    first = card.first_seen.strftime("%Y-%m-%d %H:%M UTC")
    if card.linked_story_key:
        lines.append(f"  follows story {card.linked_story_key}")
    outlets = "; ".join(_clean(s.outlet) for s in card.sources)
    lines.append(f"  reported by: {outlets}  (first seen {first})")
    lines.extend(f"    - {_clean(s.outlet)}: {s.url or '(no link)'}" for s in card.sources)
    return "\n".join(lines)


def render_reply(reply: Reply) -> str:
    lines = [_clean(line) for line in reply.text.splitlines()] or [""]
    lines.extend(f"  {_clean(f.name)}: {_clean(f.value)}" for f in reply.fields)
    lines.extend(f"  - {_clean(link.title)}: {link.url or ''}" for link in reply.links)
    lines.extend(render_card(card) for card in reply.cards)
    return "\n".join(lines)


class ConsoleAdapter:
    """Prints alerts to a stream; proves the ChatAdapter seam and serves the demo."""

    platform = PLATFORM

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._ids = itertools.count(1)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.out.flush()

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def post(self, channel: ChannelRef, card: StoryCard, *, delivery_id: int) -> MessageRef:
        self._print(render_card(card))
        return MessageRef(channel, str(next(self._ids)))

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        self._print(render_card(card, update=True))

    async def reply_in_thread(self, ref: MessageRef, source: SourceLink) -> MessageRef:
        self._print(f"  ↳ also: {_clean(source.outlet)}: {_clean(source.title)} {source.url or ''}")
        return MessageRef(ref.channel, str(next(self._ids)), ref.message_id)

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        self._print(f"[DIGEST] {_clean(title)}")
        for card in cards:
            self._print(render_card(card))
        return MessageRef(channel, str(next(self._ids)))

    async def notify_admins(self, workspace: str, text: str) -> None:
        self._print(f"[ADMIN] {_clean(text)}")

    async def send_reply(self, reply: Reply) -> None:
        self._print(render_reply(reply))
