"""The `/news …` commands: their specs (one tree for every adapter), the parser, the handlers.

Adapters only translate: they hand a :class:`Command` (the text after ``/news``) to
:meth:`Commands.handle` and render the :class:`Reply`. A user's mistake never raises; it comes
back as an ephemeral Reply with the command's usage and, where possible, the closest valid value.
"""

from __future__ import annotations

import functools
import logging
import re
import shlex
import zoneinfo
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig, parse_duration
from bot.core import news
from bot.core.admin import ADMINS_ONLY, Admin, CommandHooks, DefaultHooks
from bot.core.models import ChannelRef, Command, Reply, ReplyField, UserRef
from bot.core.news import StoryView
from bot.core.usage import UsageError, closest, unknown
from bot.core.walkthrough import WALKTHROUGH
from bot.storage import admin as admin_store
from bot.storage import audit as audit_repo
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database
from bot.storage.tables import FeedbackRow, StoryRow, SubscriptionRow, TopicRow

logger = logging.getLogger(__name__)

MAX_COMPLETIONS = 25
DEFAULT_LATEST = 5
MAX_LATEST = 20
MAX_SEARCH = 10
MAX_MISSED = 15
MODES = {"realtime": "alerts as stories happen", "digest": "only in the digest",
         "both": "alerts as they happen and the digest"}  # fmt: skip
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


