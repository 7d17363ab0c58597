"""The `/news …` commands: their specs (one tree for every adapter), the parser, the handlers.

Adapters only translate: they hand a :class:`Command` (the text after ``/news``) to
:meth:`Commands.handle` and render the :class:`Reply`. A user's mistake never raises; it comes
back as an ephemeral Reply with the command's usage and, where possible, the closest valid value.
"""

from __future__ import annotations

import difflib
import logging
import shlex
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.models import ChannelRef, Command, Reply, ReplyField, UserRef
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import FeedbackRow, StoryRow, SubscriptionRow, TopicRow

logger = logging.getLogger(__name__)

MAX_COMPLETIONS = 25
DRY_RUN = "--dry-run"


@dataclass(frozen=True)
class ArgSpec:
    """One argument of a command.

    ``kind`` is one of: topic, source, story, item, text, int, choice, duration, time, tz, url,
    words. ``repeat`` takes one or more values; a final ``text`` argument takes the rest of the
    line. A ``choice`` lists its values in ``choices``.
    """

    name: str
    kind: str
    required: bool = True
    repeat: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    """A leaf of the command tree: ``name`` is the words after ``/news`` (``"admin feeds add"``)."""

    name: str
    usage: str
    summary: str
    admin: bool
    args: tuple[ArgSpec, ...]


@dataclass(frozen=True)
class FeedProbe:
    """The result of fetching a candidate feed once before it is saved."""

    ok: bool
    title: str = ""
    items: int = 0
    problem: str = ""


class CommandHooks(Protocol):
    """What commands need from outside the core's storage (network, the running scheduler)."""

    async def probe_feed(self, url: str) -> FeedProbe:
        """Fetch ``url`` once and check it parses as a feed."""
        ...

    async def fetch_article(self, url: str) -> str:
        """Fetch a web page and return its readable text (for ``admin track <url>``)."""
        ...

    async def poll_interval_changed(self, seconds: float) -> None:
        """Reschedule the running poll job."""
        ...

    async def digest_changed(self, subscription_id: int) -> None:
        """Add, move or remove the digest job of one subscription."""
        ...


class UsageError(Exception):
    """A user's mistake: the message says what was wrong; the handler adds the usage."""


@dataclass(frozen=True)
class Call:
    """A parsed command: its spec, the asker, and the bound arguments."""

    spec: CommandSpec
    user: UserRef
    channel: ChannelRef
    args: dict[str, object] = field(default_factory=dict)
    dry_run: bool = False

    def text(self, name: str, default: str = "") -> str:
        value = self.args.get(name, default)
        return value if isinstance(value, str) else default

    def words(self, name: str) -> list[str]:
        value = self.args.get(name, [])
        return [str(v) for v in value] if isinstance(value, list) else []

    def number(self, name: str, default: int) -> int:
        value = self.args.get(name, default)
        return value if isinstance(value, int) else default


def _a(name: str, kind: str, required: bool = True, repeat: bool = False,
       choices: tuple[str, ...] = ()) -> ArgSpec:  # fmt: skip
    return ArgSpec(name, kind, required, repeat, choices)


_DRY = _a("dry-run", "choice", required=False, choices=(DRY_RUN,))
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

