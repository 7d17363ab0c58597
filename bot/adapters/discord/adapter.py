"""The Discord adapter: a discord.py client, its lifecycle and the ChatAdapter calls as embeds.

The `/news` tree (``tree``), interactions (``inbound``), buttons (``views``), embeds
(``embeds``) and error translation (``errors``) each have their module.

Intents: only ``guilds`` (not privileged). Slash commands, autocomplete and button clicks
arrive as interactions whatever the intents; ``guilds`` keeps the guild cache (owner, roles)
that admin notices use. No message content, members or presence intent is needed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands

from bot.adapters.discord.embeds import (
    NO_MENTIONS,
    admin_note,
    card_embed,
    digest_embeds,
    thread_reply_content,
)
from bot.adapters.discord.errors import THREAD_EXISTS_CODE, call, gateway_problem, is_code
from bot.adapters.discord.inbound import PLATFORM, DiscordInbound
from bot.adapters.discord.tree import build_news_group
from bot.adapters.discord.views import StoryButton, story_view
from bot.core.chat import AdapterStopped, ChannelUnavailable, CommandHandler, DeliveryError
from bot.core.models import ChannelRef, ChatSetup, MessageRef, SourceLink, StoryCard
from bot.settings import Settings

logger = logging.getLogger(__name__)

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
# A retried alert looks for its earlier post back this far (the outbox's retries end sooner),
# over at most this many of the channel's latest messages.
RETRY_HORIZON = timedelta(days=3)
HISTORY_LIMIT = 500


def invite_url(application_id: int | str) -> str:
    """The OAuth2 install link with the scopes and permissions the bot needs."""
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope=bot+applications.commands"
        f"&permissions={BOT_PERMISSIONS.value}"
    )


# -- the client ----------------------------------------------------------------------------


class NewsClient(discord.Client):
    """discord.Client with the `/news` tree; it holds the inbound side so buttons reach the core."""

    def __init__(self, buttons: DiscordInbound, *, guild_ready_timeout: float) -> None:
        # The bot never joins voice; without this every start warns that PyNaCl/davey are missing.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            intents=BOT_INTENTS,
            # Default for every message, and each send below says it again.
            allowed_mentions=NO_MENTIONS,
            guild_ready_timeout=guild_ready_timeout,
        )
        self.buttons = buttons
        self.tree = app_commands.CommandTree(self)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(StoryButton)

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
        setup: ChatSetup,
        *,
        guild_ready_timeout: float = 2.0,
        ready_timeout: float = 60.0,
        defer_after: float = 2.0,
    ) -> None:
        self.settings = settings
        self.commands = commands
        self.setup = setup
        self.guild_ready_timeout = guild_ready_timeout
        self.ready_timeout = ready_timeout
        self.client: NewsClient | None = None
        self._connection: asyncio.Task[None] | None = None
        self._stopped = False
        self.topic_names = dict(setup.topic_names)
        self._threads: set[str] = set()  # alerts whose thread this process opened or found
        self.inbound = DiscordInbound(commands, setup, self.topic_names, defer_after=defer_after)

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync `/news`, connect to the gateway and wait for READY."""
        token = self.settings.discord_token
        if token is None or not token.get_secret_value().strip():
            raise AdapterStopped("DISCORD_TOKEN is not set; set it to the bot token to use Discord")
        self._point_at_endpoints()
        client = NewsClient(self.inbound, guild_ready_timeout=self.guild_ready_timeout)
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
        group = build_news_group(self.commands.specs(), self.inbound.invoke, self.inbound.complete)
        bad = [g for g in self.setup.discord_guilds if not str(g).strip().isdigit()]
        if bad:
            logger.error(
                "Discord: discord_guilds %s are not server ids; use the numeric id "
                "(right-click the server, Copy Server ID)",
                bad,
            )
        guilds = [discord.Object(id=int(g)) for g in self.setup.discord_guilds if g not in bad]
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
            raise AdapterStopped(gateway_problem(exc)) from None
        logger.warning(
            "Discord: no READY after %.0f s; still trying in the background", self.ready_timeout
        )

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self._stopped:
            return
        exc = task.exception()
        if exc is not None:
            logger.error("Discord adapter stopped: %s", gateway_problem(exc))
            self._stopped = True

    @property
    def connected(self) -> bool:
        """False once the gateway connection ended for good (discord.py's own reconnects for
        a dropped socket are not an end); the bot's connection keeper then starts anew."""
        return self.client is not None and not self._stopped and not self.client.is_closed()

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
        # Beyond Discord's nonce window (minutes) a retry comes hours later: the channel's
        # recent history is read for our earlier post of this story (a channel gets one alert
        # per story, its embed's footer names the story).
        earlier = await self._earlier_alert(target, channel, card.story_key)
        if earlier is not None:
            logger.info("delivery %s is already in %s as %s; not posting again",
                        delivery_id, channel.channel, earlier)  # fmt: skip
            return MessageRef(channel=channel, message_id=earlier)
        # discord.py 2.7 sends enforce_nonce with every nonce: a retried post within Discord's
        # nonce window returns the first message instead of posting twice.
        message = await call(
            target.send(
                embed=card_embed(card, self.topic_names),
                view=story_view(card.story_key),
                allowed_mentions=NO_MENTIONS,
                nonce=str(delivery_id),
            ),
            channel,
        )
        return MessageRef(channel=channel, message_id=str(message.id))

    async def _earlier_alert(
        self, target: discord.PartialMessageable, channel: ChannelRef, story_key: str
    ) -> str | None:
        """Our post of this story in the channel within the retry horizon, if any."""
        footer = f"story {story_key}"
        return await self._earlier_message(
            target, channel, lambda m: any(e.footer.text == footer for e in m.embeds)
        )

    async def _earlier_message(
        self,
        target: discord.PartialMessageable,
        channel: ChannelRef,
        same: Callable[[discord.Message], bool],
    ) -> str | None:
        """Our message in ``target`` within the retry horizon for which ``same`` holds."""
        me = self._client().user
        since = discord.utils.time_snowflake(datetime.now(UTC) - RETRY_HORIZON)
        try:
            async for message in target.history(
                limit=HISTORY_LIMIT, after=discord.Object(since), oldest_first=False
            ):
                if me is not None and message.author.id == me.id and same(message):
                    return str(message.id)
        except (discord.HTTPException, aiohttp.ClientError) as exc:
            # Without history (missing Read Message History) posting beats not posting.
            logger.debug("Discord: history of %s unreadable: %s", channel.channel, exc)
        return None

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        target = self._client().get_partial_messageable(int(ref.channel.channel))
        message = target.get_partial_message(int(ref.message_id))
        await call(
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
        thread = client.get_partial_messageable(int(thread_id))
        content = thread_reply_content(source)
        # A retried follow-up (the outbox retries the whole edit) finds its earlier reply.
        earlier = await self._earlier_message(thread, ref.channel, lambda m: m.content == content)
        if earlier is not None:
            return MessageRef(channel=ref.channel, message_id=earlier, thread_id=thread_id)
        try:
            message = await call(
                thread.send(content=content, allowed_mentions=NO_MENTIONS), ref.channel
            )
        except ChannelUnavailable as exc:
            # The thread is gone (a moderator deleted it); the channel itself may be fine.
            self._threads.discard(thread_id)
            raise DeliveryError(f"the story's thread is unavailable: {exc.reason}") from exc
        return MessageRef(channel=ref.channel, message_id=str(message.id), thread_id=thread_id)

    async def _open_thread(self, client: NewsClient, ref: MessageRef) -> None:
        try:
            await call(
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
            if not is_code(exc.__cause__, THREAD_EXISTS_CODE):
                raise

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        target = self._client().get_partial_messageable(int(channel.channel))
        embeds = digest_embeds(title, cards, self.topic_names)
        # The digest's delivery id, in its last footer: a retry after the nonce window finds it.
        marker = f"digest {delivery_id}"
        shown = embeds[-1].footer.text
        embeds[-1].set_footer(text=f"{shown} · {marker}" if shown else marker)
        earlier = await self._earlier_message(
            target,
            channel,
            lambda m: any((e.footer.text or "").split(" · ")[-1] == marker for e in m.embeds),
        )
        if earlier is not None:
            return MessageRef(channel=channel, message_id=earlier)
        message = await call(
            target.send(embeds=embeds, allowed_mentions=NO_MENTIONS, nonce=str(delivery_id)),
            channel,
        )
        return MessageRef(channel=channel, message_id=str(message.id))

    async def notify_admins(self, workspace: str, text: str) -> None:
        """DM the server owner and the configured admin users; a failure is only logged."""
        client = self._client()
        guild = client.get_guild(int(workspace)) if workspace.isdigit() else None
        ids = {int(u) for u in self.setup.discord_owners if u.isdigit()}
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