def _a(
    name: str, kind: str, required: bool = True, repeat: bool = False, choices: tuple[str, ...] = ()
) -> ArgSpec:
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
    CommandSpec("admin feeds add", "admin feeds add <url> [name] [--allow-private]",
                "Fetch a feed once, check it, and poll it from now on; --allow-private lets "
                "it be on your own network.", True,
                (_a("url", "url"), _a("name", "text", required=False))),
    CommandSpec("admin feeds allow-private", "admin feeds allow-private <feed> on|off",
                "Let a feed reach its own host on a private network (or stop it).", True,
                (_a("feed", "source"), _a("state", "choice", choices=("on", "off")))),
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
    CommandSpec("admin feedback", "admin feedback [--days N]",
                "Stories readers flagged not relevant: why they passed, what would stop them.",
                True, (_a("days", "text", required=False),)),
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
        self.hooks: CommandHooks = hooks or DefaultHooks()
        self.clock = clock or (lambda: datetime.now(UTC))
        self.admin = Admin(db, cfg, self.hooks, self.clock)
        self._handlers: dict[str, Handler] = {
            "help": self._help,
            "latest": self._latest,
            "topics": self._topics,
            "subscribe": self._subscribe,
            "unsubscribe": self._unsubscribe,
            "subscriptions": self._subscriptions,
            "search": self._search,
            "story": self._story,
            "why": self._why,
            "missed": self._missed,
            "digest daily": self._digest,
            "digest weekly": self._digest,
            "digest off": self._digest,
            "quiet": self._quiet,
            "quiet off": self._quiet,
            "mute": self._mute,
            "unmute": self._unmute,
            "mode": self._mode,
            "follow-ups": self._follow_ups,
            "include": self._words,
            "exclude": self._words,
            "cap": self._cap,
            "admin feeds list": lambda c: self.admin.feeds_list(),
            "admin feeds add": lambda c: self.admin.feeds_add(c.user, c.text("url"),
                                                              c.text("name")),
            "admin feeds allow-private": lambda c: self.admin.feeds_allow_private(
                c.user, c.text("feed"), c.text("state")),
            "admin feeds remove": lambda c: self.admin.feeds_set(c.user, c.text("feed"), "remove"),
            "admin feeds pause": lambda c: self.admin.feeds_set(c.user, c.text("feed"), "pause"),
            "admin feeds resume": lambda c: self.admin.feeds_set(c.user, c.text("feed"), "resume"),
            "admin topics show": lambda c: self.admin.topics_show(c.text("topic")),
            "admin topics edit": lambda c: self.admin.topics_edit(
                c.user, c.text("topic"), c.text("field"), c.text("change"), c.dry_run),
            "admin track": lambda c: self.admin.track(c.text("article")),
            "admin threshold": lambda c: self.admin.threshold(
                c.user, c.text("target"), c.text("value"), c.dry_run),
            "admin feedback": lambda c: self.admin.feedback(c.text("days")),
            "admin schedule poll": lambda c: self.admin.schedule_poll(c.user, c.text("interval")),
            "admin audit": lambda c: self.admin.audit(c.number("n", 10)),
            "admin revert": lambda c: self.admin.revert(c.user, c.number("audit-id", 0)),
            "admin export": lambda c: self.admin.export(),
        }  # fmt: skip

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

    async def feedback(
        self, story_key: str, user: UserRef, channel: ChannelRef, verdict: str = "not_relevant"
    ) -> Reply:
        now = self.clock()

        def write(s: Session) -> bool:
            story = s.scalars(select(StoryRow).where(StoryRow.key == story_key)).one_or_none()
            if story is None:
                return False
            s.add(
                FeedbackRow(
                    story_id=story.id,
                    platform=channel.platform,
                    workspace=channel.workspace,
                    channel=channel.channel,
                    user=user.user,
                    verdict=verdict,
                    at=now,
                )
            )
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
        if kind in ("story", "item"):
            return await self.db.run(lambda s: news.recent_story_keys(s, 200))
        if kind == "source":

            def sources(s: Session) -> list[str]:
                row = subs_repo.find(s, channel) if channel is not None else None
                muted = [*row.muted_sources, *row.muted_stories] if row is not None else []
                return list(dict.fromkeys([*muted, *news.known_sources(s)]))

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
        shown = [s for s in SPECS if not s.admin or call.user.is_owner]
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
        return Reply(
            text=f"{len(rows)} topics. Subscribe with `/news subscribe <topic>`.", fields=fields
        )

    async def _subscribe(self, call: Call) -> Reply:
        now = self.clock()

        def write(s: Session) -> list[str]:
            topics = self._check_topics(s, call.words("topic"))
            row = subs_repo.get_or_create(s, call.channel, now=now, created_by=call.user.user)
            if not row.topics:
                # Following nothing until now: start from now, not from the first subscription.
                row.since = now
            row.topics = list(dict.fromkeys([*row.topics, *topics]))
            # Subscribing again is how a channel paused by a delivery failure comes back.
            row.paused, row.paused_reason = False, None
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

    # -- reading the news -----------------------------------------------------------------

    async def _latest(self, call: Call) -> Reply:
        topic = call.text("topic")
        n = call.number("n", DEFAULT_LATEST)
        if topic.isdigit() and "n" not in call.args:
            topic, n = "", int(topic)
        if not 1 <= n <= MAX_LATEST:
            raise UsageError(f"<n> must be between 1 and {MAX_LATEST}")

        def read(s: Session) -> list[StoryView]:
            if topic:
                self._check_topics(s, [topic])
            return news.latest_stories(s, topic.lower() or None, n)

        stories = await self.db.run(read)
        if not stories:
            scope = f" on `{topic}`" if topic else ""
            return Reply(text=f"No stories{scope} yet.")
        return Reply(
            text=f"The latest {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}:",
            fields=tuple(v.field() for v in stories),
            links=tuple(v.link for v in stories if v.link),
        )

    async def _search(self, call: Call) -> Reply:
        words = [w for w in call.words("words") if w.strip()]
        if any(len(w) < 2 for w in words):
            raise UsageError("each search word needs at least two letters")
        hits = await self.db.run(lambda s: news.search_items(s, words, MAX_SEARCH))
        if not hits:
            return Reply(text=f"No stored item mentions {' '.join(words)}.")
        return Reply(
            text=f"{len(hits)} item(s) mentioning {' '.join(words)}, newest first:",
            fields=tuple(h.field() for h in hits),
            links=tuple(h.link for h in hits if h.link),
        )

    async def _story(self, call: Call) -> Reply:
        key = call.text("story")

        def read(s: Session) -> news.StoryDetail:
            detail = news.story_detail(s, key)
            if detail is None:
                raise unknown("story", key, news.recent_story_keys(s, 200))
            return detail

        detail = await self.db.run(read)
        return Reply(text=detail.text(), fields=detail.fields(), links=detail.links)

    async def _why(self, call: Call) -> Reply:
        ref = call.text("item")

        def read(s: Session) -> list[news.Evidence]:
            found = news.evidence(s, ref)
            if found is None:
                raise UsageError(
                    f"no item or story `{ref}`; give an item id (from `/news "
                    "search`) or a story id (from `/news latest`)"
                )
            return found

        found = await self.db.run(read)
        if not found:
            return Reply(text=f"`{ref}` has not been matched yet (it is matched at the next poll).")
        return Reply(
            text=f"Why the matcher decided as it did on `{ref}`:",
            fields=tuple(e.field() for e in found),
        )

    async def _missed(self, call: Call) -> Reply:
        window_text = call.text("window", "24h")
        try:
            seconds = parse_duration(window_text)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not 60 <= seconds <= 30 * 86400:
            raise UsageError("the window must be between 1m and 30d")
        since, max_age = self.clock() - timedelta(seconds=seconds), self.cfg.poll.max_age
        missed = await self.db.run(lambda s: news.missed_items(s, call.channel, since, max_age))
        if not missed:
            return Reply(text=f"Nothing missed in the last {window_text}.")
        counts = Counter(m.reason.split(":")[0] for m in missed)
        summary = ", ".join(f"{n} {reason}" for reason, n in counts.most_common())
        return Reply(
            text=f"{len(missed)} item(s) seen in the last {window_text} and not posted "
            f"here ({summary}):",
            fields=tuple(m.field() for m in missed[:MAX_MISSED]),
        )

    # -- channel settings -----------------------------------------------------------------

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

    async def _mute(self, call: Call) -> Reply:
        target = call.text("target").strip()

        def edit(s: Session, row: SubscriptionRow) -> str:
            story = news.story_by_key(s, target)
            if story is not None:
                row.muted_stories = list(dict.fromkeys([*row.muted_stories, story.key]))
                return f"Muted story `{story.key}` here: no more updates about it."
            sources = news.known_sources(s)
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
    m = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text.strip())
    if not m:
        raise UsageError(f"`{text}` is not a time; write HH:MM, e.g. 08:30")
    return f"{int(m.group(1)):02d}:{m.group(2)}"