SPECS: tuple[CommandSpec, ...] = (
    CommandSpec("help", "help [command]", "What the bot does and the commands it takes.", False,
                (_a("command", "text", required=False),)),
    CommandSpec("latest", "latest [topic] [n]", "The newest stories, for one topic or all.",
                False, (_a("topic", "topic", required=False), _a("n", "int", required=False))),
    CommandSpec("topics", "topics", "The topics the bot tracks.", False, ()),
    CommandSpec("subscribe", "subscribe <topic…>", "Post new stories on these topics here.",
                False, (_a("topic", "topic", repeat=True),)),
    CommandSpec("unsubscribe", "unsubscribe <topic…>", "Stop posting these topics here.", False,
                (_a("topic", "topic", repeat=True),)),
    CommandSpec("subscriptions", "subscriptions", "This channel's topics and settings.", False,
                ()),
    CommandSpec("search", "search <words…>", "Stored items whose title or summary has the words.",
                False, (_a("words", "words", repeat=True),)),
    CommandSpec("story", "story <story-id>",
                "A story's reports, oldest first, and the stories linked to it.", False,
                (_a("story", "story"),)),
    CommandSpec("why", "why <item-id or story-id>", "The evidence behind the matcher's decision.",
                False, (_a("item", "item"),)),
    CommandSpec("missed", "missed [24h]",
                "Items seen and not posted here, with the reason.", False,
                (_a("window", "duration", required=False),)),
    CommandSpec("digest daily", "digest daily <HH:MM> <time zone>",
                "One message a day with the stories since the last digest.", False,
                (_a("time", "time"), _a("tz", "tz"))),
    CommandSpec("digest weekly", "digest weekly <day> <HH:MM> <time zone>",
                "One message a week with the stories since the last digest.", False,
                (_a("day", "choice", choices=_DAYS), _a("time", "time"), _a("tz", "tz"))),
    CommandSpec("digest off", "digest off", "Stop the digest for this channel.", False, ()),
    CommandSpec("quiet", "quiet <HH:MM-HH:MM> <time zone>",
                "Hold alerts in these hours; release them as one message when they end.", False,
                (_a("hours", "text"), _a("tz", "tz"))),
    CommandSpec("quiet off", "quiet off", "No quiet hours.", False, ()),
    CommandSpec("mute", "mute <source or story-id>",
                "Stop alerts from one outlet or about one story.", False,
                (_a("target", "source"),)),
    CommandSpec("unmute", "unmute <source or story-id>", "Undo a mute.", False,
                (_a("target", "source"),)),
    CommandSpec("mode", "mode <realtime|digest|both>",
                "Alerts as they happen, only in the digest, or both.", False,
                (_a("mode", "choice", choices=("realtime", "digest", "both")),)),
    CommandSpec("follow-ups", "follow-ups <edit|thread>",
                "Later reports edit the post, or also reply in its thread.", False,
                (_a("style", "choice", choices=("edit", "thread")),)),
    CommandSpec("include", "include <word…> | include off",
                "Only alert on stories that contain one of these words.", False,
                (_a("words", "words", repeat=True),)),
    CommandSpec("exclude", "exclude <word…> | exclude off",
                "Never alert on stories that contain one of these words.", False,
                (_a("words", "words", repeat=True),)),
    CommandSpec("cap", "cap <alerts per hour> | cap off",
                "At most this many alerts an hour; the rest go to the next digest.", False,
                (_a("n", "text"),)),
    # admin
    CommandSpec("admin feeds list", "admin feeds list", "Feeds, their health and last fetch.",
                True, ()),
    CommandSpec("admin feeds add", "admin feeds add <url> [name]",
                "Fetch a feed once, check it, and poll it from now on.", True,
                (_a("url", "url"), _a("name", "text", required=False))),
    CommandSpec("admin feeds remove", "admin feeds remove <feed>", "Stop polling a feed.", True,
                (_a("feed", "source"),)),
    CommandSpec("admin feeds pause", "admin feeds pause <feed>", "Pause polling a feed.", True,
                (_a("feed", "source"),)),
    CommandSpec("admin feeds resume", "admin feeds resume <feed>", "Resume a paused feed.", True,
                (_a("feed", "source"),)),
    CommandSpec("admin topics show", "admin topics show [topic]",
                "A topic's description, terms and threshold.", True,
                (_a("topic", "topic", required=False),)),
    CommandSpec("admin topics edit",
                "admin topics edit <topic> terms add|remove <term, term…> | "
                "description <text> [--dry-run]",
                "Change a topic's terms or description.", True,
                (_a("topic", "topic"), _a("field", "choice", choices=("terms", "description")),
                 _a("change", "text"), _DRY)),
    CommandSpec("admin track", "admin track <article text or URL>",
                "Suggest topic terms from an article, for you to accept.", True,
                (_a("article", "text"),)),
    CommandSpec("admin threshold", "admin threshold <topic|relevance|story> <value> [--dry-run]",
                "Change a relevance or story-grouping threshold.", True,
                (_a("target", "topic"), _a("value", "text"), _DRY)),
    CommandSpec("admin schedule poll", "admin schedule poll <interval>",
                "How often feeds are polled (e.g. 10m).", True, (_a("interval", "duration"),)),
    CommandSpec("admin audit", "admin audit [n]", "The latest admin changes.", True,
                (_a("n", "int", required=False),)),
    CommandSpec("admin revert", "admin revert <audit-id>",
                "Undo an admin change (recorded as a new change).", True,
                (_a("audit-id", "int"),)),
    CommandSpec("admin export", "admin export", "The current config as YAML.", True, ()),
)  # fmt: skip

