"""Slack's inbound side: the ``/news`` slash command and the alert buttons, from bolt's
listeners to the core's ``CommandHandler`` and its ``Reply`` back through ``response_url``.

Who is an admin is decided here, as the platform knows it: a configured user id, or a workspace
admin or owner (users.info, cached for ten minutes).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.slack import blocks as kit
from bot.adapters.slack.files import share_files
from bot.core.chat import HANDLER_FAILED, CommandHandler, DeliveryError
from bot.core.models import ChannelRef, ChatSetup, Command, Reply, UserRef

logger = logging.getLogger(__name__)

PLATFORM = "slack"
ADMIN_CACHE_SECONDS = 600.0

# users.info through the adapter's call, so its errors are the core's delivery errors.
UsersInfo = Callable[[str], Awaitable[AsyncSlackResponse]]
# Any Web API method through the adapter's call (errors translated, a stopped adapter refuses).
Caller = Callable[..., Awaitable[AsyncSlackResponse]]


class SlackInbound:
    """Bolt listeners for ``/news`` and the two alert buttons."""

    def __init__(
        self,
        commands: CommandHandler,
        setup: ChatSetup,
        users_info: UsersInfo,
        home_team: Callable[[], str | None],
        call: Caller,
    ) -> None:
        self.commands = commands
        self._call = call
        self.setup = setup
        self._users_info = users_info
        # The workspace the bot token belongs to (auth.test); None until the adapter started.
        self._home_team = home_team
        self._admins: dict[tuple[str, str], tuple[bool, float]] = {}

    def register(self, app: AsyncApp) -> None:
        app.command("/news")(self.on_news)
        app.action(kit.WHY_ACTION)(self.on_why)
        app.action(kit.NOT_RELEVANT_ACTION)(self.on_not_relevant)

    def admins_seen(self, team: str) -> set[str]:
        """Users of ``team`` found to be workspace admins while they used commands."""
        return {user for (t, user), (ok, _) in self._admins.items() if ok and t == team}

    async def on_news(
        self,
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        # Slack gives 3 s for the ack; the work (database, maybe network) comes after it.
        await ack()
        team = str(command.get("team_id", ""))
        channel = ChannelRef(PLATFORM, team, str(command.get("channel_id", "")),
                             str(command.get("channel_name", "")))  # fmt: skip
        user = await self._user(team, str(command.get("user_id", "")),
                                str(command.get("user_name", "")))  # fmt: skip
        cmd = Command(text=str(command.get("text", "")), user=user, channel=channel)
        reply = await _run(lambda: self.commands.handle(cmd), what=f"/news {cmd.text[:40]}")
        if reply.attachments:
            private = reply.ephemeral or not reply.ok
            note = await share_files(self._call, client, reply, channel=channel.channel,
                                     user=user.user, private=private)  # fmt: skip
            reply = replace(reply, text="\n".join(t for t in (reply.text, note) if t))
        await _respond(respond, reply)

    async def on_why(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        story_key, user, channel = await self._action_context(body)
        cmd = Command(text=f"why {story_key}", user=user, channel=channel)
        reply = await _run(lambda: self.commands.handle(cmd), what="the Why this? button")
        await _respond(respond, reply, force_ephemeral=True)

    async def on_not_relevant(
        self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        story_key, user, channel = await self._action_context(body)
        reply = await _run(lambda: self.commands.feedback(story_key, user, channel),
                           what="the Not relevant button")  # fmt: skip
        await _respond(respond, reply, force_ephemeral=True)

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

    async def _user(self, team: str, user_id: str, name: str) -> UserRef:
        configured = user_id in self.setup.slack_owners
        is_admin = configured or await self._workspace_admin(team, user_id)
        # One bot token is one workspace: its admins own the bot. A command from another team
        # (an org-wide install) leaves them admins of their own channels only.
        home = self._home_team()
        single = home is None or not home or team == home
        return UserRef(PLATFORM, team, user_id, name=name, is_admin=is_admin,
                       is_owner=configured or (is_admin and single))  # fmt: skip

    async def _workspace_admin(self, team: str, user_id: str) -> bool:
        """Workspace admins and owners, from users.info, cached for ten minutes."""
        key = (team, user_id)
        cached = self._admins.get(key)
        now = time.monotonic()
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            resp = await self._users_info(user_id)
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


async def _run(work: Callable[[], Awaitable[Reply]], *, what: str) -> Reply:
    # The handler answers its own errors; this guards against it raising (database down).
    try:
        return await work()
    except Exception:
        logger.exception("Slack: %s failed", what)
        return HANDLER_FAILED


async def _respond(respond: AsyncRespond, reply: Reply, *, force_ephemeral: bool = False) -> None:
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
