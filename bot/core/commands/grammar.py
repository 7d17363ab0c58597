"""The command grammar: argument and command specs, a parsed call, the tokenizer.

Adapters import this module (and nothing else of the commands) to build their platform's
command tree from the specs.
"""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.core.models import ChannelRef, Reply, UserRef

DRY_RUN = "--dry-run"


@dataclass(frozen=True)
class ArgSpec:
    """One argument of a command.

    ``kind`` is one of: topic, source, story, item, text, int, choice, duration, time, tz, url,
    words. ``repeat`` takes one or more values; a final ``text`` argument takes the rest of the
    line. A ``choice`` lists its values in ``choices``.
    """

    name: str
    kind: str
    required: bool = True
    repeat: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    """A leaf of the command tree: ``name`` is the words after ``/news`` (``"admin feeds add"``)."""

    name: str
    usage: str
    summary: str
    admin: bool
    args: tuple[ArgSpec, ...]


@dataclass(frozen=True)
class Call:
    """A parsed command: its spec, the asker, and the bound arguments."""

    spec: CommandSpec
    user: UserRef
    channel: ChannelRef
    args: dict[str, object] = field(default_factory=dict)
    dry_run: bool = False

    def text(self, name: str, default: str = "") -> str:
        value = self.args.get(name, default)
        return value if isinstance(value, str) else default

    def words(self, name: str) -> list[str]:
        value = self.args.get(name, [])
        return [str(v) for v in value] if isinstance(value, list) else []

    def number(self, name: str, default: int) -> int:
        value = self.args.get(name, default)
        return value if isinstance(value, int) else default


def _a(
    name: str, kind: str, required: bool = True, repeat: bool = False, choices: tuple[str, ...] = ()
) -> ArgSpec:
    return ArgSpec(name, kind, required, repeat, choices)


Handler = Callable[[Call], Awaitable[Reply]]
_Fn = TypeVar("_Fn", bound=Callable[..., Awaitable[Reply]])
_SPECS_ATTR = "_news_specs"


def command(
    name: str, usage: str, summary: str, *args: ArgSpec, admin: bool = False
) -> Callable[[_Fn], _Fn]:
    """Declare a handler method together with its command's spec.

    A method may carry several (``digest daily``/``weekly``/``off`` share one handler); the
    decorated function itself is returned unchanged.
    """
    spec = CommandSpec(name, usage, summary, admin, args)

    def mark(fn: _Fn) -> _Fn:
        # Stacked decorators apply bottom-up; prepend so the listing reads top-down.
        setattr(fn, _SPECS_ATTR, (spec, *getattr(fn, _SPECS_ATTR, ())))
        return fn

    return mark


def declared(cls: type[Any]) -> tuple[tuple[CommandSpec, str], ...]:
    """Every (spec, method name) declared on ``cls`` and its bases, in MRO then source order.

    A command name declared twice is a programming error, caught when the class is read.
    """
    out: list[tuple[CommandSpec, str]] = []
    seen: set[str] = set()
    for klass in cls.__mro__:
        for attr, member in vars(klass).items():
            for spec in getattr(member, _SPECS_ATTR, ()):
                if spec.name in seen:
                    raise TypeError(f"command `{spec.name}` is declared twice")
                seen.add(spec.name)
                out.append((spec, attr))
    return tuple(out)


def error_reply(spec: CommandSpec | None, problem: str) -> Reply:
    usage = f"\nUsage: `/news {spec.usage}`" if spec else "\nTry `/news help`."
    return Reply(text=f"{problem}{usage}", ok=False, ephemeral=True)


def tokenize(text: str) -> list[str]:
    """Split like a shell (quotes group words); an unbalanced quote falls back to spaces."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()
