"""The console adapter: the whole bot on standard output, no chat platform needed.

The `newsbot console` loop that reads `/news …` lines from standard input is ``bot.repl``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from typing import TextIO

from bot.core.models import (
    ChannelRef,
    MessageRef,
    Reply,
    SourceLink,
    StoryCard,
)
from bot.core.textsafety import untrusted_text

PLATFORM = "console"
WORKSPACE = "local"


def console_channel(name: str = "console") -> ChannelRef:
    return ChannelRef(PLATFORM, WORKSPACE, name, name)


def clean(text: str) -> str:
    # Feed text is untrusted: no terminal escapes, controls, bidi or zero-width characters,
    # and one line (a line break could fake a second alert).
    return untrusted_text(text)


def render_card(card: StoryCard, *, update: bool = False) -> str:
    """A story card as plain text lines."""
    label = "UPDATE" if update else "ALERT"
    lines = [f"[{label}] {clean(card.headline)}  ({card.story_key})"]
    if card.extract:
        lines.append(f"  {clean(card.extract)}")
    lines.append(f"  topics: {clean(', '.join(card.topics))}")
    first = card.first_seen.strftime("%Y-%m-%d %H:%M UTC")
    published = (
        card.published.strftime("published %Y-%m-%d %H:%M UTC")
        if card.published
        else "publication time unknown"
    )
    if card.linked_story_key:
        lines.append(f"  follows story {clean(card.linked_story_key)}")
    outlets = "; ".join(clean(s.outlet) for s in card.sources)
    lines.append(f"  reported by: {outlets}  ({published} · first seen {first})")
    lines.extend(f"    - {clean(s.outlet)}: {clean(s.url or '(no link)')}" for s in card.sources)
    return "\n".join(lines)


def render_thread_reply(source: SourceLink) -> str:
    return f"  ↳ also: {clean(source.outlet)}: {clean(source.title)} {clean(source.url or '')}"


def render_digest(title: str, cards: Sequence[StoryCard]) -> str:
    return "\n".join([f"[DIGEST] {clean(title)}", *(render_card(card) for card in cards)])


def render_admin_note(text: str) -> str:
    return f"[ADMIN] {clean(text)}"


def render_reply(reply: Reply) -> str:
    lines = [clean(line) for line in reply.text.splitlines()] or [""]
    lines.extend(f"  {clean(f.name)}: {clean(f.value)}" for f in reply.fields)
    lines.extend(f"  - {clean(link.title)}: {clean(link.url or '')}" for link in reply.links)
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
        self._print(render_thread_reply(source))
        return MessageRef(ref.channel, str(next(self._ids)), ref.message_id)

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        self._print(render_digest(title, cards))
        return MessageRef(channel, str(next(self._ids)))

    async def notify_admins(self, workspace: str, text: str) -> None:
        self._print(render_admin_note(text))
