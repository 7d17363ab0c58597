"""The `/news …` commands: their specs (one tree for every adapter), the parser, the handlers.

Adapters only translate: they hand a :class:`Command` (the text after ``/news``) to
:meth:`Commands.handle` and render the :class:`Reply`. A user's mistake never raises; it comes
back as an ephemeral Reply with the command's usage and, where possible, the closest valid value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.config import AppConfig, TopicConfig
from bot.core import charts
from bot.core.admin import ADMINS_ONLY, Admin
from bot.core.chat import HANDLER_FAILED
from bot.core.commands import docs
from bot.core.commands.admin import AdminCommands
from bot.core.commands.channel import ChannelSettings, _zones, describe_subscription
from bot.core.commands.grammar import (
    DRY_RUN,
    ArgSpec,
    Call,
    CommandSpec,
    Handler,
    _a,
    command,
    declared,
    error_reply,
    tokenize,
)
from bot.core.commands.reading import TOPIC_CHART_DAYS, Reading, chart_or_hint
from bot.core.commands.specs import _DRY, MAX_COMPLETIONS
from bot.core.models import ChannelRef, Command, Reply, ReplyField, Subscription, UserRef
from bot.core.probe import CommandHooks, DefaultHooks
from bot.core.usage import UsageError, unknown
from bot.storage import chartdata, reads
from bot.storage import flagged as feedback_repo
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database, Tx

logger = logging.getLogger(__name__)


class Commands(Reading, ChannelSettings, AdminCommands):
    """Parses `/news …` text and runs the command against the database."""

    def __init__(
        self,
        db: Database,
        cfg: AppConfig,
        *,
        hooks: CommandHooks | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.hooks: CommandHooks = hooks or DefaultHooks()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.admin = Admin(db, cfg, self.hooks, self.clock)
        self._handlers: dict[str, Handler] = {
            spec.name: getattr(self, method) for spec, method in declared(type(self))
        }

    def specs(self) -> tuple[CommandSpec, ...]:
        return SPECS

    # -- entry points ---------------------------------------------------------------------

    async def handle(self, cmd: Command) -> Reply:
        tokens = tokenize(cmd.text.strip().removeprefix("/news").strip())
        if not tokens:
            return await self._help(Call(SPECS[0], cmd.user, cmd.channel))
        spec, used = find_spec(tokens)
        if spec is None:
            return self._unknown_command(tokens)
        if spec.admin and not cmd.user.is_owner:  # bot-wide: the owners' (see UserRef)
            return Reply(text=ADMINS_ONLY, ok=False)
        try:
            call = self._bind(spec, tokens[used:], cmd)
            return await self._handlers[spec.name](call)
        except UsageError as exc:
            return error_reply(spec, str(exc))
        except Exception:
            # A fault of ours (the database down), not the user's: one reply for every adapter.
            logger.exception("/news %s failed", spec.name)
            return HANDLER_FAILED

    async def feedback(
        self, story_key: str, user: UserRef, channel: ChannelRef, verdict: str = "not_relevant"
    ) -> Reply:
        now = self.clock()

        def write(s: Tx) -> bool:
            return feedback_repo.record(s, story_key, channel, user, verdict, now)

        if not await self.db.run(write):
            return Reply(text=f"unknown story `{story_key}`.", ok=False)
        return Reply(text="Thanks: noted as not relevant; admins use this to tune thresholds.")

    async def complete(
        self, kind: str, prefix: str, channel: ChannelRef | None = None
    ) -> list[str]:
        prefix = prefix.lower()
        options = await self._options(kind, channel)
        starts = [o for o in options if o.lower().startswith(prefix)]
        inside = [o for o in options if prefix in o.lower() and o not in starts]
        return (starts + inside)[:MAX_COMPLETIONS]

    async def _options(self, kind: str, channel: ChannelRef | None) -> list[str]:
        if kind == "topic":
            return await self.db.run(self._topic_ids)
        if kind in ("story", "item"):
            return await self.db.run(lambda s: reads.recent_story_keys(s, 200))
        if kind == "source":

            def sources(s: Tx) -> list[str]:
                sub = subs_repo.subscription(s, channel) if channel is not None else None
                muted = [*sub.muted_sources, *sub.muted_stories] if sub is not None else []
                return list(dict.fromkeys([*muted, *reads.known_sources(s)]))

            return await self.db.run(sources)
        if kind == "tz":
            return sorted(_zones().values())
        return []

    # -- parsing --------------------------------------------------------------------------

    def _unknown_command(self, tokens: list[str]) -> Reply:
        lowered = [t.lower() for t in tokens]
        for depth in (2, 1):
            group = [s for s in SPECS if s.name.split()[:depth] == lowered[:depth]]
            if group and len(lowered) >= depth:
                forms = "\n".join(f"`/news {s.usage}`" for s in group)
                after = " ".join(tokens[depth:])
                what = f"unknown subcommand `{after}`" if after else "missing subcommand"
                return Reply(text=f"{what}; the forms are:\n{forms}", ok=False)
        names = sorted({s.name.split()[0] for s in SPECS})
        if tokens[0].lower() == "admin" and len(tokens) > 1:
            names = sorted({" ".join(s.name.split()[:2]) for s in SPECS if s.admin})
            word = " ".join(tokens[:2]).lower()
        else:
            word = tokens[0].lower()
        problem = str(unknown("command", word, names))
        return error_reply(None, problem)

    def _bind(self, spec: CommandSpec, tokens: list[str], cmd: Command) -> Call:
        dry_run = any(t.lower() == DRY_RUN for t in tokens)
        tokens = [t for t in tokens if t.lower() != DRY_RUN]
        args: dict[str, object] = {}
        positional = [a for a in spec.args if a.kind != "choice" or a.choices != (DRY_RUN,)]
        for index, arg in enumerate(positional):
            last = index == len(positional) - 1
            if not tokens:
                if arg.required:
                    raise UsageError(f"missing <{arg.name}>")
                continue
            rest = positional[index + 1 :]
            if arg.kind == "source" and rest and all(a.kind == "choice" for a in rest):
                # A feed name may have spaces: it is all but the trailing choices.
                cut = max(1, len(tokens) - len(rest))
                args[arg.name], tokens = " ".join(tokens[:cut]), tokens[cut:]
            elif arg.repeat:
                args[arg.name], tokens = list(tokens), []
            elif last and arg.kind in ("text", "source", "words"):
                args[arg.name], tokens = " ".join(tokens), []
            else:
                args[arg.name] = self._convert(arg, tokens.pop(0))
        if tokens:
            raise UsageError(f"unexpected `{' '.join(tokens)}`")
        if dry_run and _DRY not in spec.args:
            raise UsageError(f"`/news {spec.name}` has no --dry-run")
        return Call(spec, cmd.user, cmd.channel, args, dry_run)

    def _convert(self, arg: ArgSpec, token: str) -> object:
        if arg.kind == "int":
            try:
                return int(token)
            except ValueError:
                raise UsageError(f"<{arg.name}> must be a whole number, not `{token}`") from None
        if arg.kind == "choice":
            if token.lower() not in arg.choices:
                raise unknown(arg.name, token, arg.choices)
            return token.lower()
        return token

    # -- everyone -------------------------------------------------------------------------

    @command(
        "help",
        "help [command]",
        "What the bot does and the commands it takes.",
        _a("command", "text", required=False),
    )
    async def _help(self, call: Call) -> Reply:
        wanted = call.text("command").lower()
        shown = [s for s in SPECS if not s.admin or call.user.is_owner]
        if wanted:
            shown = [s for s in shown if s.name == wanted or s.name.startswith(wanted + " ")]
            if not shown:
                raise unknown("command", wanted, sorted({s.name for s in SPECS}))
        lines = [f"`/news {s.usage}` — {s.summary}" for s in shown]
        head = "newsbot follows US–India defence ties and posts stories to subscribed channels."
        return Reply(text=head + "\n" + "\n".join(lines))

    @command("topics", "topics", "The topics the bot tracks, and their volume (a chart).")
    async def _topics(self, call: Call) -> Reply:
        until = self.clock().date()
        since = until - timedelta(days=TOPIC_CHART_DAYS - 1)

        def read(s: Tx) -> tuple[list[TopicConfig], dict[str, list[tuple[date, int]]]]:
            return reads.topics(s, self.cfg), chartdata.topic_days(s, since, until)

        rows, series = await self.db.run(read)
        chart, note = await chart_or_hint(
            f"topics-{until}.png", f"Relevant reports a day per topic, {since} to {until}",
            charts.topic_volume, f"Relevant reports a day, {since} to {until} (UTC)", series,
            wanted=bool(series),
        )  # fmt: skip
        fields = tuple(ReplyField(f"{r.name} (`{r.id}`)", r.description) for r in rows)
        text = f"{len(rows)} topics. Subscribe with `/news subscribe <topic>`."
        return Reply(text="\n".join(t for t in (text, note) if t), fields=fields,
                     attachments=chart)  # fmt: skip

    @command(
        "subscribe",
        "subscribe <topic…>",
        "Post new stories on these topics here.",
        _a("topic", "topic", repeat=True),
    )
    async def _subscribe(self, call: Call) -> Reply:
        now = self.clock()

        def write(s: Tx) -> Subscription:
            topics = self._check_topics(s, call.words("topic"))

            def follow(sub: Subscription) -> tuple[Subscription, None]:
                # Following nothing until now: start from now, not from the first subscription.
                since = now if not sub.topics else sub.since
                # Subscribing again is how a channel paused by a delivery failure comes back.
                merged = tuple(dict.fromkeys([*sub.topics, *topics]))
                return replace(sub, topics=merged, since=since, paused=False), None

            return subs_repo.update(s, call.channel, follow, by=call.user,
                                    action="channel.subscribe", now=now)[0]  # fmt: skip

        sub = await self.db.run(write)
        text = f"This channel now follows: {', '.join(sub.topics)}. New stories only, from now on."
        return Reply(text=text, ephemeral=False)

    @command(
        "unsubscribe",
        "unsubscribe <topic…>",
        "Stop posting these topics here.",
        _a("topic", "topic", repeat=True),
    )
    async def _unsubscribe(self, call: Call) -> Reply:
        now = self.clock()

        def write(s: Tx) -> tuple[str, ...] | None:
            topics = self._check_topics(s, call.words("topic"))
            if subs_repo.subscription(s, call.channel) is None:
                return None

            def leave(sub: Subscription) -> tuple[Subscription, None]:
                return replace(sub, topics=tuple(t for t in sub.topics if t not in topics)), None

            return subs_repo.update(s, call.channel, leave, by=call.user,
                                    action="channel.unsubscribe", now=now)[0].topics  # fmt: skip

        left = await self.db.run(write)
        if left is None:
            return Reply(text="This channel has no subscriptions.", ok=False)
        rest = ", ".join(left) if left else "nothing (no more alerts here)"
        return Reply(text=f"This channel now follows: {rest}.", ephemeral=False)

    @command("subscriptions", "subscriptions", "This channel's topics and settings.")
    async def _subscriptions(self, call: Call) -> Reply:
        row = await self.db.run(lambda s: subs_repo.subscription(s, call.channel))
        if row is None:
            return Reply(text="This channel follows no topics. Try `/news subscribe <topic>`.")
        if not row.topics:
            return Reply(
                text="This channel follows no topics. Try `/news subscribe <topic>`.",
                fields=describe_subscription(row),
            )
        return Reply(
            text=f"This channel follows: {', '.join(row.topics)}.",
            fields=describe_subscription(row),
        )


#: Every command's spec, in the order `help` lists them: one tree for every adapter.
SPECS: tuple[CommandSpec, ...] = tuple(spec for spec, _ in declared(Commands))


def find_spec(tokens: list[str]) -> tuple[CommandSpec | None, int]:
    """The longest command name that the first tokens spell, and how many tokens it took."""
    lowered = [t.lower() for t in tokens]
    best: tuple[CommandSpec | None, int] = (None, 0)
    for spec in SPECS:
        words = spec.name.split()
        if lowered[: len(words)] == words and len(words) > best[1]:
            best = (spec, len(words))
    return best


def command_table() -> str:
    """The Markdown table of every command (the README's and docs/commands.md's)."""
    return docs.command_table(SPECS)


def reference_markdown() -> str:
    """docs/commands.md, generated from the specs."""
    return docs.reference_markdown(SPECS)


__all__ = ["SPECS", "Commands", "command_table", "reference_markdown"]
