"""A fake Discord REST API + Gateway on 127.0.0.1 for driving the REAL discord.py 2.x.

Wiring (see ``patch_discord``): discord.py has two hard-coded endpoints,
both class attributes, so one monkeypatch each redirects the whole library:

* ``discord.http.Route.BASE``  (``'https://discord.com/api/v10'``) -> ``fake.api_base``.
  Every REST call, including the interaction webhooks in
  ``discord.webhook.async_`` (which imports the same ``Route``), builds its URL
  as ``Route.BASE + path`` at ``Route()`` construction time.
* ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``
  (``yarl.URL('wss://gateway.discord.gg/')``) -> ``yarl.URL(fake.gateway_url)``.
  A plain ``Client``/``Bot`` never asks ``GET /gateway/bot``; it connects to
  ``DEFAULT_GATEWAY`` directly.  Only ``AutoShardedClient`` without a
  ``shard_count`` calls ``GET /gateway/bot`` (served here too).  After READY,
  resumes go to READY's ``resume_gateway_url`` (also pointing here).

REST routes served (under ``/api/v10``): ``GET /users/@me``,
``GET /oauth2/applications/@me``, ``GET /gateway``, ``GET /gateway/bot``,
``POST /channels/{id}/messages`` (JSON or multipart ``payload_json``),
``PATCH/DELETE /channels/{id}/messages/{mid}``,
``POST /interactions/{id}/{token}/callback`` (``?with_response=1`` answer shape),
``GET/PATCH/DELETE /webhooks/{app}/{token}/messages/@original``,
``POST /webhooks/{app}/{token}`` (followups),
``GET/PUT /applications/{app}/commands`` and the ``/guilds/{gid}/commands`` variant.
Anything else: recorded, 404 ``{"message": "404: Not Found", "code": 0}``.

Gateway: HELLO -> (client heartbeats, we ACK) -> IDENTIFY -> READY + one
GUILD_CREATE per guild; RESUME -> RESUMED.  Frames are zlib-stream compressed
when the client asks for ``compress=zlib-stream`` (discord.py's default when
no zstd module is present), plain text frames otherwise.
Tests push events with ``await fake.dispatch(event, data)`` or the
``send_slash_command`` helper.

Rate limits: ``fake.rate_limit_next(method, path, retry_after=0.25)`` answers
the next matching request with HTTP 429, JSON ``retry_after`` and a ``Via``
header.  discord.py treats a 429 WITHOUT ``Via`` (or with a non-JSON body)
as a Cloudflare ban and raises immediately -- pass ``via=False`` to see that.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import itertools
import json
import mimetypes
import re
import time
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakes._loopback import LoopbackServer, wait_until

DISCORD_EPOCH_MS = 1420070400000


@dataclass
class DiscordCall:
    method: str
    path: str  # path after /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _RateLimit:
    method: str
    path_re: re.Pattern[str]
    retry_after: float
    times: int
    is_global: bool
    via: bool


def _json_response(
    payload: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON reply with Content-Type EXACTLY ``application/json``.

    discord.http.json_or_text() compares ``headers['content-type'] == 'application/json'``
    verbatim; aiohttp's ``web.json_response`` adds ``; charset=utf-8`` and discord.py
    would then hand the raw *string* to the models (TypeError in ClientUser).
    """
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return web.Response(body=json.dumps(payload).encode(), status=status, headers=h)


