"""A reply's files on Slack (an export, a chart), uploaded with ``files_upload_v2``.

Slack has no private files: an answer only its asker sees gets its files in a direct message
to them, never in the channel. The bytes are handed over as bytes, so the SDK never takes a
name for a path to read.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.adapters.console_files import safe_filename
from bot.core.chat import DeliveryError
from bot.core.models import Reply

FILES_MAX = 10  # files per upload (files.completeUploadExternal takes this many)


async def share_files(
    call: Callable[..., Awaitable[AsyncSlackResponse]],
    client: AsyncWebClient,
    reply: Reply,
    *,
    channel: str,
    user: str,
    private: bool,
) -> str:
    """Upload the reply's files and say in one line where they went (or why they did not).

    ``call`` runs one Web API method with Slack's errors translated (the adapter's ``_call``).
    """
    if not reply.attachments:
        return ""
    names = ", ".join(safe_filename(a.filename) for a in reply.attachments[:FILES_MAX])
    uploads: list[dict[str, Any]] = [
        {"file": a.data, "filename": safe_filename(a.filename),
         "title": a.title or safe_filename(a.filename)}
        for a in reply.attachments[:FILES_MAX]
    ]  # fmt: skip
    try:
        target = channel
        if private:
            opened = await call(client.conversations_open, users=user)
            target = str((opened.get("channel") or {}).get("id", ""))
        await call(client.files_upload_v2, channel=target, file_uploads=uploads)
    except DeliveryError as exc:
        # The scopes are the likely fix only when Slack said a scope was missing; an upload
        # URL that refused the bytes or a closed channel needs something else.
        if not str(exc).startswith("missing_scope"):
            return f"The file {names} could not be attached ({exc})."
        return (
            f"The file {names} could not be attached ({exc}); the Slack app needs the "
            "files:write and im:write scopes (config/slack-manifest.yaml)."
        )
    return f"The file {names} is in your direct messages." if private else ""
