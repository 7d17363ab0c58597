"""A channel's own settings: digest, quiet hours, mute, mode, follow-ups, include/exclude
words, hourly cap; each change audited (handlers of :class:`Commands`)."""

from __future__ import annotations

import functools
import re
import zoneinfo
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core import timeparse
from bot.core.commands.grammar import Call, _a, command
from bot.core.commands.specs import _DAYS, MODES
from bot.core.models import Reply, ReplyField
from bot.core.probe import CommandHooks
from bot.core.usage import UsageError, closest, unknown
from bot.storage import admin as admin_store
from bot.storage import audit as audit_repo
from bot.storage import reads
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import SubscriptionRow


class ChannelSettings:
    """The channel-settings commands; mixed into :class:`~bot.core.commands.Commands`."""

    db: Database
    cfg: AppConfig
    clock: Callable[[], datetime]
    hooks: CommandHooks

    async def _edit_sub(self, call: Call, edit: Callable[[Session, SubscriptionRow], str]) -> Reply:
        now = self.clock()

        def write(s: Session) -> tuple[int, str]:
            row = subs_repo.get_or_create(s, call.channel, now=now, created_by=call.user.user)
            key = admin_store.channel_key(call.channel)
            before = admin_store.snapshot(s, key)
            text = edit(s, row)
            s.flush()
            after = admin_store.snapshot(s, key)
            if after != before:  # a channel's settings change is audited like an admin edit
                action = f"channel.{call.spec.name.split()[0]}"
                audit_repo.record(s, call.user, action=action, target=key, before=before,
                                  after=after, now=now)  # fmt: skip
            return row.id, text

        sub_id, text = await self.db.run(write)
        if call.spec.name.startswith("digest") or call.spec.name == "mode":
            await self.hooks.digest_changed(sub_id)
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

        def edit(s: Session, row: SubscriptionRow) -> str:
            row.digest = digest
            if not digest:
                if row.mode == "digest":
                    row.mode = "realtime"
                return "Digest off for this channel."
            if row.mode == "realtime":
                row.mode = "both"
            when = f"{digest.get('day', 'every day')} at {digest['at']} {digest['tz']}"
            return f"Digest {every}, {when}; mode is {row.mode}."

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

        def edit(s: Session, row: SubscriptionRow) -> str:
            row.quiet_start, row.quiet_end = start, end
            if zone:
                row.timezone = zone
            if start is None:
                return "No quiet hours: alerts post as they come."
            return (
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

        def edit(s: Session, row: SubscriptionRow) -> str:
            key = reads.story_key(s, target)
            if key is not None:
                row.muted_stories = list(dict.fromkeys([*row.muted_stories, key]))
                return f"Muted story `{key}` here: no more updates about it."
            sources = reads.known_sources(s)
            exact = next((x for x in sources if x.lower() == target.lower()), None)
            note = ""
            if exact is None:
                # An outlet not seen yet is still worth muting; point out a likely misspelling.
                guess = closest(target, sources)
                hint = f"; did you mean `{guess}`?" if guess else ""
                note = f" (no stored report comes from `{target}` yet{hint})"
                exact = target
            row.muted_sources = list(dict.fromkeys([*row.muted_sources, exact]))
            return f"Muted {exact} here: stories only it reports are not posted.{note}"

        return await self._edit_sub(call, edit)

    @command("unmute", "unmute <source or story-id>", "Undo a mute.", _a("target", "source"))
    async def _unmute(self, call: Call) -> Reply:
        target = call.text("target").strip()

        def edit(s: Session, row: SubscriptionRow) -> str:
            muted = [*row.muted_sources, *row.muted_stories]
            match = next((m for m in muted if m.lower() == target.lower()), None)
            if match is None:
                if not muted:
                    raise UsageError("nothing is muted in this channel")
                raise unknown("muted source or story", target, muted)
            row.muted_sources = [m for m in row.muted_sources if m != match]
            row.muted_stories = [m for m in row.muted_stories if m != match]
            return f"Unmuted {match}."

        return await self._edit_sub(call, edit)

    @command(
        "mode",
        "mode <realtime|digest|both>",
        "Alerts as they happen, only in the digest, or both.",
        _a("mode", "choice", choices=("realtime", "digest", "both")),
    )
    async def _mode(self, call: Call) -> Reply:
        mode = call.text("mode")

        def edit(s: Session, row: SubscriptionRow) -> str:
            row.mode = mode
            hint = (
                " Set the time with `/news digest daily HH:MM <tz>`."
                if (mode != "realtime" and not row.digest)
                else ""
            )
            return f"Mode: {MODES[mode]}.{hint}"

        return await self._edit_sub(call, edit)

    @command(
        "follow-ups",
        "follow-ups <edit|thread>",
        "Later reports edit the post, or also reply in its thread.",
        _a("style", "choice", choices=("edit", "thread")),
    )
    async def _follow_ups(self, call: Call) -> Reply:
        style = call.text("style")

        def edit(s: Session, row: SubscriptionRow) -> str:
            row.follow_ups = style
            return (
                "Later reports edit the story's post."
                if style == "edit"
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

        def edit(s: Session, row: SubscriptionRow) -> str:
            if which == "include":
                row.include_words = words
            else:
                row.exclude_words = words
            if not words:
                return f"No {which} words."
            verb = "only with one of" if which == "include" else "never with any of"
            return f"Alerts here: {verb}: {', '.join(words)}."

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

        def edit(s: Session, row: SubscriptionRow) -> str:
            row.hourly_cap = cap
            if cap is None:
                return "No hourly cap."
            return f"At most {cap} alert(s) an hour here; the rest go to the next digest."

        return await self._edit_sub(call, edit)


def describe_subscription(row: SubscriptionRow) -> tuple[ReplyField, ...]:
    quiet = f"{row.quiet_start}-{row.quiet_end} {row.timezone}" if row.quiet_start else "off"
    digest = row.digest or {}
    parts = [digest.get("every"), digest.get("day"), digest.get("at"), digest.get("tz")]
    digest_text = " ".join(str(p) for p in parts if p) if digest else "off"
    muted = [*row.muted_sources, *row.muted_stories]
    return (
        ReplyField("mode", row.mode),
        ReplyField("follow-ups", row.follow_ups),
        ReplyField("digest", digest_text),
        ReplyField("quiet hours", quiet),
        ReplyField("hourly cap", str(row.hourly_cap) if row.hourly_cap else "off"),
        ReplyField("include words", ", ".join(row.include_words) or "any"),
        ReplyField("exclude words", ", ".join(row.exclude_words) or "none"),
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
