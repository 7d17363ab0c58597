"""A channel's own settings: digest, quiet hours, mute, mode, follow-ups, include/exclude
words, hourly cap; each change audited (handlers of :class:`Commands`)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from bot.config import AppConfig
from bot.core import timeparse
from bot.core.commands.grammar import Call, _a, command
from bot.core.commands.specs import _DAYS, MODES
from bot.core.models import DeliveryMode, FollowUpStyle, Reply, ReplyField, Subscription
from bot.core.probe import CommandHooks
from bot.core.usage import UsageError, closest, unknown
from bot.storage import reads
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database

# An edit's result: the new settings and what to tell the channel.
Edited = tuple[Subscription, str]


class ChannelSettings:
    """The channel-settings commands; mixed into :class:`~bot.core.commands.Commands`."""

    db: Database
    cfg: AppConfig
    clock: Callable[[], datetime]
    hooks: CommandHooks

    async def _edit_sub(self, call: Call, edit: Callable[[Subscription], Edited]) -> Reply:
        """Apply a pure edit of the channel's settings; storage writes and audits it."""
        now, action = self.clock(), f"channel.{call.spec.name.split()[0]}"
        sub, text = await self.db.run(
            lambda s: subs_repo.update(s, call.channel, edit, by=call.user, action=action, now=now)
        )
        if call.spec.name.startswith("digest") or call.spec.name == "mode":
            await self.hooks.digest_changed(sub.id)
        return Reply(text=text, ephemeral=False)

    @command(
        "digest daily",
        "digest daily <HH:MM> <time zone>",
        "One message a day with the stories since the last digest.",
        _a("time", "time"),
        _a("tz", "tz"),
    )
    @command(
        "digest weekly",
        "digest weekly <day> <HH:MM> <time zone>",
        "One message a week with the stories since the last digest.",
        _a("day", "choice", choices=_DAYS),
        _a("time", "time"),
        _a("tz", "tz"),
    )
    @command("digest off", "digest off", "Stop the digest for this channel.")
    async def _digest(self, call: Call) -> Reply:
        every = call.spec.name.split()[1]
        if every == "off":
            digest: dict[str, str] = {}
        else:
            zone = check_tz(call.text("tz"))
            at = check_time(call.text("time"))
            digest = {"every": every, "at": at, "tz": zone}
            if every == "weekly":
                digest["day"] = call.text("day")

        def edit(sub: Subscription) -> Edited:
            if not digest:
                mode: DeliveryMode = (
                    DeliveryMode.REALTIME if sub.mode == DeliveryMode.DIGEST else sub.mode
                )
                return replace(sub, digest={}, mode=mode), "Digest off for this channel."
            mode = DeliveryMode.BOTH if sub.mode == DeliveryMode.REALTIME else sub.mode
            when = f"{digest.get('day', 'every day')} at {digest['at']} {digest['tz']}"
            return replace(
                sub, digest=digest, mode=mode
            ), f"Digest {every}, {when}; mode is {mode}."

        return await self._edit_sub(call, edit)

    @command(
        "quiet",
        "quiet <HH:MM-HH:MM> <time zone>",
        "Hold alerts in these hours; release them as one message when they end.",
        _a("hours", "text"),
        _a("tz", "tz"),
    )
    @command("quiet off", "quiet off", "No quiet hours.")
    async def _quiet(self, call: Call) -> Reply:
        if call.spec.name == "quiet off":
            start: str | None = None
            end: str | None = None
            zone = ""
        else:
            hours = call.text("hours")
            first, sep, second = hours.partition("-")
            if not sep:
                raise UsageError(f"give the hours as HH:MM-HH:MM, not `{hours}`")
            start, end, zone = check_time(first), check_time(second), check_tz(call.text("tz"))
            if start == end:
                raise UsageError("quiet hours must start and end at different times")

        def edit(sub: Subscription) -> Edited:
            new = replace(sub, quiet_start=start, quiet_end=end, timezone=zone or sub.timezone)
            if start is None:
                return new, "No quiet hours: alerts post as they come."
            return new, (
                f"Quiet {start}–{end} {zone}: alerts are held and posted as one message "
                "when quiet hours end."
            )

        return await self._edit_sub(call, edit)

    @command(
        "mute",
        "mute <source or story-id>",
        "Stop alerts from one outlet or about one story.",
        _a("target", "source"),
    )
    async def _mute(self, call: Call) -> Reply:
        target = call.text("target").strip()
        key, sources = await self.db.run(
            lambda s: (reads.story_key(s, target), reads.known_sources(s))
        )

        def edit(sub: Subscription) -> Edited:
            if key is not None:
                stories = tuple(dict.fromkeys([*sub.muted_stories, key]))
                said = f"Muted story `{key}` here: no more updates about it."
                return replace(sub, muted_stories=stories), said
            exact = next((x for x in sources if x.lower() == target.lower()), None)
            note = ""
            if exact is None:
                # An outlet not seen yet is still worth muting; point out a likely misspelling.
                guess = closest(target, sources)
                hint = f"; did you mean `{guess}`?" if guess else ""
                note = f" (no stored report comes from `{target}` yet{hint})"
                exact = target
            muted = tuple(dict.fromkeys([*sub.muted_sources, exact]))
            said = f"Muted {exact} here: stories only it reports are not posted.{note}"
            return replace(sub, muted_sources=muted), said

        return await self._edit_sub(call, edit)

    @command("unmute", "unmute <source or story-id>", "Undo a mute.", _a("target", "source"))
    async def _unmute(self, call: Call) -> Reply:
        target = call.text("target").strip()

        def edit(sub: Subscription) -> Edited:
            muted = [*sub.muted_sources, *sub.muted_stories]
            match = next((m for m in muted if m.lower() == target.lower()), None)
            if match is None:
                if not muted:
                    raise UsageError("nothing is muted in this channel")
                raise unknown("muted source or story", target, muted)
            sources = tuple(m for m in sub.muted_sources if m != match)
            stories = tuple(m for m in sub.muted_stories if m != match)
            return replace(sub, muted_sources=sources, muted_stories=stories), f"Unmuted {match}."

        return await self._edit_sub(call, edit)

    @command(
        "mode",
        "mode <realtime|digest|both>",
        "Alerts as they happen, only in the digest, or both.",
        _a("mode", "choice", choices=("realtime", "digest", "both")),
    )
    async def _mode(self, call: Call) -> Reply:
        mode = DeliveryMode(call.text("mode"))

        def edit(sub: Subscription) -> Edited:
            hint = (
                " Set the time with `/news digest daily HH:MM <tz>`."
                if (mode != DeliveryMode.REALTIME and not sub.digest)
                else ""
            )
            return replace(sub, mode=mode), f"Mode: {MODES[mode]}.{hint}"

        return await self._edit_sub(call, edit)

    @command(
        "follow-ups",
        "follow-ups <edit|thread>",
        "Later reports edit the post, or also reply in its thread.",
        _a("style", "choice", choices=("edit", "thread")),
    )
    async def _follow_ups(self, call: Call) -> Reply:
        style = FollowUpStyle(call.text("style"))

        def edit(sub: Subscription) -> Edited:
            return replace(sub, follow_ups=style), (
                "Later reports edit the story's post."
                if style == FollowUpStyle.EDIT
                else "Later reports edit the story's post and reply in its thread."
            )

        return await self._edit_sub(call, edit)

    @command(
        "include",
        "include <word…> | include off",
        "Only alert on stories that contain one of these words.",
        _a("words", "words", repeat=True),
    )
    @command(
        "exclude",
        "exclude <word…> | exclude off",
        "Never alert on stories that contain one of these words.",
        _a("words", "words", repeat=True),
    )
    async def _words(self, call: Call) -> Reply:
        which = call.spec.name
        given = " ".join(call.words("words"))
        words = [] if given.strip().lower() == "off" else _split_words(given)
        if given.strip().lower() != "off" and not words:
            raise UsageError("missing <words>")

        def edit(sub: Subscription) -> Edited:
            if which == "include":
                new = replace(sub, include_words=tuple(words))
            else:
                new = replace(sub, exclude_words=tuple(words))
            if not words:
                return new, f"No {which} words."
            verb = "only with one of" if which == "include" else "never with any of"
            return new, f"Alerts here: {verb}: {', '.join(words)}."

        return await self._edit_sub(call, edit)

    @command(
        "cap",
        "cap <alerts per hour> | cap off",
        "At most this many alerts an hour; the rest go to the next digest.",
        _a("n", "text"),
    )
    async def _cap(self, call: Call) -> Reply:
        value = call.text("n").strip().lower()
        if value == "off":
            cap: int | None = None
        elif value.isdigit() and 1 <= int(value) <= 100:
            cap = int(value)
        else:
            raise UsageError(
                f"<alerts per hour> must be a number from 1 to 100 or `off`, not `{value}`"
            )

        def edit(sub: Subscription) -> Edited:
            new = replace(sub, hourly_cap=cap)
            if cap is None:
                return new, "No hourly cap."
            return new, f"At most {cap} alert(s) an hour here; the rest go to the next digest."

        return await self._edit_sub(call, edit)


