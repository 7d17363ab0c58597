"""Discord's inbound side: slash commands, autocomplete and button clicks, to the core's
``CommandHandler`` and its ``Reply`` back as an interaction response.

Who is an admin is decided here, as the platform knows it: Manage Server or Administrator, an
admin role from the config, or a listed user; only a listed user is an owner (bot-wide settings).
"""

from __future__ import annotations

import asyncio
import logging
import re
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord.embeds import (
    CONTENT_MAX,
    NO_MENTIONS,
    clip,
    render_reply,
    reply_files,
)
from bot.adapters.discord.tree import MAX_CHOICES, command_text
from bot.core.chat import HANDLER_FAILED, CommandHandler
from bot.core.commands.grammar import ArgSpec, CommandSpec
from bot.core.models import ChannelRef, ChatSetup, Command, Reply, UserRef

logger = logging.getLogger(__name__)

PLATFORM = "discord"


class DiscordInbound:
    """Interactions in, the core's replies out (at once, or deferred when the core is slow)."""

    def __init__(
        self,
        commands: CommandHandler,
        setup: ChatSetup,
        topic_names: dict[str, str],
        *,
        defer_after: float,
    ) -> None:
        self.commands = commands
        self.setup = setup
        self.topic_names = topic_names
        # Discord wants an answer within 3 s; slower commands are deferred ("thinking…").
        self.defer_after = defer_after

    def user_ref(self, interaction: discord.Interaction) -> UserRef:
        user = interaction.user
        return UserRef(
            platform=PLATFORM,
            workspace=str(interaction.guild_id or ""),
            user=str(user.id),
            name=user.name,
            is_admin=self.is_admin(interaction),
            is_owner=self.is_owner(interaction),
        )

    def is_owner(self, interaction: discord.Interaction) -> bool:
        """A configured user only: a server's Manage Server would otherwise change the feeds
        and topics every other server sees."""
        user = interaction.user
        owners = set(self.setup.discord_owners)
        return str(user.id) in owners or user.name in owners

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """Manage Server (or Administrator), an admin role from the config, or a listed user:
        may manage this server's channels."""
        perms = interaction.permissions
        if perms.manage_guild or perms.administrator:
            return True
        user = interaction.user
        admin_users = set(self.setup.discord_owners)
        if str(user.id) in admin_users or user.name in admin_users:
            return True
        admin_roles = set(self.setup.discord_owner_roles)
        roles = getattr(user, "roles", [])
        return any(r.name in admin_roles or str(r.id) in admin_roles for r in roles)

    @staticmethod
    def channel_ref(interaction: discord.Interaction) -> ChannelRef:
        channel = interaction.channel
        return ChannelRef(
            platform=PLATFORM,
            workspace=str(interaction.guild_id or ""),
            channel=str(interaction.channel_id or ""),
            name=getattr(channel, "name", None) or "",
        )

    async def invoke(
        self, interaction: discord.Interaction, spec: CommandSpec, values: dict[str, Any]
    ) -> None:
        cmd = Command(
            text=command_text(spec, values),
            user=self.user_ref(interaction),
            channel=self.channel_ref(interaction),
        )
        await self._answer(interaction, self.commands.handle(cmd))

    async def on_why(self, interaction: discord.Interaction, story_key: str) -> None:
        cmd = Command(
            text=f"why {story_key}",
            user=self.user_ref(interaction),
            channel=self.channel_ref(interaction),
        )
        await self._answer(interaction, self.commands.handle(cmd), force_ephemeral=True)

    async def on_not_relevant(self, interaction: discord.Interaction, story_key: str) -> None:
        work = self.commands.feedback(
            story_key, self.user_ref(interaction), self.channel_ref(interaction)
        )
        await self._answer(interaction, work, force_ephemeral=True)

    async def _answer(
        self,
        interaction: discord.Interaction,
        work: Awaitable[Reply],
        *,
        force_ephemeral: bool = False,
    ) -> None:
        """Run the core's work; answer at once, or defer when it takes longer than Discord waits."""
        task = asyncio.ensure_future(_safely(work))
        deferred = False
        try:
            await asyncio.wait_for(asyncio.shield(task), self.defer_after)
        except TimeoutError:
            await interaction.response.defer(ephemeral=True, thinking=True)
            deferred = True
        reply = await task
        rendered = render_reply(reply, self.topic_names)
        ephemeral = rendered.ephemeral or force_ephemeral
        if not deferred:
            await _send_with_files(interaction.response.send_message, reply, rendered.content,
                                   None, embeds=rendered.embeds, ephemeral=ephemeral)  # fmt: skip
            return
        if not ephemeral:
            # The "thinking…" placeholder was private; a public answer replaces it.
            await interaction.delete_original_response()
        await _send_with_files(interaction.followup.send, reply, rendered.content,
                               discord.utils.MISSING, embeds=rendered.embeds,
                               ephemeral=ephemeral)  # fmt: skip

    async def complete(
        self, interaction: discord.Interaction, arg: ArgSpec, current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggestions for one option; a repeated option completes its last word."""
        words = re.split(r"[\s,]+", current) if arg.repeat else [current]
        head, last = words[:-1], words[-1]
        try:
            if arg.kind == "tz":
                found = _time_zones(last)
            else:
                found = await self.commands.complete(arg.kind, last, self.channel_ref(interaction))
        except Exception:
            logger.exception("Discord: autocomplete for %s failed", arg.kind)
            return []
        out = []
        for value in found[:MAX_CHOICES]:
            full = " ".join([*(w for w in head if w), value])
            if len(full) <= 100:
                out.append(app_commands.Choice(name=full, value=full))
        return out


def _time_zones(prefix: str) -> list[str]:
    prefix = prefix.lower()
    zones = sorted(zoneinfo.available_timezones())
    return [z for z in zones if z.lower().startswith(prefix) or ("/" + prefix) in z.lower()]


async def _send_with_files(
    send: Callable[..., Awaitable[Any]],
    reply: Reply,
    content: str | None,
    empty: Any,
    **kwargs: Any,
) -> None:
    """Send the answer with its files. When Discord refuses the files (too large: 413; a
    form it will not take: 400), the answer still goes out, without them, saying so in one
    line; ``empty`` is what this send takes for no content."""
    files = reply_files(reply)
    try:
        await send(content=content or empty, files=files, allowed_mentions=NO_MENTIONS, **kwargs)
        return
    except discord.HTTPException as exc:
        if not files or exc.status not in (400, 413):
            raise
        names = ", ".join(f.filename or "file" for f in files)
        note = f"(The file {names} could not be attached: Discord refused it, HTTP {exc.status}.)"
    head = clip(content, CONTENT_MAX - len(note) - 1) + "\n" if content else ""
    await send(content=head + note, allowed_mentions=NO_MENTIONS, **kwargs)


async def _safely(work: Awaitable[Reply]) -> Reply:
    # The handler answers its own errors; this guards against it raising (database down).
    try:
        return await work
    except Exception:
        logger.exception("Discord: command failed")
        return HANDLER_FAILED
