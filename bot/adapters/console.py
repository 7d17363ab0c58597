"""The console adapter: the whole bot on standard output, no chat platform needed.

The `newsbot console` loop that reads `/news …` lines from standard input is ``bot.repl``.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from bot.adapters.console_files import save_attachment
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


def render_card(card: StoryCard, *, update: bool = False, channel: str | None = None) -> str:
    """A story card as plain text, one field a line (dates and links never run together).

    ``channel`` labels the alert with where it was posted: a console session may follow
    several channels on one screen.
    """
    label = "UPDATE" if update else "ALERT"
    where = f"#{clean(channel)}: " if channel else ""
    lines = [f"[{label}] {where}{clean(card.headline)}  ({card.story_key})"]
    if card.extract:
        lines.append(f"  {clean(card.extract)}")
    lines.append(f"  topics: {clean(', '.join(card.topics))}")
    if card.linked_story_key:
        lines.append(f"  follows story {clean(card.linked_story_key)}")
    published = card.published.strftime("%Y-%m-%d %H:%M UTC") if card.published else "unknown"
    lines.append(f"  published: {published}")
    lines.append(f"  first seen: {card.first_seen.strftime('%Y-%m-%d %H:%M UTC')}")
    lines.append(f"  reported by: {'; '.join(clean(s.outlet) for s in card.sources)}")
    lines.extend(f"    - {clean(s.outlet)}: {clean(s.url or '(no link)')}" for s in card.sources)
    return "\n".join(lines)


class PrintedCards:
    """What this console already showed: the same story posted to two console channels
    (the auto-subscribed one and one typed into) is printed once, under the first channel.
    A second post to a channel that already had it (a re-plan) prints again."""

    def __init__(self) -> None:
        self._shown: dict[tuple[str, bool, tuple[str, ...]], set[str]] = {}

    def first_time(self, card: StoryCard, channel: str, *, update: bool = False) -> bool:
        key = (card.story_key, update, tuple(s.url or s.outlet for s in card.sources))
        channels = self._shown.get(key)
        if channels is None or channel in channels:
            self._shown[key] = {channel}
            return True
        channels.add(channel)
        return False


def render_thread_reply(source: SourceLink) -> str:
    return f"  ↳ also: {clean(source.outlet)}: {clean(source.title)} {clean(source.url or '')}"


def render_digest(title: str, cards: Sequence[StoryCard]) -> str:
    return "\n".join([f"[DIGEST] {clean(title)}", *(render_card(card) for card in cards)])


def render_admin_note(text: str) -> str:
    return f"[ADMIN] {clean(text)}"


def _field_lines(name: str, value: str) -> list[str]:
    """A reply field, with the link the core puts on its last line on a line of its own (it
    ran into the date before). Only a trailing link is split off: the rest stays one line, so
    feed text inside a field can never add a line of its own."""
    head, _, tail = value.rpartition("\n")
    tail = tail.strip()
    if head and tail.startswith(("https://", "http://")) and not any(c.isspace() for c in tail):
        return [f"  {clean(name)}: {_one_line(head)}", f"    {clean(tail)}"]
    return [f"  {clean(name)}: {_one_line(value)}"]


def _one_line(value: str) -> str:
    # The value's own lines (a verdict, then its reasons) stay apart as " · ", not run together.
    return " · ".join(clean(part) for part in value.splitlines() if part.strip())


def render_reply(reply: Reply, *, files_dir: Path | None = None) -> str:
    """The reply as text; its attachments are written into ``files_dir`` (see
    ``console_files``) and their paths printed."""
    lines = [clean(line) for line in reply.text.splitlines()] or [""]
    for f in reply.fields:
        lines.extend(_field_lines(f.name, f.value))
    lines.extend(f"  - {clean(link.title)}: {clean(link.url or '')}" for link in reply.links)
    lines.extend(render_card(card) for card in reply.cards)
    for attachment in reply.attachments:
        path = save_attachment(attachment, files_dir)
        label = clean(attachment.title or attachment.filename)
        lines.append(f"  file: {label} -> {clean(str(path))}")
    return "\n".join(lines)


class ConsoleAdapter:
    """Prints alerts to a stream; proves the ChatAdapter seam and serves the demo."""

    platform = PLATFORM

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self._ids = itertools.count(1)
        self._printed = PrintedCards()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.out.flush()

    def _print(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    async def post(self, channel: ChannelRef, card: StoryCard, *, delivery_id: int) -> MessageRef:
        if self._printed.first_time(card, channel.channel):
            self._print(render_card(card, channel=channel.channel))
        return MessageRef(channel, str(next(self._ids)))

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        if self._printed.first_time(card, ref.channel.channel, update=True):
            self._print(render_card(card, update=True, channel=ref.channel.channel))

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