class FakeDiscord(LoopbackServer):
    def __init__(
        self,
        *,
        token: str = "fake.discord.bot-token",
        application_id: int = 111111111111111111,
        bot_user_id: int = 222222222222222222,
        guild_id: int = 333333333333333333,
        channel_id: int = 444444444444444444,
        owner_id: int = 555555555555555555,
        bot_name: str = "newsbot",
        heartbeat_interval_ms: int = 41250,
        gateway_compression: bool = True,
    ) -> None:
        super().__init__()
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.guild_id = guild_id
        self.channel_id = channel_id
        self.owner_id = owner_id
        self.bot_name = bot_name
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.gateway_compression = gateway_compression  # False: always plain text frames

        self.guilds: dict[int, dict[str, Any]] = {guild_id: self._default_guild()}
        self.guild_members: dict[int, list[dict[str, Any]]] = {
            guild_id: [
                self.member(self.bot_user()),
                self.member(self.user(666666666666666666, "alice")),
            ]
        }
        self.calls: list[DiscordCall] = []
        # Every file uploaded (messages, interaction answers, followups): name, type, bytes.
        self.uploads: list[dict[str, Any]] = []
        # The largest file Discord takes from a bot in a server without boosts (10 MiB).
        self.upload_limit = 10 * 1024 * 1024
        self.gateway_received: list[dict[str, Any]] = []  # every frame the client sent
        self.identifies: list[dict[str, Any]] = []
        self.resumes: list[dict[str, Any]] = []
        self.gateway_sessions: list[_GatewaySession] = []
        self.commands: dict[
            int | None, list[dict[str, Any]]
        ] = {}  # guild_id (None=global) -> synced
        self._rate_limits: list[_RateLimit] = []
        self._failures: list[tuple[str, re.Pattern[str], int, dict[str, Any]]] = []
        self.extra_channels: dict[int, dict[str, Any]] = {}  # threads and DMs opened by the bot
        self.messages: dict[int, dict[str, Any]] = {}  # message id -> newest stored state
        self._nonces: dict[tuple[int, str], dict[str, Any]] = {}  # (channel, nonce) -> message
        self._ids = itertools.count(1)

        self.app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        self.app.router.add_get("/gateway", self._gateway)
        self.app.router.add_get("/gateway/", self._gateway)

    # ------------------------------------------------------------------ urls
    @property
    def api_base(self) -> str:
        """Value for ``discord.http.Route.BASE``."""
        return f"{self.http_root}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Value for ``DiscordWebSocket.DEFAULT_GATEWAY`` (wrap in yarl.URL)."""
        return f"{self.ws_root}/gateway/"

    # ------------------------------------------------------------- factories
    def snowflake(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(self._ids) & 0x3FFFFF)

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": str(self.bot_user_id),
            "username": self.bot_name,
            "global_name": None,
            "discriminator": "0000",
            "avatar": None,
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "flags": 0,
            "public_flags": 0,
        }

    def user(self, user_id: int, name: str) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "global_name": name.title(),
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
        }

    def member(self, user: dict[str, Any], permissions: str = "2248473465835073") -> dict[str, Any]:
        return {
            "user": user,
            "roles": [],
            "nick": None,
            "avatar": None,
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "permissions": permissions,
            "communication_disabled_until": None,
        }

    def text_channel(
        self, channel_id: int, name: str, guild_id: int, position: int = 0
    ) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "rate_limit_per_user": 0,
            "last_message_id": None,
            "flags": 0,
        }

    def _default_guild(self) -> dict[str, Any]:
        gid = self.guild_id
        return {
            "id": str(gid),
            "name": "Fake Newsroom",
            "icon": None,
            "owner_id": str(self.owner_id),
            "unavailable": False,
            "large": False,
            "member_count": 2,
            "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "roles": [
                {
                    "id": str(gid),
                    "name": "@everyone",
                    "permissions": "2248473465835073",
                    "position": 0,
                    "color": 0,
                    "colors": {"primary_color": 0},
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [self.text_channel(self.channel_id, "news", gid)],
            # Like real Discord, GUILD_CREATE carries only some members (here: the bot);
            # the full list (self.guild_members) comes via GUILD_MEMBERS_CHUNK on op 8.
            "members": [self.member(self.bot_user())],
            "emojis": [],
            "stickers": [],
            "features": [],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "system_channel_id": None,
        }

    def app_info(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": "NewsBot",
            "icon": None,
            "description": "fake application",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.user(self.owner_id, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            # non-null makes discord.py warn that gateway interactions will not arrive
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "bot": self.bot_user(),
        }

    def message(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        author: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        msg = {
            "id": str(self.snowflake()),
            "channel_id": str(channel_id),
            "type": 0,
            "content": body.get("content") or "",
            "author": author or self.bot_user(),
            "attachments": [self._attachment(f) for f in body.get("_uploaded") or []],
            "embeds": body.get("embeds") or [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts", False)),
            "timestamp": _dt.datetime.now(_dt.UTC).isoformat(),
            "edited_timestamp": None,
            "flags": int(body.get("flags") or 0),
            "components": body.get("components") or [],
        }
        if "nonce" in body:
            msg["nonce"] = body["nonce"]
        if "message_reference" in body:
            msg["message_reference"] = body["message_reference"]
        msg.update(extra)
        return msg

    def _attachment(self, upload: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.http_root}/attachments/{upload['filename']}"
        return {"id": str(self.snowflake()), "filename": upload["filename"],
                "size": len(upload["data"]), "content_type": upload["content_type"],
                "description": upload.get("description"), "url": url,
                "proxy_url": url}  # fmt: skip

    # -------------------------------------------------------- test controls
    def rate_limit_next(
        self,
        method: str,
        path_regex: str,
        *,
        retry_after: float = 0.25,
        times: int = 1,
        is_global: bool = False,
        via: bool = True,
    ) -> None:
        """Answer the next ``times`` requests matching (method, regex on path) with 429."""
        self._rate_limits.append(
            _RateLimit(method.upper(), re.compile(path_regex), retry_after, times, is_global, via)
        )

    def fail_next(
        self, method: str, path_regex: str, *, status: int, code: int, message: str = "error"
    ) -> None:
        """Answer the next request matching (method, regex on path) with this HTTP error."""
        self._failures.append(
            (method.upper(), re.compile(path_regex), status, {"message": message, "code": code})
        )

    def channel_messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages the bot has in a channel now (edits applied), oldest first."""
        return [m for m in self.messages.values() if int(m["channel_id"]) == channel_id]

    def calls_to(self, method: str, path_regex: str) -> list[DiscordCall]:
        rx = re.compile(path_regex)
        return [c for c in self.calls if c.method == method.upper() and rx.fullmatch(c.path)]

    async def wait_for_call(
        self,
        method: str,
        path_regex: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 -- wait_until takes seconds
    ) -> list[DiscordCall]:
        await wait_until(
            lambda: len(self.calls_to(method, path_regex)) >= count,
            timeout,
            what=f"{count}x {method} {path_regex}",
        )
        return self.calls_to(method, path_regex)

    async def wait_for_session(self, timeout: float = 5.0) -> _GatewaySession:  # noqa: ASYNC109
        await wait_until(
            lambda: any(s.identified and not s.ws.closed for s in self.gateway_sessions),
            timeout,
            what="gateway IDENTIFY",
        )
        return [s for s in self.gateway_sessions if s.identified and not s.ws.closed][-1]

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an op-0 DISPATCH to the newest identified gateway session."""
        session = await self.wait_for_session()
        await session.dispatch(event, data)

    async def send_reconnect(self) -> None:
        """Gateway op 7 RECONNECT: discord.py closes and RESUMEs via resume_gateway_url."""
        session = await self.wait_for_session()
        await session.send({"op": 7, "s": None, "t": None, "d": None})

    def interaction_payload(
        self,
        name: str,
        options: list[dict[str, Any]] | None = None,
        *,
        command_guild_id: int | None = None,
        user_id: int = 666666666666666666,
        user_name: str = "alice",
        permissions: str = "2248473465835073",
        roles: list[str] | None = None,
        interaction_type: int = 2,
        data_extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE (type 2, APPLICATION_COMMAND) from a guild text channel.

        ``command_guild_id`` goes in ``data.guild_id`` -- set it for a guild-scoped
        command, omit for a global one (that is how discord.py's CommandTree
        decides where to look the command up).
        """
        gid = self.guild_id
        data: dict[str, Any] = {"id": str(self.snowflake()), "name": name, "type": 1}
        if options:
            data["options"] = options
        if command_guild_id is not None:
            data["guild_id"] = str(command_guild_id)
        data.update(data_extra or {})
        member = self.member(self.user(user_id, user_name), permissions=permissions)
        member["roles"] = list(roles or [])
        return {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "type": interaction_type,
            "data": data,
            "guild_id": str(gid),
            "guild": {"id": str(gid), "locale": "en-US", "features": []},
            "channel_id": str(self.channel_id),
            "channel": self.text_channel(self.channel_id, "news", gid),
            "member": member,
            "token": "itoken-" + uuid.uuid4().hex,
            "version": 1,
            "app_permissions": "2248473465835073",
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(gid)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    async def send_slash_command(
        self, name: str, options: list[dict[str, Any]] | None = None, **kw: Any
    ) -> dict[str, Any]:
        payload = self.interaction_payload(name, options, **kw)
        await self.dispatch("INTERACTION_CREATE", payload)
        return payload

    def interaction_callbacks(self, interaction: dict[str, Any] | None = None) -> list[DiscordCall]:
        rx = r"/interactions/(\d+)/([^/]+)/callback"
        calls = self.calls_to("POST", rx)
        if interaction is not None:
            calls = [
                c
                for c in calls
                if c.path == f"/interactions/{interaction['id']}/{interaction['token']}/callback"
            ]
        return calls

    # ------------------------------------------------------------------ REST
    def _routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", r"/users/@me", self._r_me),
            ("GET", r"/oauth2/applications/@me", self._r_app_info),
            ("GET", r"/gateway", self._r_gateway),
            ("GET", r"/gateway/bot", self._r_gateway_bot),
            ("POST", r"/channels/(?P<cid>\d+)/messages", self._r_create_message),
            ("GET", r"/channels/(?P<cid>\d+)/messages", self._r_channel_history),
            ("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._r_edit_message),
            ("DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._r_no_content),
            ("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads", self._r_start_thread),
            ("POST", r"/users/@me/channels", self._r_create_dm),
            (
                "POST",
                r"/interactions/(?P<iid>\d+)/(?P<tok>[^/]+)/callback",
                self._r_interaction_callback,
            ),
            ("GET", r"/webhooks/(?P<app>\d+)/(?P<tok>[^/]+)/messages/@original", self._r_original),
            (
                "PATCH",
                r"/webhooks/(?P<app>\d+)/(?P<tok>[^/]+)/messages/@original",
                self._r_original,
            ),
            (
                "DELETE",
                r"/webhooks/(?P<app>\d+)/(?P<tok>[^/]+)/messages/@original",
                self._r_no_content,
            ),
            ("POST", r"/webhooks/(?P<app>\d+)/(?P<tok>[^/]+)", self._r_followup),
            ("GET", r"/applications/(?P<app>\d+)/commands", self._r_get_commands),
            ("PUT", r"/applications/(?P<app>\d+)/commands", self._r_put_commands),
            (
                "GET",
                r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands",
                self._r_get_commands,
            ),
            (
                "PUT",
                r"/applications/(?P<app>\d+)/guilds/(?P<gid>\d+)/commands",
                self._r_put_commands,
            ),
        ]

    @staticmethod
    def _ratelimit_headers(bucket: str) -> dict[str, str]:
        # Generous, never-exhausted bucket so discord.py's bucket bookkeeping runs
        # (X-Ratelimit-Bucket / -Remaining / -Reset-After) without ever sleeping.
        return {
            "X-RateLimit-Bucket": uuid.uuid5(uuid.NAMESPACE_URL, bucket).hex,
            "X-RateLimit-Limit": "50",
            "X-RateLimit-Remaining": "49",
            "X-RateLimit-Reset": f"{time.time() + 1:.3f}",
            "X-RateLimit-Reset-After": "1.000",
            "Via": "1.1 google",
        }

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
            elif request.content_type == "multipart/form-data":
                form = await request.post()
                body = json.loads(form["payload_json"]) if "payload_json" in form else {}
                body["_files"] = [k for k, v in form.items() if not isinstance(v, str)]
                refused = _refused_files(body, body["_files"])
                if refused:
                    return web.json_response(refused, status=400)
                # The files themselves, as Discord stores them: name, type, bytes. Discord
                # types a file by its name and bytes, not by the part's header (discord.py
                # sends every file as application/octet-stream).
                # A file's alt text rides in payload_json's attachments, by the part's index.
                described = _attachment_meta(body)
                body["_uploaded"] = [
                    {"filename": v.filename, "data": v.file.read(),
                     "content_type": mimetypes.guess_type(v.filename)[0] or v.content_type,
                     "description": described.get(k, {}).get("description")}
                    for k, v in form.items() if not isinstance(v, str)
                ]  # fmt: skip
                if any(len(f["data"]) > self.upload_limit for f in body["_uploaded"]):
                    # Discord's answer to a file over the limit: 413 with JSON error 40005.
                    too_large = {"code": 40005, "message": "Request entity too large"}
                    return web.json_response(too_large, status=413)
                self.uploads.extend(body["_uploaded"])
            else:
                body = await request.text()
        call = DiscordCall(request.method, path, dict(request.query), body, dict(request.headers))
        self.calls.append(call)

        for rl in list(self._rate_limits):
            if rl.method == request.method and rl.path_re.fullmatch(path):
                rl.times -= 1
                if rl.times <= 0:
                    self._rate_limits.remove(rl)
                headers = {
                    "Retry-After": str(max(1, int(rl.retry_after + 0.999))),
                    "X-RateLimit-Scope": "global" if rl.is_global else "user",
                }
                if rl.via:
                    headers["Via"] = "1.1 google"
                if rl.is_global:
                    headers["X-RateLimit-Global"] = "true"
                return _json_response(
                    {
                        "message": "You are being rate limited.",
                        "retry_after": rl.retry_after,
                        "global": rl.is_global,
                        "code": 0,
                    },
                    status=429,
                    headers=headers,
                )

        for failure in list(self._failures):
            if failure[0] == request.method and failure[1].fullmatch(path):
                self._failures.remove(failure)
                return _json_response(failure[3], status=failure[2])

        for method, rx, handler in self._routes():
            m = re.fullmatch(rx, path)
            if m and method == request.method:
                needs_bot_auth = not path.startswith(("/interactions/", "/webhooks/"))
                if needs_bot_auth and request.headers.get("Authorization") != f"Bot {self.token}":
                    return _json_response({"message": "401: Unauthorized", "code": 0}, status=401)
                status, payload = handler(call, **m.groupdict())
                headers = self._ratelimit_headers(f"{method} {rx}")
                if status == 204:
                    return web.Response(status=204, headers=headers)
                return _json_response(payload, status=status, headers=headers)
        return _json_response({"message": "404: Not Found", "code": 0}, status=404)

    def _r_me(self, call: DiscordCall):
        return 200, self.bot_user()

    def _r_app_info(self, call: DiscordCall):
        return 200, self.app_info()

    def _r_gateway(self, call: DiscordCall):
        return 200, {"url": self.gateway_url.rstrip("/")}

    def _r_gateway_bot(self, call: DiscordCall):
        return 200, {
            "url": self.gateway_url.rstrip("/"),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14400000,
                "max_concurrency": 1,
            },
        }

    def _known_channel(self, cid: int) -> dict[str, Any] | None:
        if cid in self.extra_channels:
            return self.extra_channels[cid]
        for g in self.guilds.values():
            for ch in g["channels"]:
                if int(ch["id"]) == cid:
                    return ch
        return None

    def _r_create_message(self, call: DiscordCall, cid: str):
        if self._known_channel(int(cid)) is None:
            return 404, {"message": "Unknown Channel", "code": 10003}
        body = call.json or {}
        if not any(
            body.get(k)
            for k in ("content", "embeds", "components", "sticker_ids", "poll", "_files")
        ):
            return 400, {"message": "Cannot send an empty message", "code": 50006}
        nonce = body.get("nonce")
        if (
            nonce is not None
            and body.get("enforce_nonce")
            and (int(cid), str(nonce)) in self._nonces
        ):
            # Like Discord: a repeated nonce within the window returns the first message.
            return 200, self._nonces[(int(cid), str(nonce))]
        msg = self.message(int(cid), body)
        self.messages[int(msg["id"])] = msg
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(int(cid), str(nonce))] = msg
        return 200, msg

    def _r_channel_history(self, call: DiscordCall, cid: str):
        # As Discord: newest first; ``after`` (ids above it), ``before`` (below it), ``limit``
        # (1-100, default 50).
        if self._known_channel(int(cid)) is None:
            return 404, {"message": "Unknown Channel", "code": 10003}
        limit = max(1, min(100, int(call.query.get("limit") or 50)))
        after = int(call.query.get("after") or 0)
        before = int(call.query.get("before") or 2**63)
        found = sorted(
            (m for m in self.messages.values()
             if m["channel_id"] == cid and after < int(m["id"]) < before),
            key=lambda m: int(m["id"]),
        )  # fmt: skip
        # With only ``after``, Discord returns the oldest ``limit`` above it (still newest first).
        page = (
            found[:limit]
            if "after" in call.query and "before" not in call.query
            else found[-limit:]
        )
        return 200, [{k: v for k, v in m.items() if k != "nonce"} for m in reversed(page)]

    def forget_nonces(self) -> None:
        """Discord's nonce window has passed: a repeated nonce posts again."""
        self._nonces.clear()

    def _r_start_thread(self, call: DiscordCall, cid: str, mid: str):
        if int(mid) in self.extra_channels:
            return 400, {
                "message": "A thread has already been created for this message",
                "code": 160004,
            }
        parent = self._known_channel(int(cid))
        if parent is None:
            return 404, {"message": "Unknown Channel", "code": 10003}
        body = call.json or {}
        thread = {
            "id": mid,  # a thread started from a message takes the message's id
            "type": 11,
            "guild_id": parent.get("guild_id"),
            "parent_id": cid,
            "name": body.get("name", "thread"),
            "owner_id": str(self.bot_user_id),
            "message_count": 0,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration", 1440),
                "archive_timestamp": _dt.datetime.now(_dt.UTC).isoformat(),
                "locked": False,
            },
        }
        self.extra_channels[int(mid)] = thread
        return 201, thread

    def _r_create_dm(self, call: DiscordCall):
        recipient = str((call.json or {}).get("recipient_id"))
        channel = {
            "id": str(self.snowflake()),
            "type": 1,
            "last_message_id": None,
            "recipients": [self.user(int(recipient), f"user{recipient[-4:]}")],
        }
        self.extra_channels[int(channel["id"])] = channel
        return 200, channel

    def _r_edit_message(self, call: DiscordCall, cid: str, mid: str):
        if self._known_channel(int(cid)) is None:
            return 404, {"message": "Unknown Channel", "code": 10003}
        msg = self.message(
            int(cid), call.json or {}, edited_timestamp=_dt.datetime.now(_dt.UTC).isoformat()
        )
        msg["id"] = mid
        if int(mid) in self.messages:
            stored = self.messages[int(mid)]
            stored.update(
                {
                    k: v
                    for k, v in (call.json or {}).items()
                    if k in ("content", "embeds", "components")
                }
            )
            stored["edited_timestamp"] = msg["edited_timestamp"]
            msg = dict(stored)
        return 200, msg

    def _r_no_content(self, call: DiscordCall, **_: str):
        return 204, None

    def _r_interaction_callback(self, call: DiscordCall, iid: str, tok: str):
        body = call.json or {}
        rtype = body.get("type")
        # Files travel beside payload_json, not inside its data.
        data = {**(body.get("data") or {}), "_uploaded": body.get("_uploaded") or []}
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        interaction: dict[str, Any] = {"id": iid, "type": 2}
        result: dict[str, Any] = {"interaction": interaction}
        if rtype in (4, 5, 7):  # CHANNEL_MESSAGE_WITH_SOURCE, DEFERRED_..., UPDATE_MESSAGE
            msg = self.message(
                self.channel_id,
                data,
                webhook_id=str(self.application_id),
                application_id=str(self.application_id),
                interaction_metadata={
                    "id": iid,
                    "type": 2,
                    "user": self.user(666666666666666666, "alice"),
                    "authorizing_integration_owners": {},
                },
            )
            if rtype == 5:
                msg["flags"] = msg["flags"] | 128  # LOADING
            interaction.update(
                response_message_id=msg["id"],
                response_message_loading=rtype == 5,
                response_message_ephemeral=bool(int(data.get("flags") or 0) & 64),
            )
            result["resource"] = {"type": rtype, "message": msg}
        elif rtype is not None:
            result["resource"] = {"type": rtype}
        return 200, result

    def _r_original(self, call: DiscordCall, app: str, tok: str):
        return 200, self.message(
            self.channel_id, call.json or {}, webhook_id=app, application_id=app
        )

    def _r_followup(self, call: DiscordCall, app: str, tok: str):
        return 200, self.message(
            self.channel_id, call.json or {}, webhook_id=app, application_id=app
        )

    def _r_get_commands(self, call: DiscordCall, app: str, gid: str | None = None):
        return 200, self.commands.get(int(gid) if gid else None, [])

    def _r_put_commands(self, call: DiscordCall, app: str, gid: str | None = None):
        out = []
        for cmd in call.json or []:
            stored = dict(cmd)
            stored.setdefault("type", 1)
            stored.update(
                id=str(self.snowflake()), application_id=app, version=str(self.snowflake())
            )
            if gid:
                stored["guild_id"] = gid
            out.append(stored)
        self.commands[int(gid) if gid else None] = out
        return 200, out

    # --------------------------------------------------------------- gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        self._open_ws.add(ws)
        session = _GatewaySession(self, ws, request.query.get("compress"))
        self.gateway_sessions.append(session)
        try:
            await session.run()
        finally:
            self._open_ws.discard(ws)
        return ws


class _GatewaySession:
    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.fake = fake
        self.ws = ws
        self.compress = compress
        # zstd-stream (asked for when `zstandard`/`compression.zstd` is importable) is not
        # implemented: we then send plain text frames, which discord.py also accepts.
        self._zlib = (
            zlib.compressobj() if (compress == "zlib-stream" and fake.gateway_compression) else None
        )
        self.seq = 0
        self.session_id = uuid.uuid4().hex
        self.identified = False
        self.shard: list[int] = [0, 1]
        self._send_lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload, separators=(",", ":"))
        async with self._send_lock:
            if self._zlib is not None:
                # zlib-stream: one shared context per connection, each message ends in Z_SYNC_FLUSH
                data = self._zlib.compress(raw.encode()) + self._zlib.flush(zlib.Z_SYNC_FLUSH)
                await self.ws.send_bytes(data)
            else:
                await self.ws.send_str(raw)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})

    async def run(self) -> None:
        await self.send(
            {
                "op": 10,
                "s": None,
                "t": None,
                "d": {
                    "heartbeat_interval": self.fake.heartbeat_interval_ms,
                    "_trace": ["fake-gateway"],
                },
            }
        )
        async for msg in self.ws:
            if msg.type != WSMsgType.TEXT:
                continue  # discord.py sends JSON text frames
            frame = json.loads(msg.data)
            self.fake.gateway_received.append(frame)
            op = frame.get("op")
            d = frame.get("d")
            if op == 1:  # HEARTBEAT
                await self.send({"op": 11, "s": None, "t": None, "d": None})
            elif op == 2:  # IDENTIFY
                if d.get("token") != self.fake.token:
                    await self.ws.close(code=4004, message=b"Authentication failed.")
                    return
                self.fake.identifies.append(d)
                self.shard = d.get("shard") or [0, 1]
                self.identified = True
                await self._ready()
            elif op == 6:  # RESUME
                if d.get("token") != self.fake.token:
                    await self.ws.close(code=4004, message=b"Authentication failed.")
                    return
                self.fake.resumes.append(d)
                self.identified = True
                self.session_id = d.get("session_id") or self.session_id
                self.seq = int(d.get("seq") or 0)
                await self.dispatch("RESUMED", {"_trace": ["fake-gateway"]})
            elif op == 8:  # REQUEST_GUILD_MEMBERS (members intent + chunk_guilds_at_startup)
                gid = int(
                    d["guild_id"] if not isinstance(d["guild_id"], list) else d["guild_id"][0]
                )
                chunk = {
                    "guild_id": str(gid),
                    "members": self.fake.guild_members.get(gid, []),
                    "chunk_index": 0,
                    "chunk_count": 1,
                    "not_found": [],
                }
                if d.get("nonce") is not None:
                    chunk["nonce"] = d["nonce"]
                await self.dispatch("GUILD_MEMBERS_CHUNK", chunk)
            # op 3 (presence), op 4 (voice): recorded only

    async def _ready(self) -> None:
        fake = self.fake
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": fake.bot_user(),
                "guilds": [{"id": str(gid), "unavailable": True} for gid in fake.guilds],
                "session_id": self.session_id,
                "session_type": "normal",
                "resume_gateway_url": fake.gateway_url.rstrip("/"),
                "shard": self.shard,
                "application": {"id": str(fake.application_id), "flags": 0},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "user_settings": {},
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": [],
                "auth": {},
                "_trace": ["fake-gateway"],
            },
        )
        for guild in fake.guilds.values():
            await self.dispatch("GUILD_CREATE", guild)


