"""Reading the news: latest, search, story, why, missed (handlers of :class:`Commands`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.config import AppConfig, parse_duration
from bot.core import charts
from bot.core.commands import views
from bot.core.commands.grammar import Call, _a, command
from bot.core.commands.specs import DEFAULT_LATEST, MAX_LATEST, MAX_MISSED, MAX_SEARCH
from bot.core.models import (
    Attachment,
    ItemFate,
    Reply,
    StoredEvidence,
    StoryDetail,
    StoryView,
    Subscription,
)
from bot.core.probe import CommandHooks
from bot.core.usage import UsageError, unknown
from bot.storage import reads
from bot.storage import subscriptions as subs_repo
from bot.storage.db import Database, Tx

TOPIC_CHART_DAYS = 30


async def chart_or_hint(
    filename: str, title: str, draw: Callable[..., bytes], *args: object, wanted: bool = True
) -> tuple[tuple[Attachment, ...], str]:
    """A chart drawn off the event loop as a PNG attachment; without the charts extra, no
    file and the one line that says how to get it."""
    if not wanted:
        return (), ""
    try:
        png = await charts.render(draw, *args)
    except charts.ChartsUnavailable as exc:
        return (), f"(No chart: {exc}.)"
    return (Attachment(filename, png, "image/png", title),), ""


class Reading:
    """The read-only commands; mixed into :class:`~bot.core.commands.Commands`."""

    db: Database
    cfg: AppConfig
    clock: Callable[[], datetime]
    hooks: CommandHooks

    def _topic_ids(self, s: Tx) -> list[str]:
        return [t.id for t in reads.topics(s, self.cfg)]

    def _check_topics(self, s: Tx, given: list[str]) -> list[str]:
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

    @command(
        "latest",
        "latest [topic] [n]",
        "The newest stories, for one topic or all.",
        _a("topic", "topic", required=False),
        _a("n", "int", required=False),
    )
    async def _latest(self, call: Call) -> Reply:
        topic = call.text("topic")
        n = call.number("n", DEFAULT_LATEST)
        if topic.isdigit() and "n" not in call.args:
            topic, n = "", int(topic)
        if not 1 <= n <= MAX_LATEST:
            raise UsageError(f"<n> must be between 1 and {MAX_LATEST}")

        def read(s: Tx) -> list[StoryView]:
            if topic:
                self._check_topics(s, [topic])
            return reads.latest_stories(s, topic.lower() or None, n)

        stories = await self.db.run(read)
        if not stories:
            scope = f" on `{topic}`" if topic else ""
            return Reply(text=f"No stories{scope} yet.")
        return Reply(
            text=f"The latest {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}:",
            fields=tuple(views.story_field(v) for v in stories),
            links=tuple(v.link for v in stories if v.link),
        )

    @command(
        "search",
        "search <words…>",
        "Stored items whose title or summary has the words.",
        _a("words", "words", repeat=True),
    )
    async def _search(self, call: Call) -> Reply:
        words = [w for w in call.words("words") if w.strip()]
        if any(len(w) < 2 for w in words):
            raise UsageError("each search word needs at least two letters")
        hits = await self.db.run(lambda s: reads.search_items(s, words, MAX_SEARCH))
        if not hits:
            return Reply(text=f"No stored item mentions {' '.join(words)}.")
        return Reply(
            text=f"{len(hits)} item(s) mentioning {' '.join(words)}, newest first:",
            fields=tuple(views.hit_field(h) for h in hits),
            links=tuple(h.link for h in hits if h.link),
        )

    @command(
        "story",
        "story <story-id>",
        "A story's reports, oldest first, the stories linked to it, and its timeline (a chart).",
        _a("story", "story"),
    )
    async def _story(self, call: Call) -> Reply:
        key = call.text("story")

        def read(s: Tx) -> StoryDetail:
            detail = reads.story_detail(s, key)
            if detail is None:
                raise unknown("story", key, reads.recent_story_keys(s, 200))
            return detail

        detail = await self.db.run(read)
        reports = [(r.link.published if r.link and r.link.published else r.seen, r.source)
                   for r in detail.reports]  # fmt: skip
        chart, note = await chart_or_hint(
            f"story-{detail.key}.png", f"Story {detail.key}: its reports over time",
            charts.story_timeline, detail.headline, reports, wanted=len(reports) > 1,
        )  # fmt: skip
        return Reply(
            text="\n".join(t for t in (views.detail_text(detail), note) if t),
            fields=views.detail_fields(detail),
            links=views.detail_links(detail),
            attachments=chart,
        )

    @command(
        "why",
        "why <item-id or story-id>",
        "The evidence behind the matcher's decision.",
        _a("item", "item"),
    )
    async def _why(self, call: Call) -> Reply:
        ref = call.text("item")

        def read(s: Tx) -> list[StoredEvidence]:
            found = reads.evidence(s, ref, views.MAX_REPORTS_SHOWN)
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
            fields=tuple(views.evidence_field(e) for e in found),
        )

    @command(
        "missed",
        "missed [24h]",
        "Items seen and not posted here, with the reason.",
        _a("window", "duration", required=False),
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

        def read(s: Tx) -> tuple[Subscription | None, list[ItemFate]]:
            return subs_repo.subscription(s, call.channel), reads.item_fates(s, call.channel, since)

        follows, fates = await self.db.run(read)
        missed = [
            (fate, reason)
            for fate in fates
            if (reason := views.missed_reason(fate, follows, max_age)) is not None
        ]
        if not missed:
            return Reply(text=f"Nothing missed in the last {window_text}.")
        counts = Counter(reason.split(":")[0] for _, reason in missed)
        summary = ", ".join(f"{n} {reason}" for reason, n in counts.most_common())
        return Reply(
            text=f"{len(missed)} item(s) seen in the last {window_text} and not posted "
            f"here ({summary}):",
            fields=tuple(views.missed_field(f, r) for f, r in missed[:MAX_MISSED]),
        )
