"""The Discord adapter: a discord.py client with the `/news` command tree, embeds and buttons.

Intents: only ``guilds`` (not privileged). Slash commands, autocomplete and button clicks
arrive as interactions whatever the intents; ``guilds`` keeps the guild cache (owner, roles)
that admin notices use. No message content, members or presence intent is needed.
"""

from __future__ import annotations

import asyncio
import inspect
import keyword
import logging
import re
import zoneinfo
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from bot.adapters.discord_embeds import (
    NO_MENTIONS,
    admin_note,
    card_embed,
    clip,
    digest_embeds,
    render_reply,
    thread_reply_content,
)
from bot.config import AppConfig
from bot.core.chat import (
    HANDLER_FAILED,
    AdapterStopped,
    ChannelUnavailable,
    CommandHandler,
    DeliveryError,
)
from bot.core.commands import ArgSpec, CommandSpec
from bot.core.models import (
    ChannelRef,
    Command,
    MessageRef,
    Reply,
    SourceLink,
    StoryCard,
    UserRef,
)
from bot.settings import Settings

logger = logging.getLogger(__name__)

PLATFORM = "discord"
ROOT_COMMAND = "news"
# Discord allows 25 subcommands (or groups) per level and 25 choices / autocomplete results.
MAX_CHILDREN = 25
MAX_CHOICES = 25
DESCRIPTION_MAX = 100
# Option kinds the core can complete from its database.
COMPLETED_KINDS = frozenset({"topic", "source", "story", "item"})
# Discord codes meaning the channel is gone or closed to the bot (not worth retrying).
CHANNEL_GONE_CODES = frozenset({10003, 50001, 50013, 50083})  # unknown, no access, perms, archived
THREAD_EXISTS_CODE = 160004
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

# Permissions the bot needs, and why (see the README's Discord section).
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the channels it is subscribed in
    send_messages=True,  # post alerts and digests
    embed_links=True,  # alerts are embeds
    read_message_history=True,  # work with its earlier alerts (a thread under one)
    create_public_threads=True,  # `follow-ups thread`: a thread under the alert
    send_messages_in_threads=True,  # later reports in that thread
)
# Guild cache only (server owner, role names); nothing privileged.
BOT_INTENTS = discord.Intents(guilds=True)


def invite_url(application_id: int | str) -> str:
    """The OAuth2 install link with the scopes and permissions the bot needs."""
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope=bot+applications.commands"
        f"&permissions={BOT_PERMISSIONS.value}"
    )


# -- the command tree ----------------------------------------------------------------------


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


# -- buttons on alerts ---------------------------------------------------------------------


def _client_adapter(interaction: discord.Interaction) -> DiscordAdapter:
    client = interaction.client
    if not isinstance(client, NewsClient):
        raise RuntimeError("a newsbot button reached a client that is not NewsClient")
    return client.adapter


class WhyButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"newsbot:why:(?P<key>[\w-]+)"
):
    """The "Why this?" button: the matcher's evidence for the story, only to the clicker."""

    def __init__(self, story_key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Why this?",
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:why:{story_key}",
            )
        )
        self.story_key = story_key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> WhyButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client_adapter(interaction).on_why(interaction, self.story_key)


class NotRelevantButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"newsbot:nr:(?P<key>[\w-]+)"
):
    """The "Not relevant" button: stores the reader's verdict for threshold tuning."""

    def __init__(self, story_key: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Not relevant",
                style=discord.ButtonStyle.secondary,
                custom_id=f"newsbot:nr:{story_key}",
            )
        )
        self.story_key = story_key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> NotRelevantButton:
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _client_adapter(interaction).on_not_relevant(interaction, self.story_key)


def story_view(story_key: str) -> discord.ui.View:
    """The two buttons under an alert; dispatched by custom_id, so they outlive restarts."""
    view = discord.ui.View(timeout=None)
    view.add_item(WhyButton(story_key))
    view.add_item(NotRelevantButton(story_key))
    return view


# -- the client ----------------------------------------------------------------------------


