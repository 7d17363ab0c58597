"""The Slack adapter: a slack-bolt ``AsyncApp`` and the ChatAdapter calls, as Block Kit.

Inbound events (``inbound``) arrive over Socket Mode when an app token is set (no public URL
needed) or over bolt's aiohttp server with signature verification. Outbound:
``chat.postMessage`` / ``chat.update`` through one ``AsyncWebClient`` whose base URL comes from
the settings, with slack_sdk's retry handlers for connection errors and 429s; every call's
errors become the core's delivery errors (``errors``). Tokens are ``SecretStr`` and never logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack import blocks as kit
from bot.adapters.slack.errors import GoneMessage, request_refused, translate, unreachable
from bot.adapters.slack.inbound import PLATFORM, SlackInbound
from bot.core.chat import AdapterStopped, ChannelUnavailable, CommandHandler, DeliveryError
from bot.core.models import ChannelRef, ChatSetup, MessageRef, SourceLink, StoryCard
from bot.settings import Settings

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# An earlier post of a retried delivery is looked for back this far: longer than the outbox
# retries one (its backoff doubles from 30 s over 8 attempts), not a count of messages.
RETRY_HORIZON = timedelta(days=3)
HISTORY_PAGE = 200  # messages per history page (Slack's recommended most)
HISTORY_PAGES = 50  # pages at most: 10,000 messages, so a flooded channel costs bounded calls
RATE_LIMIT_RETRIES = 2  # then the outbox retries later, so one slow channel holds up little
SOCKET_CONNECT_WAIT = 20.0  # seconds start() waits for the websocket before moving on


class SlackAdapter:
    """newsbot in one Slack workspace (single-workspace app: one bot token)."""

    platform = PLATFORM

    def __init__(self, settings: Settings, commands: CommandHandler, setup: ChatSetup) -> None:
        if settings.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set; the Slack adapter needs a xoxb- token")
        self.settings = settings
        self.commands = commands
        self.setup = setup
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
        self.inbound = SlackInbound(
            commands, setup, self._users_info, lambda: self.team_id, call=self._call
        )
        self.inbound.register(self.app)
        self._socket: AsyncSocketModeHandler | None = None
        self._runner: web.AppRunner | None = None
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

    @property
    def connected(self) -> bool:
        """False once Slack refused the token (the bot's connection keeper then reconnects)."""
        return self._stopped_reason is None

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
        except SlackRequestError as exc:
            raise request_refused(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise unreachable(exc) from None
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
        except GoneMessage as exc:
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
        admins = set(self.setup.slack_owners)
        admins |= self.inbound.admins_seen(workspace)
        if not admins:
            logger.warning("no Slack admin to tell (%s); list user ids under admins.slack_users",
                           text)  # fmt: skip
            return
        for user in sorted(admins):
            try:
                await self._call(self.client.chat_postMessage, channel=user, **kit.admin_note(text))
            except ChannelUnavailable as exc:
                logger.warning("could not message Slack admin %s: %s", user, exc.reason)

    # -- Web API calls and their errors ---------------------------------------------------

    async def _find_delivery(self, channel: ChannelRef, delivery_id: int) -> str | None:
        """The ts of an earlier post carrying this delivery id, so a retry never posts twice:
        every page of the channel's history back to ``RETRY_HORIZON``, not its last page."""
        oldest = f"{(datetime.now(UTC) - RETRY_HORIZON).timestamp():.6f}"
        return await self._search(
            self.client.conversations_history, "delivery_id", str(delivery_id),
            channel=channel.channel, oldest=oldest,
        )  # fmt: skip

    async def _find_thread_reply(self, channel: ChannelRef, parent: str, source: str) -> str | None:
        """The ts of an earlier reply in this thread for the same report (every page)."""
        return await self._search(
            self.client.conversations_replies, "source", source, channel=channel.channel, ts=parent
        )

    async def _search(
        self,
        method: Callable[..., Awaitable[AsyncSlackResponse]],
        key: str,
        value: str,
        **kwargs: Any,
    ) -> str | None:
        """Page through messages (with their metadata) for our message with ``key == value``;
        None when there is none, or the history cannot be read (posting is still better)."""
        cursor = ""
        for _ in range(HISTORY_PAGES):
            try:
                page = {"cursor": cursor} if cursor else {}
                resp = await self._call(
                    method, include_all_metadata=True, limit=HISTORY_PAGE, **page, **kwargs
                )
            except (ChannelUnavailable, AdapterStopped):
                raise
            except DeliveryError as exc:
                if not self._warned_history:
                    logger.warning("Slack: cannot read channel history to avoid double posts: %s",
                                   exc)  # fmt: skip
                    self._warned_history = True
                return None
            found = _ts_where(list(resp.get("messages") or []), key, value)
            cursor = str((resp.get("response_metadata") or {}).get("next_cursor") or "")
            if found is not None or not cursor:
                return found
        return None

    async def _call(
        self, method: Callable[..., Awaitable[AsyncSlackResponse]], **kwargs: Any
    ) -> AsyncSlackResponse:
        """One Web API call with Slack's errors translated into the core's delivery errors."""
        if self._stopped_reason is not None:
            raise AdapterStopped(self._stopped_reason)
        try:
            return await method(**kwargs)
        except SlackApiError as exc:
            error = translate(exc)
            if isinstance(error, AdapterStopped):
                self._stop_for(error)
            raise error from None
        except SlackRequestError as exc:
            raise request_refused(exc) from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise unreachable(exc) from None

    def _stop_for(self, rejected: AdapterStopped) -> None:
        # The token is no good: every later call fails at once with the same reason.
        if self._stopped_reason is None:
            self._stopped_reason = str(rejected)
            logger.error("%s", rejected)
            self._keep(asyncio.ensure_future(self.stop()))

    async def _users_info(self, user_id: str) -> AsyncSlackResponse:
        return await self._call(self.client.users_info, user=user_id)


def _ts_where(messages: list[dict[str, Any]], key: str, value: str) -> str | None:
    """The ts of the first of our messages whose metadata has ``key == value``."""
    for message in messages:
        metadata = message.get("metadata") or {}
        if metadata.get("event_type") != kit.METADATA_EVENT:
            continue
        if str((metadata.get("event_payload") or {}).get(key, "")) == value:
            return str(message["ts"])
    return None