Handler = Callable[[Call], Awaitable[Reply]]


def error_reply(spec: CommandSpec | None, problem: str) -> Reply:
    usage = f"\nUsage: `/news {spec.usage}`" if spec else "\nTry `/news help`."
    return Reply(text=f"{problem}{usage}", ok=False, ephemeral=True)


def closest(word: str, options: Sequence[str]) -> str | None:
    found = difflib.get_close_matches(word, list(options), n=1, cutoff=0.5)
    return found[0] if found else None


def unknown(what: str, word: str, options: Sequence[str]) -> UsageError:
    guess = closest(word.lower(), options)
    hint = f"; did you mean `{guess}`?" if guess else ""
    return UsageError(f"unknown {what} `{word}`{hint}")


def tokenize(text: str) -> list[str]:
    """Split like a shell (quotes group words); an unbalanced quote falls back to spaces."""
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def find_spec(tokens: list[str]) -> tuple[CommandSpec | None, int]:
    """The longest command name that the first tokens spell, and how many tokens it took."""
    lowered = [t.lower() for t in tokens]
    best: tuple[CommandSpec | None, int] = (None, 0)
    for spec in SPECS:
        words = spec.name.split()
        if lowered[: len(words)] == words and len(words) > best[1]:
            best = (spec, len(words))
    return best


