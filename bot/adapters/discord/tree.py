"""The `/news` command tree for Discord, built from the core's command specs.

Discord nests two levels below a root command and types every option, so each core command
becomes one subcommand whose options are its args; the values a user picks go back to the core
as the `/news …` text it parses (``command_text``).
"""

from __future__ import annotations

import inspect
import keyword
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.embeds import clip
from bot.core.commands.grammar import ArgSpec, CommandSpec

logger = logging.getLogger(__name__)

ROOT_COMMAND = "news"
# Discord allows 25 subcommands (or groups) per level and 25 choices / autocomplete results.
MAX_CHILDREN = 25
MAX_CHOICES = 25
DESCRIPTION_MAX = 100
# Option kinds the core can complete from its database.
COMPLETED_KINDS = frozenset({"topic", "source", "story", "item"})
ARG_DESCRIPTIONS = {
    "topic": "topic id (start typing for suggestions)",
    "source": "outlet name or story id",
    "story": "story id, shown in each alert's footer",
    "item": "item id or story id",
    "int": "a whole number",
    "duration": "e.g. 24h, 15m",
    "time": "HH:MM",
    "tz": "time zone, e.g. Asia/Kolkata",
    "url": "a full https:// address",
    "words": "one or more words",
}


@dataclass(frozen=True, slots=True)
class CommandPath:
    """Where a core command sits under `/news`: an optional group and the leaf's name."""

    group: str | None
    leaf: str


def command_paths(specs: Sequence[CommandSpec]) -> dict[CommandSpec, CommandPath]:
    """Map the core's command names onto Discord's two levels below `/news`.

    Discord nests at most ``/news group sub``: "digest daily" stays as it is, "admin feeds add"
    becomes ``/news admin feeds-add``; a leaf that shares its name with a group ("quiet" next to
    "quiet off") becomes that group's ``set``.
    """
    groups = {s.name.split()[0] for s in specs if len(s.name.split()) > 1}
    paths: dict[CommandSpec, CommandPath] = {}
    for spec in specs:
        words = spec.name.split()
        if len(words) == 1:
            paths[spec] = (
                CommandPath(words[0], "set") if words[0] in groups else CommandPath(None, words[0])
            )
        else:
            paths[spec] = CommandPath(words[0], "-".join(words[1:]))
    return paths


def _identifier(name: str) -> str:
    ident = re.sub(r"\W", "_", name)
    return ident + "_" if keyword.iskeyword(ident) or not ident.isidentifier() else ident


def _is_flag(arg: ArgSpec) -> bool:
    """A choice with one value spelt like an option (``--dry-run``) is a true/false switch."""
    return arg.kind == "choice" and len(arg.choices) == 1 and arg.choices[0].startswith("--")


def _annotation(arg: ArgSpec) -> type:
    if _is_flag(arg):
        return bool
    if arg.kind == "int" and not arg.repeat:
        return int
    return str


def _quote(value: str) -> str:
    """Quote a value for the core's shell-like tokenizer when it holds spaces or quotes."""
    if value and not re.search(r"[\s'\"\\]", value):
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def command_text(spec: CommandSpec, values: dict[str, Any]) -> str:
    """The `/news …` text the core parses, from a slash command's option values by arg name."""
    parts = [spec.name]
    for arg in spec.args:
        value = values.get(arg.name)
        if value is None or value == "":
            continue
        if _is_flag(arg):
            if value is True:
                parts.append(arg.choices[0])
        elif arg.repeat:
            parts.extend(_quote(v) for v in re.split(r"[\s,]+", str(value).strip()) if v)
        else:
            parts.append(_quote(str(value)))
    return " ".join(parts)


Invoke = Callable[[discord.Interaction, CommandSpec, dict[str, Any]], Awaitable[None]]
Complete = Callable[[discord.Interaction, ArgSpec, str], Awaitable[list[app_commands.Choice[str]]]]


def _leaf(
    spec: CommandSpec, name: str, parent: app_commands.Group, invoke: Invoke, complete: Complete
) -> app_commands.Command[Any, ..., None]:
    """One slash subcommand whose typed options are the spec's args."""
    idents = {arg.name: _identifier(arg.name) for arg in spec.args}
    by_ident = {v: k for k, v in idents.items()}

    async def callback(interaction: discord.Interaction, **kwargs: Any) -> None:
        await invoke(interaction, spec, {by_ident[k]: v for k, v in kwargs.items()})

    # discord.py reads options from the callback's signature; the core's spec is the source.
    params = [inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                                annotation=discord.Interaction)]  # fmt: skip
    for arg in spec.args:
        required = arg.required and not _is_flag(arg)
        params.append(
            inspect.Parameter(
                idents[arg.name],
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(arg),
                default=inspect.Parameter.empty if required else None,
            )
        )
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    described = app_commands.describe(**{idents[a.name]: _describe(a) for a in spec.args})
    renamed = app_commands.rename(**{idents[a.name]: a.name for a in spec.args})
    fn: Any = renamed(described(callback))
    choices = {
        idents[a.name]: [app_commands.Choice(name=c, value=c) for c in a.choices[:MAX_CHOICES]]
        for a in spec.args
        if a.kind == "choice" and not _is_flag(a) and a.choices
    }
    if choices:
        fn = app_commands.choices(**choices)(fn)
    completers = {
        idents[a.name]: _completer(a, complete)
        for a in spec.args
        if a.kind in COMPLETED_KINDS or a.kind == "tz"
    }
    if completers:
        fn = app_commands.autocomplete(**completers)(fn)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=name,
        description=clip(spec.summary, DESCRIPTION_MAX) or spec.name,
        callback=fn,
        parent=parent,
    )
    parent.add_command(command)
    return command


def _describe(arg: ArgSpec) -> str:
    if _is_flag(arg):
        return "only show what would change"
    text = ARG_DESCRIPTIONS.get(arg.kind) or arg.name.replace("-", " ")
    if arg.repeat and arg.kind != "words":
        text += "; several separated by spaces"
    return clip(text, DESCRIPTION_MAX)


def _completer(
    arg: ArgSpec, complete: Complete
) -> Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]:
    async def autocomplete(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await complete(interaction, arg, current)

    return autocomplete


def build_news_group(
    specs: Sequence[CommandSpec], invoke: Invoke, complete: Complete
) -> app_commands.Group:
    """The `/news` group with one subcommand (or subgroup) per core command."""
    news = app_commands.Group(
        name=ROOT_COMMAND, description="Follow US–India defence news here", guild_only=True
    )
    subgroups: dict[str, app_commands.Group] = {}
    paths = command_paths(specs)
    for spec, path in paths.items():
        parent = news
        if path.group is not None:
            if path.group not in subgroups:
                if len(news.commands) >= MAX_CHILDREN:
                    logger.error("`/news %s` left out: Discord allows 25 subcommands", spec.name)
                    continue
                subgroups[path.group] = app_commands.Group(
                    name=path.group,
                    description=clip(_group_description(path.group, paths), DESCRIPTION_MAX),
                    parent=news,
                )
            parent = subgroups[path.group]
        if len(parent.commands) >= MAX_CHILDREN:
            logger.error("`/news %s` left out: Discord allows 25 subcommands", spec.name)
            continue
        _leaf(spec, path.leaf, parent, invoke, complete)
    return news


def _group_description(group: str, paths: dict[CommandSpec, CommandPath]) -> str:
    if group == "admin":
        return "Admin commands (Manage Server or an admin role)"
    leaves = [p.leaf for p in paths.values() if p.group == group]
    return f"{group.capitalize()}: {', '.join(leaves)}"
