"""Slack's Web API errors as the core's delivery errors.

A closed channel is ``ChannelUnavailable`` (the core pauses the subscription), a rejected token
``AdapterStopped`` (this adapter stops; the bot runs on), the rest ``DeliveryError`` (the outbox
retries later). An edit of a message that is gone is ``GoneMessage``: nothing to do.
"""

from __future__ import annotations

import re

from slack_sdk.errors import SlackApiError, SlackRequestError

from bot.core.chat import AdapterStopped, ChannelUnavailable, DeliveryError

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


class GoneMessage(DeliveryError):
    """The message to edit was deleted or can no longer be edited."""


def translate(exc: SlackApiError) -> DeliveryError:
    """The delivery error the core acts on for one failed Web API call."""
    error = str(exc.response.get("error") or "")
    if error in CHANNEL_ERRORS:
        return ChannelUnavailable(f"{error}: {CHANNEL_ERRORS[error]}")
    if error in TOKEN_ERRORS:
        return AdapterStopped(
            f"Slack rejected SLACK_BOT_TOKEN ({error}). The Slack adapter has stopped; the rest "
            "of newsbot runs on. Reinstall the app or copy a fresh Bot User OAuth Token into "
            "SLACK_BOT_TOKEN, then restart newsbot."
        )
    if error in GONE_MESSAGE_ERRORS:
        return GoneMessage(error)
    if exc.response.status_code == 429:
        return DeliveryError("Slack rate limit (HTTP 429) still in force after retries")
    if error == "missing_scope":
        needed = exc.response.get("needed") or "?"
        return DeliveryError(f"missing_scope: the app lacks the {needed} scope; "
                             "reinstall it from config/slack-manifest.yaml")  # fmt: skip
    return DeliveryError(f"Slack API error {error or exc.response.status_code}")


def unreachable(exc: BaseException) -> DeliveryError:
    """A connection failure or timeout: worth retrying later."""
    return DeliveryError(f"Slack is unreachable ({exc.__class__.__name__})")


def request_refused(exc: SlackRequestError) -> DeliveryError:
    """A request the SDK itself gave up on: files_upload_v2's POST of the bytes to the upload
    URL answered with an HTTP error. Only the status is kept (the body is Slack's, unread)."""
    status = re.search(r"status: (\d+)", str(exc))
    return DeliveryError(
        f"Slack refused the upload (HTTP {status.group(1)})"
        if status
        else "Slack refused the request"
    )
