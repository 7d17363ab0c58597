"""The Slack adapter: a slack-bolt ``AsyncApp`` for ``/news`` and buttons, and Block Kit alerts.

Inbound: the ``/news`` slash command and the alert buttons, over Socket Mode when an app token
is set (no public URL needed) or over bolt's aiohttp server with signature verification.
Outbound: ``chat.postMessage`` / ``chat.update`` through one ``AsyncWebClient`` whose base URL
comes from the settings, with slack_sdk's retry handlers for connection errors and 429s.

Slack errors become the core's delivery errors: a closed channel ``ChannelUnavailable``, a
rejected token ``AdapterStopped`` (this adapter stops; the bot runs on), the rest
``DeliveryError`` (the outbox retries later). Tokens are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters import slack_blocks as kit
from bot.config import AppConfig
from bot.core.chat import (
    HANDLER_FAILED,
    AdapterStopped,
    ChannelUnavailable,
    CommandHandler,
    DeliveryError,
)
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

PLATFORM = "slack"
EVENTS_PATH = "/slack/events"
ADMIN_CACHE_SECONDS = 600.0
HISTORY_LOOKBACK = 100  # messages searched for an earlier post of the same delivery
RATE_LIMIT_RETRIES = 2  # then the outbox retries later, so one slow channel holds up little
SOCKET_CONNECT_WAIT = 20.0  # seconds start() waits for the websocket before moving on

# The channel is gone or closed to the bot: pausing the subscription is the right answer.
CHANNEL_ERRORS = {
    "channel_not_found": "the channel no longer exists or the bot cannot see it",
    "not_in_channel": "the bot is not a member of the channel (invite it with /invite @newsbot)",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "restricted_action": "the workspace does not let the bot post in the channel",
}
# The token itself is no good: nothing this adapter does can work until someone fixes it.
TOKEN_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "team_disabled",
}
# An edit of a message someone deleted (or that can no longer be edited) has nothing to do.
GONE_MESSAGE_ERRORS = {"message_not_found", "cant_update_message", "edit_window_closed"}


class SlackAdapter:
    """newsbot in one Slack workspace (single-workspace app: one bot token)."""

    platform = PLATFORM

    def __init__(self, settings: Settings, commands: CommandHandler, cfg: AppConfig) -> None:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set; the Slack adapter needs a xoxb- token")
        self.settings = settings
        self.commands = commands
        self.cfg = cfg
        self.client = AsyncWebClient(
            token=settings.slack_bot_token.get_secret_value(),
            base_url=settings.slack_api_url,
            logger=logging.getLogger("slack_sdk.web"),
            retry_handlers=[
                AsyncConnectionErrorRetryHandler(),
                # Sleeps int(Retry-After) + jitter, then sends the same request again.
                AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES),
            ],
        )
        secret = settings.slack_signing_secret
        self.app = AsyncApp(
            client=self.client,
            name="newsbot",
            logger=logging.getLogger("slack_bolt.newsbot"),
            signing_secret=secret.get_secret_value() if secret else "",
        )
        self.app.command("/news")(self._on_news)
        self.app.action(kit.WHY_ACTION)(self._on_why)
        self.app.action(kit.NOT_RELEVANT_ACTION)(self._on_not_relevant)
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
        self._admins: dict[tuple[str, str], tuple[bool, float]] = {}
        self._stopped_reason: str | None = None
        self._tasks: set[asyncio.Future[Any]] = set()
        self._warned_history = False
        self.team_id: str | None = None
        self.bot_user_id: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def socket_mode(self) -> bool:
        return self.settings.slack_app_token is not None

    @property
    def http_port(self) -> int | None:
        """The bound port in HTTP mode (useful when the settings asked for port 0)."""
        if self._runner is None or not self._runner.addresses:
            return None
        return int(self._runner.addresses[0][1])

    async def start(self) -> None:
        """Check the token, then listen: Socket Mode with an app token, else bolt's HTTP server."""
        auth = await self._call(self.client.auth_test)
        self.team_id = str(auth.get("team_id") or "")
        self.bot_user_id = str(auth.get("user_id") or "")
        app_token = self.settings.slack_app_token
        if app_token is not None:
            await self._connect_socket(app_token.get_secret_value())
            return
        if not self.settings.slack_signing_secret:
            raise AdapterStopped(
                "SLACK_SIGNING_SECRET is not set: HTTP mode cannot verify Slack's requests. "
                "Set it (Basic Information → Signing Secret), "
                "or set SLACK_APP_TOKEN for Socket Mode."
            )
        self._runner = web.AppRunner(self.app.web_app(path=EVENTS_PATH), access_log=None)
        await self._runner.setup()
        host, port = self.settings.slack_http_host, self.settings.slack_http_port
        try:
            await web.TCPSite(self._runner, host, port).start()
        except OSError as exc:
            await self.stop()
            raise AdapterStopped(
                f"cannot listen on {host}:{port} ({exc.strerror}); set NEWSBOT_SLACK_HTTP_PORT "
                "to a free port, or set SLACK_APP_TOKEN to use Socket Mode"
            ) from None
        logger.info("Slack adapter listening on http://%s:%s%s (team %s)",
                    host, self.http_port, EVENTS_PATH, self.team_id)  # fmt: skip

    async def _connect_socket(self, app_token: str) -> None:
        # slack_sdk's connect() retries a refused app token forever, so ask for the websocket
        # URL here first: a bad token fails start() at once with a message saying what to fix.
        try:
            opened = await self.client.apps_connections_open(app_token=app_token)
        except SlackApiError as exc:
            error = str(exc.response.get("error") or exc.response.status_code)
            raise AdapterStopped(
                f"Slack refused SLACK_APP_TOKEN for Socket Mode ({error}). It must be an "
                "app-level token (xapp-…) with the connections:write scope, from Basic "
                "Information → App-Level Tokens; or unset it to use HTTP mode."
            ) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"Slack is unreachable ({exc.__class__.__name__})") from None
        self._socket = AsyncSocketModeHandler(self.app, app_token=app_token)
        self._socket.client.wss_uri = str(opened["url"])
        connecting = asyncio.ensure_future(self._socket.connect_async())  # type: ignore[no-untyped-call]
        done, _ = await asyncio.wait({connecting}, timeout=SOCKET_CONNECT_WAIT)
        if not done:
            # The client keeps retrying on its own; the rest of the bot need not wait for it.
            logger.warning("Slack Socket Mode is not connected yet; still trying in the background")
            self._keep(connecting)
            return
        connecting.result()
        logger.info("Slack adapter connected over Socket Mode (team %s)", self.team_id)

    def _keep(self, task: asyncio.Future[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        if self._socket is not None:
            socket, self._socket = self._socket, None
            await socket.close_async()  # type: ignore[no-untyped-call]
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # -- outbound: the ChatAdapter protocol -----------------------------------------------

    async def post(self, channel: ChannelRef, card: StoryCard, *, delivery_id: int) -> MessageRef:
        earlier = await self._find_delivery(channel, delivery_id)
        if earlier is not None:
            logger.info("delivery %s is already in %s as %s; not posting again",
                        delivery_id, channel.channel, earlier)  # fmt: skip
            return MessageRef(channel, earlier)
        resp = await self._call(
            self.client.chat_postMessage,
            channel=channel.channel,
            text=kit.card_text(card),
            blocks=kit.card_blocks(card),
            metadata=kit.story_metadata(card, delivery_id),
            unfurl_links=False,
            unfurl_media=False,
        )
        return MessageRef(channel, str(resp["ts"]))

    async def update(self, ref: MessageRef, card: StoryCard) -> None:
        try:
            await self._call(
                self.client.chat_update,
                channel=ref.channel.channel,
                ts=ref.message_id,
                text=kit.card_text(card),
                blocks=kit.card_blocks(card),
            )
        except _GoneMessage as exc:
            logger.info("story %s: the alert %s in %s is gone (%s); nothing to edit",
                        card.story_key, ref.message_id, ref.channel.channel, exc)  # fmt: skip

    async def reply_in_thread(self, ref: MessageRef, source: SourceLink) -> MessageRef:
        parent = ref.thread_id or ref.message_id
        earlier = await self._find_thread_reply(ref.channel, parent, kit.source_key(source))
        if earlier is not None:
            return MessageRef(ref.channel, earlier, thread_id=parent)
        resp = await self._call(
            self.client.chat_postMessage,
            channel=ref.channel.channel,
            thread_ts=parent,
            text=kit.thread_reply_text(source),
            blocks=kit.thread_reply_blocks(source),
            metadata=kit.thread_reply_metadata(source),
            unfurl_links=False,
            unfurl_media=False,
        )
        return MessageRef(ref.channel, str(resp["ts"]), thread_id=parent)

    async def post_digest(
        self, channel: ChannelRef, title: str, cards: Sequence[StoryCard], *, delivery_id: int
    ) -> MessageRef:
        earlier = await self._find_delivery(channel, delivery_id)
        if earlier is not None:
            return MessageRef(channel, earlier)
        resp = await self._call(
            self.client.chat_postMessage,
            channel=channel.channel,
            text=kit.digest_text(title, cards),
            blocks=kit.digest_blocks(title, cards),
            metadata=kit.digest_metadata(delivery_id, [c.story_id for c in cards]),
            unfurl_links=False,
            unfurl_media=False,
        )
        return MessageRef(channel, str(resp["ts"]))

    async def notify_admins(self, workspace: str, text: str) -> None:
        """Direct-message every known admin: the configured ones and those seen in commands."""
        admins = set(self.cfg.admins.slack_users)
        admins |= {user for (team, user), (ok, _) in self._admins.items()
                   if ok and team == workspace}  # fmt: skip
        if not admins:
            logger.warning("no Slack admin to tell (%s); list user ids under admins.slack_users",
                           text)  # fmt: skip
            return
        for user in sorted(admins):
            try:
                await self._call(self.client.chat_postMessage, channel=user, **kit.admin_note(text))
            except ChannelUnavailable as exc:
                logger.warning("could not message Slack admin %s: %s", user, exc.reason)

    # -- inbound: slash command and buttons -----------------------------------------------

    async def _on_news(self, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        # Slack gives 3 s for the ack; the work (database, maybe network) comes after it.
        await ack()
        team = str(command.get("team_id", ""))
        channel = ChannelRef(PLATFORM, team, str(command.get("channel_id", "")),
                             str(command.get("channel_name", "")))  # fmt: skip
        user = await self._user(team, str(command.get("user_id", "")),
                                str(command.get("user_name", "")))  # fmt: skip
        cmd = Command(text=str(command.get("text", "")), user=user, channel=channel)
        reply = await self._run(lambda: self.commands.handle(cmd), what=f"/news {cmd.text[:40]}")
        await self._respond(respond, reply)

    async def _on_why(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        story_key, user, channel = await self._action_context(body)
        cmd = Command(text=f"why {story_key}", user=user, channel=channel)
        reply = await self._run(lambda: self.commands.handle(cmd), what="the Why this? button")
        await self._respond(respond, reply, force_ephemeral=True)

    async def _on_not_relevant(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        story_key, user, channel = await self._action_context(body)
        reply = await self._run(lambda: self.commands.feedback(story_key, user, channel),
                                what="the Not relevant button")  # fmt: skip
        await self._respond(respond, reply, force_ephemeral=True)

    async def _action_context(self, body: dict[str, Any]) -> tuple[str, UserRef, ChannelRef]:
        actions = body.get("actions") or [{}]
        story_key = str(actions[0].get("value", ""))
        team = str(
            (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        )
        raw_channel = body.get("channel") or {}
        channel = ChannelRef(PLATFORM, team, str(raw_channel.get("id", "")),
                             str(raw_channel.get("name", "")))  # fmt: skip
        raw_user = body.get("user") or {}
        name = str(raw_user.get("username") or raw_user.get("name") or "")
        user = await self._user(team, str(raw_user.get("id", "")), name)
        return story_key, user, channel

    async def _run(self, work: Callable[[], Awaitable[Reply]], *, what: str) -> Reply:
        try:
            return await work()
        except Exception:
            logger.exception("Slack: %s failed", what)
            return HANDLER_FAILED

    async def _respond(
        self, respond: AsyncRespond, reply: Reply, *, force_ephemeral: bool = False
    ) -> None:
        # Errors and personal answers go only to the asker; the rest may be shown to all.
        ephemeral = force_ephemeral or reply.ephemeral or not reply.ok
        try:
            await respond(
                text=kit.reply_text(reply),
                blocks=kit.reply_blocks(reply),
                response_type="ephemeral" if ephemeral else "in_channel",
                replace_original=False,
                unfurl_links=False,
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("Slack: could not answer through response_url: %s",
                           exc.__class__.__name__)  # fmt: skip

    async def _user(self, team: str, user_id: str, name: str) -> UserRef:
        is_admin = user_id in self.cfg.admins.slack_users or await self._workspace_admin(
            team, user_id
        )
        return UserRef(PLATFORM, team, user_id, name=name, is_admin=is_admin)

    async def _workspace_admin(self, team: str, user_id: str) -> bool:
        """Workspace admins and owners, from users.info, cached for ten minutes."""
        key = (team, user_id)
        cached = self._admins.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            resp = await self._call(self.client.users_info, user=user_id)
        except DeliveryError as exc:
            logger.warning("Slack: users.info for %s failed (%s); treating as non-admin",
                           user_id, exc)  # fmt: skip
            return False
        info = resp.get("user") or {}
        is_admin = bool(
            info.get("is_admin") or info.get("is_owner") or info.get("is_primary_owner")
        )
        self._admins[key] = (is_admin, now + ADMIN_CACHE_SECONDS)
        return is_admin

    # -- Web API calls and their errors ---------------------------------------------------

    async def _find_delivery(self, channel: ChannelRef, delivery_id: int) -> str | None:
        """The ts of an earlier post carrying this delivery id, so a retry never posts twice."""
        messages = await self._recent(
            self.client.conversations_history, channel=channel.channel, limit=HISTORY_LOOKBACK
        )
        return _ts_where(messages, "delivery_id", str(delivery_id))

    async def _find_thread_reply(self, channel: ChannelRef, parent: str, source: str) -> str | None:
        """The ts of an earlier reply in this thread for the same report."""
        messages = await self._recent(
            self.client.conversations_replies, channel=channel.channel, ts=parent,
            limit=HISTORY_LOOKBACK,
        )  # fmt: skip
        return _ts_where(messages, "source", source)

    async def _recent(
        self, method: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: Any
    ) -> list[dict[str, Any]]:
        """Recent messages with their metadata; empty when they cannot be read."""
        try:
            resp = await self._call(method, include_all_metadata=True, **kwargs)
        except (ChannelUnavailable, AdapterStopped):
            raise
        except DeliveryError as exc:
            # Without history (missing scope, a hiccup) posting is still better than not.
            if not self._warned_history:
                logger.warning("Slack: cannot read channel history to avoid double posts: %s", exc)
                self._warned_history = True
            return []
        return list(resp.get("messages") or [])

    async def _call(
        self, method: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: Any
    ) -> AsyncSlackResponse:
        """One Web API call with Slack's errors translated into the core's delivery errors."""
        if self._stopped_reason is not None:
            raise AdapterStopped(self._stopped_reason)
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            raise self._translate(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError(f"Slack is unreachable ({exc.__class__.__name__})") from None

    def _translate(self, exc: SlackApiError) -> DeliveryError:
        error = str(exc.response.get("error") or "")
        if error in CHANNEL_ERRORS:
            return ChannelUnavailable(f"{error}: {CHANNEL_ERRORS[error]}")
        if error in TOKEN_ERRORS:
            return self._token_rejected(error)
        if error in GONE_MESSAGE_ERRORS:
            return _GoneMessage(error)
        if exc.response.status_code == 429:
            return DeliveryError("Slack rate limit (HTTP 429) still in force after retries")
        if error == "missing_scope":
            needed = exc.response.get("needed") or "?"
            return DeliveryError(f"missing_scope: the app lacks the {needed} scope; "
                                 "reinstall it from config/slack-manifest.yaml")  # fmt: skip
        return DeliveryError(f"Slack API error {error or exc.response.status_code}")

    def _token_rejected(self, error: str) -> AdapterStopped:
        reason = (
            f"Slack rejected SLACK_BOT_TOKEN ({error}). The Slack adapter has stopped; the rest "
            "of newsbot runs on. Reinstall the app or copy a fresh Bot User OAuth Token into "
            "SLACK_BOT_TOKEN, then restart newsbot."
        )
        if self._stopped_reason is None:
            self._stopped_reason = reason
            logger.error("%s", reason)
            self._keep(asyncio.ensure_future(self.stop()))
        return AdapterStopped(reason)


def _ts_where(messages: list[dict[str, Any]], key: str, value: str) -> str | None:
    """The ts of the first of our messages whose metadata has ``key == value``."""
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") != kit.METADATA_EVENT:
            continue
        if str((metadata.get("event_payload") or {}).get(key, "")) == value:
            return str(message["ts"])
    return None


class _GoneMessage(DeliveryError):
    """The message to edit was deleted or can no longer be edited."""