class Commands:
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
        self.hooks = hooks
        self.clock = clock or (lambda: datetime.now(UTC))
        self._handlers: dict[str, Handler] = {
            "help": self._help,
            "topics": self._topics,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "subscriptions": self._subscriptions,
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
        if spec.admin and not cmd.user.is_admin:
            return Reply(text="admins only: ask a workspace admin to run this.", ok=False)
        try:
            call = self._bind(spec, tokens[used:], cmd)
            handler = self._handlers.get(spec.name)
            if handler is None:
                return Reply(text=f"`/news {spec.name}` is not available yet.", ok=False)
            return await handler(call)
        except UsageError as exc:
            return error_reply(spec, str(exc))

    async def feedback(
        self, story_key: str, user: UserRef, channel: ChannelRef, verdict: str = "not_relevant"
    ) -> Reply:
        now = self.clock()

        def write(s: Session) -> bool:
            story = s.scalars(select(StoryRow).where(StoryRow.key == story_key)).one_or_none()
            if story is None:
                return False
            s.add(FeedbackRow(story_id=story.id, platform=channel.platform,
                              workspace=channel.workspace, channel=channel.channel,
                              user=user.user, verdict=verdict, at=now))  # fmt: skip
            return True

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
        return []

    # -- parsing --------------------------------------------------------------------------

    def _unknown_command(self, tokens: list[str]) -> Reply:
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
            if arg.repeat:
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

    # -- shared lookups -------------------------------------------------------------------

    def _topic_rows(self, s: Session) -> list[TopicRow]:
        rows = list(s.scalars(select(TopicRow)))
        if not rows:  # not seeded yet: the config's topics are the truth
            return [
                TopicRow(
                    id=t.id,
                    name=t.name,
                    description=t.description,
                    terms=list(t.terms),
                    threshold=t.threshold,
                    extra={"position": i},
                )
                for i, t in enumerate(self.cfg.topics)
            ]
        return sorted(rows, key=lambda r: (int((r.extra or {}).get("position", 999)), r.id))

    def _topic_ids(self, s: Session) -> list[str]:
        return [r.id for r in self._topic_rows(s)]

    def _check_topics(self, s: Session, given: list[str]) -> list[str]:
        known = self._topic_ids(s)
        out: list[str] = []
        for word in given:
            for part in word.replace(",", " ").split():
                topic = part.strip().lower()
                if topic not in known:
                    raise unknown("topic", part, known)
                if topic not in out:
                    out.append(topic)
        return out

    # -- everyone -------------------------------------------------------------------------

    async def _help(self, call: Call) -> Reply:
        wanted = call.text("command").lower()
        shown = [s for s in SPECS if not s.admin or call.user.is_admin]
        if wanted:
            shown = [s for s in shown if s.name == wanted or s.name.startswith(wanted + " ")]
            if not shown:
                raise unknown("command", wanted, sorted({s.name for s in SPECS}))
        lines = [f"`/news {s.usage}` — {s.summary}" for s in shown]
        head = "newsbot follows US–India defence ties and posts stories to subscribed channels."
        return Reply(text=head + "\n" + "\n".join(lines))

    async def _topics(self, call: Call) -> Reply:
        rows = await self.db.run(self._topic_rows)
        fields = tuple(ReplyField(f"{r.name} (`{r.id}`)", r.description) for r in rows)
        return Reply(text=f"{len(rows)} topics. Subscribe with `/news subscribe <topic>`.",
                     fields=fields)  # fmt: skip

    async def _subscribe(self, call: Call) -> Reply:
        now = self.clock()

        def write(s: Session) -> list[str]:
            topics = self._check_topics(s, call.words("topic"))
            row = subs_repo.get_or_create(s, call.channel, now=now, created_by=call.user.user)
            row.topics = list(dict.fromkeys([*row.topics, *topics]))
            return list(row.topics)

        topics = await self.db.run(write)
        text = f"This channel now follows: {', '.join(topics)}. New stories only, from now on."
        return Reply(text=text, ephemeral=False)

    async def _unsubscribe(self, call: Call) -> Reply:
        def write(s: Session) -> list[str] | None:
            topics = self._check_topics(s, call.words("topic"))
            row = subs_repo.find(s, call.channel)
            if row is None:
                return None
            row.topics = [t for t in row.topics if t not in topics]
            return list(row.topics)

        left = await self.db.run(write)
        if left is None:
            return Reply(text="This channel has no subscriptions.", ok=False)
        rest = ", ".join(left) if left else "nothing (no more alerts here)"
        return Reply(text=f"This channel now follows: {rest}.", ephemeral=False)

    async def _subscriptions(self, call: Call) -> Reply:
        row = await self.db.run(lambda s: subs_repo.find(s, call.channel))
        if row is None or not row.topics:
            return Reply(text="This channel follows no topics. Try `/news subscribe <topic>`.")
        return Reply(text=f"This channel follows: {', '.join(row.topics)}.",
                     fields=describe_subscription(row))  # fmt: skip


def describe_subscription(row: SubscriptionRow) -> tuple[ReplyField, ...]:
    quiet = f"{row.quiet_start}-{row.quiet_end} {row.timezone}" if row.quiet_start else "off"
    digest = row.digest or {}
    digest_text = (
        f"{digest.get('every')} {digest.get('day', '')} {digest.get('at')} {digest.get('tz')}"
        .replace("  ", " ") if digest else "off"
    )  # fmt: skip
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