@contextlib.asynccontextmanager
async def running_client(
    client: Any,
    fake: FakeDiscord,
    *,
    timeout: float = 5.0,  # noqa: ASYNC109 -- wait_until takes seconds
) -> AsyncIterator[Any]:
    """login() + connect() a discord.py Client/Bot against ``fake``; wait for on_ready.

    Pass ``guild_ready_timeout=0.05`` (or similar) to the Client constructor: by
    default discord.py waits 2 s after the last GUILD_CREATE before firing READY.
    """
    await client.login(fake.token)
    task = asyncio.create_task(client.connect(reconnect=True), name="discord-connect")
    try:
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if task in done:
                task.result()  # re-raise the connect() failure
            raise TimeoutError("discord client did not become ready")
        yield client
    finally:
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout)


@contextlib.contextmanager
def patch_discord(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py at ``fake`` (REST + gateway); restore on exit.

    With pytest prefer ``monkeypatch.setattr`` on the same two attributes.
    """
    import discord.gateway
    import discord.http
    import yarl

    old_base = discord.http.Route.BASE
    old_gw = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gw


FILES_MAX = 10  # attachments per message, as Discord enforces


def _attachment_meta(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """payload_json's attachments by the part they describe (``files[n]`` for id n); an
    interaction callback carries them inside its data."""
    attachments = body.get("attachments")
    if attachments is None and isinstance(body.get("data"), dict):
        attachments = body["data"].get("attachments")
    return {f"files[{a.get('id')}]": a for a in attachments or [] if isinstance(a, dict)}


def _refused_files(body: dict[str, Any], parts: list[str]) -> dict[str, Any] | None:
    """Discord's 400 for a multipart body it would not take: more than ten files, a file part
    not named ``files[n]``, or a payload_json attachment whose id names no uploaded part."""
    ids = set(_attachment_meta(body))
    if len(parts) > FILES_MAX:
        problem = f"Must be {FILES_MAX} or fewer in length."
    elif any(not re.fullmatch(r"files\[\d+\]", p) for p in parts):
        problem = "File part must be named files[n]."
    elif ids - set(parts):
        problem = "Attachment references a file that was not uploaded."
    else:
        return None
    error = {"code": "BASE_TYPE_BAD", "message": problem}
    return {"code": 50035, "message": "Invalid Form Body",
            "errors": {"attachments": {"_errors": [error]}}}  # fmt: skip
