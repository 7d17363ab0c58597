"""A fake Slack platform on 127.0.0.1 for driving the REAL slack_sdk / slack_bolt.

What it stands in for
---------------------
* Web API ``https://slack.com/api/<method>``  ->  ``{fake.base_url}<method>``
  (point ``WebClient(base_url=fake.base_url)`` / ``AsyncWebClient(base_url=...)``
  at it; bolt copies ``client.base_url`` into every per-request client).
  Every call is recorded in ``fake.calls`` (method, merged args, headers, token).
* Realistic answers for auth.test, chat.postMessage, chat.postEphemeral,
  chat.update, chat.delete, conversations.info/list, users.info, views.publish,
  views.open, reactions.add, apps.connections.open; unknown methods answer
  ``{"ok": false, "error": "unknown_method"}`` like Slack (override with
  ``fake.set_response``).  Bad/missing tokens -> ``invalid_auth`` / ``not_authed``;
  unknown channels -> ``channel_not_found``.
* Failure injection: ``fake.fail_next("chat.postMessage", status=429,
  retry_after=1)`` answers HTTP 429 + ``Retry-After`` + ``{"ok":false,"error":"ratelimited"}``
  (what Slack sends), or any ``error=`` with HTTP 200 ``ok:false``.
* ``response_url`` endpoint: ``fake.response_url("x")`` -> POSTs recorded in
  ``fake.response_url_posts`` (bolt's ``respond()``).
* Socket Mode: ``apps.connections.open`` (needs an ``xapp-`` token) returns
  ``ws://127.0.0.1:<port>/link/?ticket=...``; the websocket there sends the
  ``hello`` frame, lets the test push envelopes (``send_envelope``) and records
  the client's acks (``wait_for_ack``).
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import WSMsgType, web

from tests.fakes._loopback import LoopbackServer, wait_until, wait_until_sync


@dataclass
class SlackCall:
    method: str  # e.g. "chat.postMessage"
    http_method: str  # "POST" / "GET"
    args: dict[str, Any]  # query + form + json body merged
    headers: dict[str, str]
    token: str | None
    content_type: str
    at: float = field(default_factory=time.monotonic)


Responder = dict | Callable[[SlackCall], dict]


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    times: int


class FakeSlack(LoopbackServer):
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-fake-bot-token",
        app_token: str = "xapp-1-fake-app-token",
        team_id: str = "T0FAKETEAM",
        team_domain: str = "fake-team",
        bot_user_id: str = "U0NEWSBOT",
        bot_id: str = "B0NEWSBOT",
        app_id: str = "A0NEWSAPP",
        channels: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.bot_token = bot_token
        self.app_token = app_token
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.channels: dict[str, str] = dict(channels or {"C0GENERAL": "general", "C0NEWS": "news"})
        self.valid_tokens = {bot_token, app_token}
        # Channel history as Slack keeps it (oldest first here; history answers newest first).
        self.messages: dict[str, list[dict[str, Any]]] = {}
        # users.info flags per user id, e.g. {"U0BOSS": {"is_admin": True}}.
        self.user_flags: dict[str, dict[str, Any]] = {}

        self.calls: list[SlackCall] = []
        self.response_url_posts: list[dict[str, Any]] = []
        # Files as Slack keeps them: id → {"filename", "length", "data", "title", "channel"}.
        self.files: dict[str, dict[str, Any]] = {}
        # HTTP statuses the upload URL answers with next (an expired or refused upload URL).
        self.upload_refusals: list[int] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._overrides: dict[str, Responder] = {}
        self._ts = itertools.count(1)

        # socket mode state
        self.socket_sessions: list[web.WebSocketResponse] = []
        self.socket_frames: list[dict[str, Any]] = []  # everything the client sent us
        self.connections_opened = 0

        self.app.router.add_route("*", "/api/{method}", self._api)
        self.app.router.add_post("/response/{name}", self._response_url)
        self.app.router.add_post("/upload/{file_id}", self._upload_url)
        self.app.router.add_get("/link/", self._socket_mode_ws)

    # ----------------------------------------------------------------- urls
    @property
    def base_url(self) -> str:
        """Pass as ``base_url=`` to WebClient / AsyncWebClient (trailing slash matters)."""
        return f"{self.http_root}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"{self.http_root}/response/{name}"

    # -------------------------------------------------------- test controls
    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        error: str = "ratelimited",
        retry_after: int | None = 1,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail.

        status=429 mimics Slack's rate limiting (HTTP 429 + Retry-After header,
        body ``{"ok": false, "error": "ratelimited"}``).  status=200 gives a
        regular ``ok: false`` API error such as ``channel_not_found``.
        """
        self._failures.setdefault(method, []).append(_Failure(status, error, retry_after, times))

    def set_response(self, method: str, responder: Responder) -> None:
        """Override (or add) a method's answer: a dict or ``f(call) -> dict``."""
        self._overrides[method] = responder

    def calls_for(self, method: str) -> list[SlackCall]:
        return [c for c in self.calls if c.method == method]

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SlackCall]:
        await wait_until(
            lambda: len(self.calls_for(method)) >= count, timeout, what=f"{count}x {method}"
        )
        return self.calls_for(method)

    def wait_for_call_sync(
        self, method: str, count: int = 1, timeout: float = 5.0
    ) -> list[SlackCall]:
        wait_until_sync(
            lambda: len(self.calls_for(method)) >= count, timeout, what=f"{count}x {method}"
        )
        return self.calls_for(method)

    # ------------------------------------------------------------ helpers
    def next_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def slash_command_payload(
        self,
        command: str = "/news",
        text: str = "",
        *,
        channel_id: str = "C0GENERAL",
        user_id: str = "U0ALICE",
        user_name: str = "alice",
        response_name: str = "cmd",
    ) -> dict[str, str]:
        """The form fields Slack sends for a slash command (HTTP body or Socket Mode payload)."""
        return {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel_id,
            "channel_name": self.channels.get(channel_id, "unknown"),
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": self.app_id,
            "is_enterprise_install": "false",
            "response_url": self.response_url(response_name),
            "trigger_id": f"{next(self._ts)}.{uuid.uuid4().hex[:12]}",
        }

    # ------------------------------------------------------------- web api
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        ctype = request.content_type
        if request.can_read_body:
            if ctype == "application/json":
                args.update(await request.json())
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        token = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth[len("Bearer ") :]
        token = token or args.get("token")
        call = SlackCall(method, request.method, args, dict(request.headers), token, ctype)
        self.calls.append(call)

        failures = self._failures.get(method)
        if failures:
            f = failures[0]
            f.times -= 1
            if f.times <= 0:
                failures.pop(0)
            headers = {}
            if f.retry_after is not None:
                headers["Retry-After"] = str(f.retry_after)
            return web.json_response(
                {"ok": False, "error": f.error}, status=f.status, headers=headers
            )

        if token is None:
            return self._json({"ok": False, "error": "not_authed"})
        if token not in self.valid_tokens:
            return self._json({"ok": False, "error": "invalid_auth"})

        if method in self._overrides:
            r = self._overrides[method]
            return self._json(r(call) if callable(r) else r)

        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return self._json({"ok": False, "error": "unknown_method"})
        return self._json(handler(call))

    @staticmethod
    def _json(body: dict) -> web.Response:
        # Slack answers API errors with HTTP 200 and ok:false.
        return web.json_response(body, headers={"X-Slack-Req-Id": uuid.uuid4().hex})

    def _channel_or_error(self, call: SlackCall) -> dict | None:
        ch = call.args.get("channel")
        if not ch:
            return {"ok": False, "error": "channel_not_found"}
        if ch not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return None

    def _bot_message(self, call: SlackCall, ts: str) -> dict:
        msg = {
            "type": "message",
            "subtype": "bot_message",
            "text": call.args.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "ts": ts,
        }
        for k in ("blocks", "attachments", "thread_ts", "metadata"):
            if k in call.args:
                msg[k] = call.args[k]
        return msg

    # one method per Slack API method: _m_<method with dots as underscores>
    def _m_auth_test(self, call: SlackCall) -> dict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": "Fake Team",
            "user": "newsbot",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _m_chat_postMessage(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        if not any(k in call.args for k in ("text", "blocks", "attachments")):
            return {"ok": False, "error": "no_text"}
        ts = self.next_ts()
        message = self._bot_message(call, ts)
        self.messages.setdefault(call.args["channel"], []).append(message)
        return {"ok": True, "channel": call.args["channel"], "ts": ts, "message": message}

    def _m_chat_postEphemeral(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        if not call.args.get("user"):
            return {"ok": False, "error": "user_not_found"}
        return {"ok": True, "message_ts": self.next_ts()}

    def _m_chat_update(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        ts = call.args.get("ts")
        stored = [m for m in self.messages.get(call.args["channel"], []) if m["ts"] == ts]
        if not ts or not stored:
            return {"ok": False, "error": "message_not_found"}
        for key in ("text", "blocks", "metadata"):
            if key in call.args:
                stored[0][key] = call.args[key]
        return {
            "ok": True,
            "channel": call.args["channel"],
            "ts": ts,
            "text": call.args.get("text", ""),
            "message": self._bot_message(call, ts),
        }

    def _m_chat_delete(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        return {"ok": True, "channel": call.args["channel"], "ts": call.args.get("ts")}

    def _channel_obj(self, cid: str) -> dict:
        return {
            "id": cid,
            "name": self.channels[cid],
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_private": False,
            "is_archived": False,
            "is_general": self.channels[cid] == "general",
            "is_member": True,
            "created": 1700000000,
            "creator": "U0ALICE",
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }

    def _m_conversations_info(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        return {"ok": True, "channel": self._channel_obj(call.args["channel"])}

    def _m_conversations_history(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        # History shows top-level messages only; thread replies come from conversations.replies.
        top = [m for m in self.messages.get(call.args["channel"], [])
               if m.get("thread_ts", m["ts"]) == m["ts"]]  # fmt: skip
        return self._message_list(call, list(reversed(top)))

    def _m_conversations_replies(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        if err:
            return err
        ts = call.args.get("ts")
        thread = [m for m in self.messages.get(call.args["channel"], [])
                  if m["ts"] == ts or m.get("thread_ts") == ts]  # fmt: skip
        if not thread:
            return {"ok": False, "error": "thread_not_found"}
        return self._message_list(call, thread)

    @staticmethod
    def _message_list(call: SlackCall, messages: list[dict]) -> dict:
        # As Slack: at most ``limit`` a page (100 by default), ``oldest`` bounding the ts,
        # and a cursor in response_metadata for the next page.
        limit = int(call.args.get("limit") or 100)
        oldest = float(call.args.get("oldest") or 0)
        messages = [m for m in messages if float(m["ts"]) >= oldest]
        start = int(call.args.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        # Slack returns metadata only when asked with include_all_metadata.
        with_metadata = str(call.args.get("include_all_metadata", "")).lower() in ("1", "true")
        shown = [{k: v for k, v in m.items() if with_metadata or k != "metadata"} for m in page]
        cursor = str(start + limit) if more else ""
        return {"ok": True, "messages": shown, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": cursor}}  # fmt: skip

    def _m_conversations_list(self, call: SlackCall) -> dict:
        return {
            "ok": True,
            "channels": [self._channel_obj(c) for c in self.channels],
            "response_metadata": {"next_cursor": ""},
        }

    def _m_users_info(self, call: SlackCall) -> dict:
        uid = call.args.get("user", "")
        if not uid:
            return {"ok": False, "error": "user_not_found"}
        return {
            "ok": True,
            "user": {
                "id": uid,
                "team_id": self.team_id,
                "name": uid.lower(),
                "real_name": uid,
                "is_bot": uid == self.bot_user_id,
                "tz": "Europe/London",
                "profile": {"display_name": uid.lower(), "real_name": uid},
                "is_admin": False,
                "is_owner": False,
                "is_primary_owner": False,
                **self.user_flags.get(uid, {}),
            },
        }

    def _view(self, call: SlackCall, default_type: str) -> dict:
        view = call.args.get("view") or {}
        if isinstance(view, str):
            view = json.loads(view)
        return {
            "id": "V" + uuid.uuid4().hex[:10].upper(),
            "team_id": self.team_id,
            "type": view.get("type", default_type),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "hash": uuid.uuid4().hex,
            "app_id": self.app_id,
            "bot_id": self.bot_id,
        }

    def _m_views_publish(self, call: SlackCall) -> dict:
        if not call.args.get("user_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(call, "home")}

    def _m_views_open(self, call: SlackCall) -> dict:
        if not call.args.get("trigger_id"):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view(call, "modal")}

    def _m_reactions_add(self, call: SlackCall) -> dict:
        err = self._channel_or_error(call)
        return err or {"ok": True}

    def _m_apps_connections_open(self, call: SlackCall) -> dict:
        if not (call.token or "").startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        self.connections_opened += 1
        ticket = uuid.uuid4()
        return {"ok": True, "url": f"{self.ws_root}/link/?ticket={ticket}&app_id={self.app_id}"}

    # --------------------------------------------------------------- files
    def _m_conversations_open(self, call: SlackCall) -> dict:
        user = call.args.get("users", "")
        if not user:
            return {"ok": False, "error": "users_list_not_supplied"}
        dm = "D" + user.removeprefix("U")
        self.channels.setdefault(dm, f"dm-{user}")
        return {"ok": True, "channel": {"id": dm, "is_im": True, "user": user}}

    def _m_files_getUploadURLExternal(self, call: SlackCall) -> dict:
        filename, length = call.args.get("filename"), call.args.get("length")
        if not filename or not str(length or "").isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        file_id = f"F{next(self._ts):08d}"
        self.files[file_id] = {"filename": filename, "length": int(str(length)), "data": None}
        return {"ok": True, "upload_url": f"{self.http_root}/upload/{file_id}", "file_id": file_id}

    async def _upload_url(self, request: web.Request) -> web.Response:
        entry = self.files.get(request.match_info["file_id"])
        if self.upload_refusals:
            return web.Response(status=self.upload_refusals.pop(0), text="upload refused")
        if entry is None:
            return web.Response(status=404, text="unknown upload")
        data = await request.read()
        if len(data) != entry["length"]:
            return web.Response(status=400, text="length mismatch")
        entry["data"] = data
        return web.Response(text=f"OK - {len(data)}")

    def _m_files_completeUploadExternal(self, call: SlackCall) -> dict:
        try:
            files = json.loads(call.args.get("files", ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        channel = call.args.get("channel_id")
        if channel and channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        done = []
        for f in files:
            entry = self.files.get(f.get("id", ""))
            if entry is None or entry["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            entry.update(title=f.get("title") or entry["filename"], channel=channel)
            done.append({"id": f["id"], "name": entry["filename"], "title": entry["title"]})
        if channel:
            message = {"type": "message", "user": self.bot_user_id, "ts": self.next_ts(),
                       "text": call.args.get("initial_comment", ""), "files": done}  # fmt: skip
            self.messages.setdefault(channel, []).append(message)
        return {"ok": True, "files": done}

    # -------------------------------------------------------- response_url
    async def _response_url(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.response_url_posts.append({"name": request.match_info["name"], "body": body})
        return web.Response(text="ok", content_type="text/html")

    # ---------------------------------------------------------- socket mode
    async def _socket_mode_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)  # aiohttp answers the SDK's pings
        await ws.prepare(request)
        self._open_ws.add(ws)
        self.socket_sessions.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len([s for s in self.socket_sessions if not s.closed]),
                "debug_info": {
                    "host": "applink-fake-1",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.socket_frames.append(json.loads(msg.data))
        finally:
            self._open_ws.discard(ws)
        return ws

    def _live_session(self) -> web.WebSocketResponse:
        live = [s for s in self.socket_sessions if not s.closed]
        if not live:
            raise RuntimeError("no socket mode client connected")
        return live[-1]

    async def wait_for_socket(self, count: int = 1, timeout: float = 5.0) -> web.WebSocketResponse:  # noqa: ASYNC109
        """Wait until ``count`` connections were ever made and one is open; return the newest."""

        def ready() -> bool:
            return len(self.socket_sessions) >= count and any(
                not s.closed for s in self.socket_sessions
            )

        await wait_until(ready, timeout, what="socket mode connection")
        return self._live_session()

    async def send_envelope(
        self, type: str, payload: dict, *, accepts_response_payload: bool = True
    ) -> str:
        """Push a Socket Mode envelope (slash_commands / interactive / events_api)."""
        envelope_id = str(uuid.uuid4())
        await self._live_session().send_json(
            {
                "envelope_id": envelope_id,
                "type": type,
                "payload": payload,
                "accepts_response_payload": accepts_response_payload,
            }
        )
        return envelope_id

    async def send_disconnect(self, reason: str = "refresh_requested") -> None:
        await self._live_session().send_json(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake-1"}}
        )

    async def wait_for_ack(self, envelope_id: str, timeout: float = 5.0) -> dict[str, Any]:  # noqa: ASYNC109
        def find():
            for f in self.socket_frames:
                if f.get("envelope_id") == envelope_id:
                    return f
            return None

        return await wait_until(find, timeout, what=f"ack for envelope {envelope_id}")


def form_body(fields: dict[str, str]) -> bytes:
    """application/x-www-form-urlencoded body, as Slack sends slash commands."""
    return urlencode(fields).encode("utf-8")
