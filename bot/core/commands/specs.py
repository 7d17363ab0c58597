"""Every `/news …` command's spec, in the order `help` lists them (one tree for all adapters),
and the limits the handlers share."""

from __future__ import annotations

from bot.core.commands.grammar import (
    DRY_RUN,
    CommandSpec,
    _a,
)

MAX_COMPLETIONS = 25
DEFAULT_LATEST = 5
MAX_LATEST = 20
MAX_SEARCH = 10
MAX_MISSED = 15
MODES = {"realtime": "alerts as stories happen", "digest": "only in the digest",
         "both": "alerts as they happen and the digest"}  # fmt: skip


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


def find_spec(tokens: list[str]) -> tuple[CommandSpec | None, int]:
    """The longest command name that the first tokens spell, and how many tokens it took."""
    lowered = [t.lower() for t in tokens]
    best: tuple[CommandSpec | None, int] = (None, 0)
    for spec in SPECS:
        words = spec.name.split()
        if lowered[: len(words)] == words and len(words) > best[1]:
            best = (spec, len(words))
    return best