def describe_subscription(sub: Subscription) -> tuple[ReplyField, ...]:
    quiet = f"{sub.quiet_start}-{sub.quiet_end} {sub.timezone}" if sub.quiet_start else "off"
    digest = sub.digest or {}
    parts = [digest.get("every"), digest.get("day"), digest.get("at"), digest.get("tz")]
    digest_text = " ".join(str(p) for p in parts if p) if digest else "off"
    muted = [*sub.muted_sources, *sub.muted_stories]
    return (
        ReplyField("mode", sub.mode),
        ReplyField("follow-ups", sub.follow_ups),
        ReplyField("digest", digest_text),
        ReplyField("quiet hours", quiet),
        ReplyField("hourly cap", str(sub.hourly_cap) if sub.hourly_cap else "off"),
        ReplyField("include words", ", ".join(sub.include_words) or "any"),
        ReplyField("exclude words", ", ".join(sub.exclude_words) or "none"),
        ReplyField("muted", ", ".join(muted) or "nothing"),
    )


def check_time(text: str) -> str:
    """A time of day as people write it (``08:30``, ``8am``, ``8.30pm``, ``noon``) → HH:MM."""
    try:
        return timeparse.parse_clock(text).strftime("%H:%M")
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_tz(text: str) -> str:
    """A zone's IANA name from what people write (``Asia/Kolkata`` in any case, ``IST``,
    ``ET``), or a one-line refusal with the closest name."""
    try:
        zone = timeparse.parse_zone(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    name = getattr(zone, "key", None)
    if not isinstance(name, str):  # a bare UTC offset: schedules need a zone with its rules
        raise UsageError(f"`{text}` is an offset, not a zone; write a zone name, e.g. Asia/Kolkata")
    return name


@functools.cache
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in zoneinfo.available_timezones()}


def _split_words(text: str) -> list[str]:
    parts = re.split(r"[,\s]+", text) if "," not in text else text.split(",")
    return list(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))
