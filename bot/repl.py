"""`newsbot console`: the bot on a terminal. `/news …` lines come in on standard input, as a
given user in a given channel; replies (and, with ``--poll``, alerts) go out on standard output
through the console adapter's renderers."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TextIO, cast

from bot.adapters.console import PLATFORM, WORKSPACE, clean, console_channel, render_reply
from bot.app import open_bot
from bot.config import AppConfig
from bot.core.chat import CommandHandler
from bot.core.models import ChannelRef, Command, UserRef
from bot.settings import Settings


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
            user = replace(user, is_admin=True, is_owner=True)  # the operator at the terminal
        elif flag == "--as":
            who, _, rest = rest.partition(" ")
            name, _, where = who.partition("@")
            if not name:
                raise ValueError("--as needs user@channel, e.g. --as asha@newsroom")
            user = UserRef(PLATFORM, WORKSPACE, name, name, is_admin=user.is_admin,
                           is_owner=user.is_owner)  # fmt: skip
            if where:
                channel = console_channel(where)
        else:
            raise ValueError(f"unknown flag {flag}; use --as user@channel or --admin")
    text = rest.removeprefix("/news").strip() if rest.startswith("/news") else rest
    return ConsoleLine(user, channel, text)


PROMPT = "news> "
BANNER = "newsbot console ready: type /news help (Ctrl-D or Ctrl-C quits)"


class PromptedStream(io.TextIOBase):
    """Where alerts print in a prompted session. An alert arriving while ``news> `` waits for
    a line starts on a line of its own, and the prompt is shown again after it, so the screen
    always ends with the prompt when the console is ready."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.waiting = False  # the prompt is the last thing on the screen
        self._broke = False  # an alert has started since the prompt was shown

    def prompt(self) -> None:
        self.out.write(PROMPT)
        self.out.flush()
        self.waiting, self._broke = True, False

    def write(self, text: str) -> int:
        if self.waiting and not self._broke and text:
            self.out.write("\n")
            self._broke = True
        return self.out.write(text)

    def flush(self) -> None:
        self.out.flush()
        if self.waiting and self._broke:
            self.prompt()

    def isatty(self) -> bool:
        return self.out.isatty()


async def _lines(stdin: TextIO) -> AsyncIterator[str]:
    """Lines of ``stdin`` as they are typed, read by a daemon thread: alerts keep printing
    while it waits, and Ctrl-C does not have to wait for a line to end."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def read() -> None:
        while True:
            line = stdin.readline()
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:
                return

    threading.Thread(target=read, name="console-stdin", daemon=True).start()
    while line := await queue.get():
        yield line


async def command_loop(
    commands: CommandHandler,
    stdin: TextIO,
    out: TextIO,
    *,
    user: UserRef,
    channel: ChannelRef,
    prompt: bool = False,
    alerts: PromptedStream | None = None,
) -> int:
    """Answer ``/news …`` lines from ``stdin`` until it ends; returns the number of failed ones.

    With ``prompt`` (a terminal), a ready line first and ``news> `` whenever input is awaited;
    ``alerts`` is the stream the alerts print to, told when the prompt waits.
    """
    failures = 0
    shown = alerts or PromptedStream(out)
    if prompt:
        print(BANNER, file=out, flush=True)
        shown.prompt()
    async for line in _lines(stdin):
        shown.waiting = False
        try:
            parsed = parse_line(line, user, channel)
        except ValueError as exc:
            print(f"! {clean(str(exc))}", file=out, flush=True)
            failures += 1
            parsed = None
        if parsed is not None:
            reply = await commands.handle(Command(parsed.text, parsed.user, parsed.channel))
            who = f"{parsed.user.user}@{parsed.channel.channel}"
            if not prompt:
                # What was typed is echoed (a terminal shows it already); pasted text can
                # carry terminal escapes too.
                print(clean(f"> {who}: /news {parsed.text}"), file=out, flush=True)
            print(render_reply(reply), file=out, flush=True)
            failures += 0 if reply.ok else 1
        if prompt:
            shown.prompt()
    if prompt:
        print(file=out, flush=True)
    return failures


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
    prompt: bool = False,
) -> int:
    """The bot on the terminal: commands from ``stdin``; with ``poll``, the schedule runs too
    and alerts print as they come."""
    alerts = PromptedStream(out) if prompt else None
    # The stream is a text stream in all but name (io.TextIOBase, not typing.TextIO).
    bot = await open_bot(settings, cfg, out=cast(TextIO, alerts or out), platforms=["console"])
    try:
        if poll:
            await bot.start_schedule()
        where = console_channel(channel or bot.cfg.delivery.console_channel)
        who = UserRef(PLATFORM, WORKSPACE, user, user, is_admin=admin, is_owner=admin)
        return await command_loop(
            bot.commands, stdin, out, user=who, channel=where, prompt=prompt, alerts=alerts
        )
    finally:
        await bot.close()
