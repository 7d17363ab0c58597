"""discord.py's failures as the core's delivery errors, and why a gateway connection ended."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
import discord

from bot.core.chat import AdapterStopped, ChannelUnavailable, DeliveryError
from bot.core.models import ChannelRef

# Discord codes meaning the channel is gone or closed to the bot (not worth retrying).
CHANNEL_GONE_CODES = frozenset({10003, 50001, 50013, 50083})  # unknown, no access, perms, archived
THREAD_EXISTS_CODE = 160004


def is_code(exc: BaseException | None, code: int) -> bool:
    return isinstance(exc, discord.HTTPException) and exc.code == code


async def call(work: Awaitable[Any], channel: ChannelRef) -> Any:
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


def gateway_problem(exc: BaseException | None) -> str:
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return "Discord refused a privileged intent; this bot asks for none, so update it"
    if isinstance(exc, discord.LoginFailure) or (
        isinstance(exc, discord.ConnectionClosed) and exc.code == 4004
    ):
        return "Discord rejected DISCORD_TOKEN; copy the bot token again from the Developer Portal"
    return f"the Discord gateway connection ended ({exc.__class__.__name__ if exc else 'no error'})"
