"""The console adapter: the whole bot on standard output, no chat platform needed; and the
`newsbot console` loop that reads `/news …` lines from standard input."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TextIO

from bot.core.models import (
    ChannelRef,
    Command,
    MessageRef,
    Reply,
    SourceLink,
    StoryCard,
    UserRef,
)
from bot.core.textsafety import untrusted_text

if TYPE_CHECKING:
    from bot.config import AppConfig
    from bot.core.commands import Commands
    from bot.settings import Settings

PLATFORM = "console"
WORKSPACE = "local"


def console_channel(name: str = "console") -> ChannelRef:
    return ChannelRef(PLATFORM, WORKSPACE, name, name)


def _clean(text: str) -> str:
    # Feed text is untrusted: no terminal escapes, controls, bidi or zero-width characters,
    # and one line (a line break could fake a second alert).
    return untrusted_text(text)


def render_card(card: StoryCard, *, update: bool = False) -> str:
    """A story card as plain text lines."""
    label = "UPDATE" if update else "ALERT"
    lines = [f"[{label}] {_clean(card.headline)}  ({card.story_key})"]
    if card.extract:
        lines.append(f"  {_clean(card.extract)}")
    lines.append(f"  topics: {_clean(', '.join(card.topics))}")
    first = card.first_seen.strftime("%Y-%m-%d %H:%M UTC")
    published = (
        card.published.strftime("published %Y-%m-%d %H:%M UTC")
        if card.published
        else "publication time unknown"
    )
    if card.linked_story_key:
        lines.append(f"  follows story {_clean(card.linked_story_key)}")
    outlets = "; ".join(_clean(s.outlet) for s in card.sources)
    lines.append(f"  reported by: {outlets}  ({published} · first seen {first})")
    lines.extend(f"    - {_clean(s.outlet)}: {_clean(s.url or '(no link)')}" for s in card.sources)
    return "\n".join(lines)


def render_thread_reply(source: SourceLink) -> str:
    return f"  ↳ also: {_clean(source.outlet)}: {_clean(source.title)} {_clean(source.url or '')}"


def render_digest(title: str, cards: Sequence[StoryCard]) -> str:
    return "\n".join([f"[DIGEST] {_clean(title)}", *(render_card(card) for card in cards)])


def render_admin_note(text: str) -> str:
    return f"[ADMIN] {_clean(text)}"


def render_reply(reply: Reply) -> str:
    lines = [_clean(line) for line in reply.text.splitlines()] or [""]
    lines.extend(f"  {_clean(f.name)}: {_clean(f.value)}" for f in reply.fields)
    lines.extend(f"  - {_clean(link.title)}: {_clean(link.url or '')}" for link in reply.links)
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

    async def send_reply(self, reply: Reply) -> None:
        self._print(render_reply(reply))


# -- the stdin command loop (`newsbot console`) -------------------------------------------


@dataclass(frozen=True)
class ConsoleLine:
    """One typed line: who says it, where, and the command text after ``/news``."""

    user: UserRef
    channel: ChannelRef
    text: str


def parse_line(line: str, user: UserRef, channel: ChannelRef) -> ConsoleLine | None:
    """``[--as user@channel] [--admin] /news …``; None for blank lines and # comments."""
    rest = line.strip()
    if not rest or rest.startswith("#"):
        return None
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        rest = rest.strip()
        if flag == "--admin":
            user = replace(user, is_admin=True)
        elif flag == "--as":
            who, _, rest = rest.partition(" ")
            name, _, where = who.partition("@")
            if not name:
                raise ValueError("--as needs user@channel, e.g. --as asha@newsroom")
            user = UserRef(PLATFORM, WORKSPACE, name, name, is_admin=user.is_admin)
            if where:
                channel = console_channel(where)
        else:
            raise ValueError(f"unknown flag {flag}; use --as user@channel or --admin")
    text = rest.removeprefix("/news").strip() if rest.startswith("/news") else rest
    return ConsoleLine(user, channel, text)


async def command_loop(
    commands: Commands, stdin: TextIO, out: TextIO, *, user: UserRef, channel: ChannelRef
) -> int:
    """Answer ``/news …`` lines from ``stdin`` until it ends; returns the number of failed ones.

    Lines are read in a worker thread so alerts keep printing while the loop waits.
    """
    failures = 0
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            return failures
        try:
            parsed = parse_line(line, user, channel)
        except ValueError as exc:
            print(f"! {_clean(str(exc))}", file=out, flush=True)
            failures += 1
            continue
        if parsed is None:
            continue
        reply = await commands.handle(Command(parsed.text, parsed.user, parsed.channel))
        who = f"{parsed.user.user}@{parsed.channel.channel}"
        # What was typed is echoed: pasted text can carry terminal escapes too.
        print(_clean(f"> {who}: /news {parsed.text}"), file=out, flush=True)
        print(render_reply(reply), file=out, flush=True)
        failures += 0 if reply.ok else 1


async def run_console(
    settings: Settings,
    cfg: AppConfig,
    *,
    user: str,
    channel: str | None,
    admin: bool,
    poll: bool,
    stdin: TextIO,
    out: TextIO,
) -> int:
    """The bot on the terminal: commands from ``stdin``; with ``poll``, the schedule runs too
    and alerts print as they come."""
    from bot.app import open_bot

    bot = await open_bot(settings, cfg, out=out, platforms=["console"])
    try:
        if poll:
            await bot.start_schedule()
        where = console_channel(channel or bot.cfg.delivery.console_channel)
        who = UserRef(PLATFORM, WORKSPACE, user, user, is_admin=admin)
        return await command_loop(bot.commands, stdin, out, user=who, channel=where)
    finally:
        await bot.close()