def check_tz(text: str) -> str:
    """A valid IANA time zone name (case-insensitive), or the closest one as a suggestion."""
    if not text:
        raise UsageError("missing <time zone>, e.g. Asia/Kolkata or UTC")
    zones = _zones()
    found = zones.get(text.lower())
    if found is None:
        raise unknown("time zone", text, sorted(zones.values()))
    return found


@functools.cache
def _zones() -> dict[str, str]:
    return {z.lower(): z for z in zoneinfo.available_timezones()}


def _split_words(text: str) -> list[str]:
    parts = re.split(r"[,\s]+", text) if "," not in text else text.split(",")
    return list(dict.fromkeys(p.strip().lower() for p in parts if p.strip()))


# -- the generated command reference (docs/commands.md) -----------------------------------


def command_table(specs: Sequence[CommandSpec] = SPECS) -> str:
    """The Markdown table of every command; the README and docs/commands.md both carry it."""
    lines = ["| command | what it does | who |", "|---|---|---|"]
    for spec in specs:
        usage = spec.usage.replace("|", "\\|")
        who = "admins" if spec.admin else "everyone"
        lines.append(f"| `/news {usage}` | {spec.summary} | {who} |")
    return "\n".join(lines)


def reference_markdown(specs: Sequence[CommandSpec] = SPECS) -> str:
    """The command reference; docs/commands.md is this text, checked by a test."""
    lines = [
        "# newsbot commands",
        "",
        "Generated from the command specs in `bot/core/commands.py` by",
        "`python -m bot.core.commands > docs/commands.md`; a test fails when it drifts.",
        "Type them after `/news` in Slack or Discord, or in `newsbot console`.",
        "A wrong or missing argument gets the command's usage and the closest valid value.",
        "",
        command_table(specs),
        "",
        WALKTHROUGH,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference_markdown(), end="")