class NewsClient(discord.Client):
    """discord.Client with the `/news` tree; it knows its adapter so buttons can reach the core."""

    def __init__(self, adapter: DiscordAdapter, *, guild_ready_timeout: float) -> None:
        # The bot never joins voice; without this every start warns that PyNaCl/davey are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=BOT_INTENTS,
            # Default for every message, and each send below says it again.
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.adapter = adapter
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(WhyButton, NotRelevantButton)

    async def on_ready(self) -> None:
        logger.info("Discord: connected as %s in %d servers", self.user, len(self.guilds))

    async def on_resumed(self) -> None:
        logger.info("Discord: gateway session resumed")


class DiscordAdapter:
    """The `ChatAdapter` for Discord: slash commands in, embeds out."""

    platform = PLATFORM

    def __init__(
        self,
        settings: Settings,
        commands: CommandHandler,
        cfg: AppConfig,
        *,
        guild_ready_timeout: float = 2.0,
        ready_timeout: float = 60.0,
        defer_after: float = 2.0,
    ) -> None:
        self.settings = settings
        self.commands = commands
        self.cfg = cfg
        self.guild_ready_timeout = guild_ready_timeout
        self.ready_timeout = ready_timeout
        # Discord wants an answer within 3 s; slower commands are deferred ("thinking…").
        self.defer_after = defer_after
        self.client: NewsClient | None = None
        self._connection: asyncio.Task[None] | None = None
        self._stopped = False
        self.topic_names = {t.id: t.name for t in cfg.topics}
        self._threads: set[str] = set()  # alerts whose thread this process opened or found

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync `/news`, connect to the gateway and wait for READY."""
        token = self.settings.discord_token
        if token is None or not token.get_secret_value().strip():
            raise AdapterStopped("DISCORD_TOKEN is not set; set it to the bot token to use Discord")
        self._point_at_endpoints()
        client = NewsClient(self, guild_ready_timeout=self.guild_ready_timeout)
        self.client = client
        try:
            await client.login(token.get_secret_value().strip())
        except discord.LoginFailure:
            await client.close()
            raise AdapterStopped(
                "Discord rejected DISCORD_TOKEN; copy the bot token again from the Developer Portal"
            ) from None
        except (aiohttp.ClientError, OSError, discord.HTTPException) as exc:
            await client.close()
            raise AdapterStopped(f"cannot reach Discord's API ({exc.__class__.__name__})") from None
        await self._sync_commands(client)
        self._connection = asyncio.create_task(
            client.connect(reconnect=True), name="discord-gateway"
        )
        self._connection.add_done_callback(self._connection_ended)
        await self._wait_ready(client)

    def _point_at_endpoints(self) -> None:
        # discord.py keeps both endpoints as class attributes; setting them here (not only in
        # tests) lets staging point the bot at a proxy or a fake Discord.
        if self.settings.discord_api_url:
            discord.http.Route.BASE = self.settings.discord_api_url.rstrip("/")
        if self.settings.discord_gateway_url:
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
                self.settings.discord_gateway_url
            )

    async def _sync_commands(self, client: NewsClient) -> None:
        """Register `/news` globally, or in the configured servers (instant there)."""
        tree = client.tree
        group = build_news_group(self.commands.specs(), self._invoke, self._complete)
        bad = [g for g in self.cfg.discord_guilds if not str(g).strip().isdigit()]
        if bad:
            logger.error(
                "Discord: discord_guilds %s are not server ids; use the numeric id "
                "(right-click the server, Copy Server ID)",
                bad,
            )
        guilds = [discord.Object(id=int(g)) for g in self.cfg.discord_guilds if g not in bad]
        if guilds:
            tree.add_command(group, guilds=guilds)
        else:
            tree.add_command(group)
        targets: list[discord.Object | None] = list(guilds) or [None]
        for guild in targets:
            where = f"server {guild.id}" if guild else "all servers (global)"
            try:
                synced = await tree.sync(guild=guild)
            except discord.Forbidden:
                logger.error(
                    "Discord: cannot register /news in %s; re-invite the bot with "
                    "the applications.commands scope (README, Discord section)",
                    where,
                )
            except discord.HTTPException as exc:
                # Alerts still work without the commands; say why registration failed.
                logger.error(
                    "Discord: registering /news in %s failed: %s %s", where, exc.status, exc.text
                )
            else:
                logger.info("Discord: /news registered in %s (%d command)", where, len(synced))

    async def _wait_ready(self, client: NewsClient) -> None:
        assert self._connection is not None
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._connection},
            timeout=self.ready_timeout,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done:
            return
        ready.cancel()
        if self._connection in done:
            exc = self._connection.exception()
            await self.stop()
            raise AdapterStopped(_gateway_problem(exc)) from None
        logger.warning(
            "Discord: no READY after %.0f s; still trying in the background", self.ready_timeout
        )

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stopped:
            return
        exc = task.exception()
        if exc is not None:
            logger.error("Discord adapter stopped: %s", _gateway_problem(exc))
            self._stopped = True

    async def stop(self) -> None:
        self._stopped = True
        if self.client is not None:
            await self.client.close()
        if self._connection is not None:
            try:
                await asyncio.wait_for(self._connection, 10)
            except (TimeoutError, asyncio.CancelledError, Exception):
                logger.debug("Discord: gateway task ended with an error on stop", exc_info=True)
            self._connection = None

    def _client(self) -> NewsClient:
        if self.client is None or self._stopped:
            raise AdapterStopped("the Discord adapter is not running")
        return self.client

    # -- delivery ----------------------------------------------------------------------------

    async def post(self, channel: ChannelRef, card: StoryCard, *, delivery_id: int) -> MessageRef:
        target = self._client().get_partial_messageable(int(channel.channel))
        # discord.py 2.7 sends enforce_nonce with every nonce: a retried post within Discord's
        # nonce window returns the first message instead of posting twice.
        message = await _call(
            target.send(
                embed=card_embed(card, self.topic_names),
                view=story_view(card.story_key),
                allowed_mentions=NO_MENTIONS,
                nonce=str(delivery_id),
            ),
            channel,
        )
        return MessageRef(channel=channel, message_id=str(message.id))

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        target = self._client().get_partial_messageable(int(ref.channel.channel))
        message = target.get_partial_message(int(ref.message_id))
        await _call(
            message.edit(
                embed=card_embed(card, self.topic_names),
                view=story_view(card.story_key),
                allowed_mentions=NO_MENTIONS,
            ),
            ref.channel,
        )

    async def reply_in_thread(self, ref: MessageRef, source: SourceLink) -> MessageRef:
        client = self._client()
        # A thread started from a message has the message's id, so a thread_id equal to the
        # message id (what the outbox records by default) does not prove the thread exists.
        thread_id = ref.thread_id or ref.message_id
        if thread_id == ref.message_id and thread_id not in self._threads:
            await self._open_thread(client, ref)
            self._threads.add(thread_id)
        try:
            message = await _call(
                client.get_partial_messageable(int(thread_id)).send(
                    content=thread_reply_content(source), allowed_mentions=NO_MENTIONS
                ),
                ref.channel,
            )
        except ChannelUnavailable as exc:
            # The thread is gone (a moderator deleted it); the channel itself may be fine.
            self._threads.discard(thread_id)
            raise DeliveryError(f"the story's thread is unavailable: {exc.reason}") from exc
        return MessageRef(channel=ref.channel, message_id=str(message.id), thread_id=thread_id)

    async def _open_thread(self, client: NewsClient, ref: MessageRef) -> None:
        try:
            await _call(
                client.http.start_thread_with_message(
                    int(ref.channel.channel),
                    int(ref.message_id),
                    name="Later reports",
                    auto_archive_duration=10080,  # a week: stories keep growing for days
                ),
                ref.channel,
            )
        except DeliveryError as exc:
            # Opened before (by us before a restart, or by a reader): use that thread.
            if not _is_code(exc.__cause__, THREAD_EXISTS_CODE):
                raise

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        target = self._client().get_partial_messageable(int(channel.channel))
        message = await _call(
            target.send(
                embeds=digest_embeds(title, cards, self.topic_names),
                allowed_mentions=NO_MENTIONS,
                nonce=str(delivery_id),
            ),
            channel,
        )
        return MessageRef(channel=channel, message_id=str(message.id))

    async def notify_admins(self, workspace: str, text: str) -> None:
        """DM the server owner and the configured admin users; a failure is only logged."""
        client = self._client()
        guild = client.get_guild(int(workspace)) if workspace.isdigit() else None
        ids = {int(u) for u in self.cfg.admins.discord_users if u.isdigit()}
        if guild is not None and guild.owner_id:
            ids.add(guild.owner_id)
        where = guild.name if guild is not None else workspace
        body = admin_note(where, text)
        if not ids:
            logger.warning("Discord: no admin to tell in server %s: %s", workspace, text)
        for user_id in sorted(ids):
            try:
                dm = await client.create_dm(discord.Object(id=user_id))
                await dm.send(content=body, allowed_mentions=NO_MENTIONS)
            except (discord.HTTPException, aiohttp.ClientError, OSError) as exc:
                logger.warning("Discord: could not DM admin %s: %s", user_id, exc)

    # -- commands ----------------------------------------------------------------------------

    def user_ref(self, interaction: discord.Interaction) -> UserRef:
        user = interaction.user
        return UserRef(
            platform=PLATFORM,
            workspace=str(interaction.guild_id or ""),
            user=str(user.id),
            name=user.name,
            is_admin=self.is_admin(interaction),
        )

    def is_admin(self, interaction: discord.Interaction) -> bool:
        """Manage Server (or Administrator), an admin role from the config, or a listed user."""
        perms = interaction.permissions
        if perms.manage_guild or perms.administrator:
            return True
        user = interaction.user
        admin_users = set(self.cfg.admins.discord_users)
        if str(user.id) in admin_users or user.name in admin_users:
            return True
        admin_roles = set(self.cfg.admins.discord_roles)
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

    async def _invoke(
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
            await interaction.response.send_message(
                content=rendered.content,
                embeds=rendered.embeds,
                ephemeral=ephemeral,
                allowed_mentions=NO_MENTIONS,
            )
            return
        if not ephemeral:
            # The "thinking…" placeholder was private; a public answer replaces it.
            await interaction.delete_original_response()
        await interaction.followup.send(
            content=rendered.content or discord.utils.MISSING,
            embeds=rendered.embeds,
            ephemeral=ephemeral,
            allowed_mentions=NO_MENTIONS,
        )

    async def _complete(
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


async def _safely(work: Awaitable[Reply]) -> Reply:
    try:
        return await work
    except Exception:
        logger.exception("Discord: command failed")
        return HANDLER_FAILED


def _is_code(exc: BaseException | None, code: int) -> bool:
    return isinstance(exc, discord.HTTPException) and exc.code == code


async def _call(work: Awaitable[Any], channel: ChannelRef) -> Any:
    """Run a discord.py call; turn its failures into the delivery errors the core acts on."""
    try:
        return await work
    except discord.Forbidden as exc:
        raise ChannelUnavailable(
            f"missing permission in channel {channel.name or channel.channel} "
            f"({exc.text or exc.status}); give the bot View Channel, Send Messages and Embed Links"
        ) from exc
    except discord.NotFound as exc:
        if exc.code == 10008:  # unknown message: the alert was deleted, the channel is fine
            raise DeliveryError("the posted message was deleted") from exc
        raise ChannelUnavailable(
            f"channel {channel.name or channel.channel} not found; it was deleted or the bot "
            "was removed"
        ) from exc
    except discord.RateLimited as exc:
        raise DeliveryError(f"rate limited for {exc.retry_after:.0f} s") from exc
    except discord.HTTPException as exc:
        if exc.status == 401:
            raise AdapterStopped("Discord rejected the bot token (401)") from exc
        if exc.code in CHANNEL_GONE_CODES:
            raise ChannelUnavailable(f"channel unavailable: {exc.text}") from exc
        raise DeliveryError(f"Discord error {exc.status}: {exc.text}") from exc
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        raise DeliveryError(f"cannot reach Discord ({exc.__class__.__name__})") from exc


def _gateway_problem(exc: BaseException | None) -> str:
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused a privileged intent; this bot asks for none, so update it"
    if isinstance(exc, discord.LoginFailure) or (
        isinstance(exc, discord.ConnectionClosed) and exc.code == 4004
    ):
        return "Discord rejected DISCORD_TOKEN; copy the bot token again from the Developer Portal"
    return f"the Discord gateway connection ended ({exc.__class__.__name__ if exc else 'no error'})"
