"""Admin edits from chat: feeds, topics, thresholds, poll schedule; the audit trail and revert.

Every change goes through :meth:`Admin.change`: snapshot the entity, apply the new state,
snapshot again and write one audit entry, all in one transaction. ``revert`` applies an
entry's ``before`` snapshot the same way, as a new audited change; nothing is deleted from
the trail. Topic and threshold edits take ``--dry-run``, which replays the edit over the last
seven days of stored items with the real matcher and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.config import AppConfig, parse_duration
from bot.core import audittrail, feed_admin
from bot.core.feedback_report import feedback_reply, parse_days
from bot.core.models import AuditEntry, FlaggedStory, Item, Reply, ReplyField, UserRef
from bot.core.probe import CommandHooks
from bot.core.regroup import regroup
from bot.core.replay import replay
from bot.core.track import suggest_terms
from bot.core.usage import UsageError, unknown
from bot.storage import admin as store
from bot.storage import audit as audit_repo
from bot.storage.configstore import is_seeded, load_runtime
from bot.storage.db import Database, Tx
from bot.storage.flagged import flagged_stories
from bot.storage.items import items_since, stories_of
from bot.storage.scratch import scratch_session

logger = logging.getLogger(__name__)

ADMINS_ONLY = (
    "admins only: bot-wide settings (feeds, topics, thresholds, schedules) are for the bot's "
    "owners (admins.slack_users / admins.discord_users in its config, or the admins of its "
    "Slack workspace); ask one to run this. A server admin manages their own channels' "
    "settings (subscribe, digest, quiet, mute …)."
)
REPLAY_DAYS = 7
FLAGGED_READ = 100  # flagged stories read for one report (five are shown)
MIN_POLL_SECONDS = 60.0
MAX_POLL_SECONDS = 86400.0


def who(user: UserRef) -> str:
    return f"{user.platform}:{user.workspace}:{user.user}" + (
        f" ({user.name})" if user.name else ""
    )


class Admin:
    """The admin commands' logic. Handlers return a Reply; user mistakes raise UsageError."""

    def __init__(
        self,
        db: Database,
        cfg: AppConfig,
        hooks: CommandHooks,
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.hooks = hooks
        self.clock = clock

    # -- the one way to change something --------------------------------------------------

    def change(
        self,
        s: Tx,
        user: UserRef,
        action: str,
        entity: str,
        state: store.Snapshot,
        *,
        reverts_id: int | None = None,
    ) -> AuditEntry | None:
        """Apply ``state`` to ``entity`` and audit it, in the caller's transaction.

        Returns None when the state is already so (nothing changed, nothing audited).
        """
        before = store.snapshot(s, entity)
        if before == state:
            return None
        now = self.clock()
        store.apply(s, entity, state, now=now, by=who(user))
        after = store.snapshot(s, entity)
        entry = audit_repo.record(
            s,
            user,
            action=action,
            target=entity,
            before=before,
            after=after,
            now=now,
            reverts_id=reverts_id,
        )
        logger.info("audit %s: %s %s by %s", entry.id, action, entity, who(user))
        return entry

    def live(self, s: Tx) -> AppConfig:
        """The config as the database holds it now (the YAML's until first seeded)."""
        return load_runtime(s) if is_seeded(s) else self.cfg

    async def _after(self, entity: str, state: store.Snapshot) -> None:
        """Tell the running scheduler about a change that moves a job."""
        if entity == store.setting_key("poll") and state is not None:
            await self.hooks.poll_interval_changed(float(state["value"]["interval"]))

    # -- feeds ----------------------------------------------------------------------------

    async def feeds_list(self) -> Reply:
        return await feed_admin.feeds_list(self)

    async def feeds_add(self, user: UserRef, url: str, name: str) -> Reply:
        return await feed_admin.feeds_add(self, user, url, name)

    async def feeds_allow_private(self, user: UserRef, ref: str, state: str) -> Reply:
        return await feed_admin.feeds_allow_private(self, user, ref, state)

    async def feeds_set(self, user: UserRef, ref: str, action: str) -> Reply:
        def write(s: Tx) -> tuple[str, AuditEntry | None]:
            feed = store.find_feed(s, ref)
            if feed is None:
                raise unknown("feed", ref, [f.name for f in store.feeds(s)])
            entity = store.feed_key(feed.url)
            state = store.snapshot(s, entity)
            assert state is not None
            if action == "remove":
                new: store.Snapshot = None
            else:
                new = {**state, "paused": action == "pause"}
            return feed.name, self.change(s, user, f"feeds.{action}", entity, new)

        name, entry = await self.db.run(write)
        if entry is None:
            return Reply(text=f"Feed **{name}** is already {action}d.")
        done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
        return Reply(
            text=f"Feed **{name}** {done}. Audit #{entry.id}; undo with "
            f"`/news admin revert {entry.id}`.",
            ephemeral=False,
        )

    # -- topics ---------------------------------------------------------------------------

    def _topic(self, cfg: AppConfig, topic_id: str) -> Any:
        ids = [t.id for t in cfg.topics]
        if topic_id.lower() not in ids:
            raise unknown("topic", topic_id, ids)
        return next(t for t in cfg.topics if t.id == topic_id.lower())

    async def topics_show(self, topic_id: str) -> Reply:
        cfg = await self.db.run(self.live)
        topics = [self._topic(cfg, topic_id)] if topic_id else cfg.topics
        default = cfg.thresholds.relevance
        fields = tuple(
            ReplyField(
                f"{t.name} (`{t.id}`)",
                f"{t.description}\nterms: {', '.join(t.terms) or '(none)'}\n"
                f"threshold: {t.threshold if t.threshold is not None else f'{default} (default)'}",
            )
            for t in topics
        )
        return Reply(text=f"{len(topics)} topic(s).", fields=fields)

    async def topics_edit(
        self, user: UserRef, topic_id: str, what: str, change: str, dry_run: bool
    ) -> Reply:
        cfg = await self.db.run(self.live)
        topic = self._topic(cfg, topic_id)
        if what == "description":
            if not change.strip():
                raise UsageError("missing the new description")
            edited = topic.model_copy(update={"description": change.strip()})
        else:
            op, _, rest = change.strip().partition(" ")
            if op.lower() not in ("add", "remove"):
                raise unknown("terms operation", op, ["add", "remove"])
            terms = [t.strip() for t in rest.split(",") if t.strip()]
            if not terms:
                raise UsageError("missing the terms (separate several with commas)")
            if op.lower() == "add":
                new_terms = list(dict.fromkeys([*topic.terms, *terms]))
            else:
                missing = [t for t in terms if t not in topic.terms]
                if missing:
                    raise unknown("term", missing[0], list(topic.terms))
                new_terms = [t for t in topic.terms if t not in terms]
            edited = topic.model_copy(update={"terms": new_terms})
        new_cfg = _with_topic(cfg, edited)
        if dry_run:
            return await self.dry_run(cfg, new_cfg, f"topics edit {topic.id} {what}")

        def write(s: Tx) -> AuditEntry | None:
            entity = store.topic_key(topic.id)
            state = store.snapshot(s, entity) or _topic_state(topic, cfg)
            new = {**state, "description": edited.description, "terms": list(edited.terms)}
            return self.change(s, user, "topics.edit", entity, new)

        entry = await self.db.run(write)
        if entry is None:
            return Reply(text=f"`{topic.id}` already says that; nothing changed.")
        return Reply(
            text=f"Topic `{topic.id}` {what} updated; applies from the next poll. "
            f"Audit #{entry.id}.",
            ephemeral=False,
        )

    async def threshold(self, user: UserRef, target: str, value: str, dry_run: bool) -> Reply:
        try:
            number = float(value)
        except ValueError:
            raise UsageError(f"<value> must be a number between 0 and 1, not `{value}`") from None
        if not 0.0 <= number <= 1.0:
            raise UsageError(f"<value> must be between 0 and 1, not {number}")
        cfg = await self.db.run(self.live)
        target = target.lower()
        if target in ("relevance", "story"):
            new_cfg = cfg.model_copy(
                update={"thresholds": cfg.thresholds.model_copy(update={target: number})}
            )
            entity = store.setting_key("thresholds")
        else:
            topic = self._topic_or_global(cfg, target)
            new_cfg = _with_topic(cfg, topic.model_copy(update={"threshold": number}))
            entity = store.topic_key(topic.id)
        if dry_run:
            return await self.dry_run(cfg, new_cfg, f"threshold {target} {number}")

        def write(s: Tx) -> AuditEntry | None:
            if entity.startswith("setting:"):
                new: store.Snapshot = {"value": new_cfg.thresholds.model_dump(mode="json")}
            else:
                topic = self._topic(cfg, target)
                state = store.snapshot(s, entity) or _topic_state(topic, cfg)
                new = {**state, "threshold": number}
            return self.change(s, user, "threshold", entity, new)

        entry = await self.db.run(write)
        if entry is None:
            return Reply(text=f"The {target} threshold is already {number}.")
        return Reply(
            text=f"Threshold {target} is now {number}; applies from the next poll. "
            f"Audit #{entry.id}.",
            ephemeral=False,
        )

    def _topic_or_global(self, cfg: AppConfig, target: str) -> Any:
        ids = [t.id for t in cfg.topics]
        if target not in ids:
            raise unknown("threshold target", target, [*ids, "relevance", "story"])
        return self._topic(cfg, target)

    # -- dry run --------------------------------------------------------------------------

    async def dry_run(self, old: AppConfig, new: AppConfig, label: str) -> Reply:
        since = self.clock() - timedelta(days=REPLAY_DAYS)
        if old.thresholds.story != new.thresholds.story:
            return await self.regroup_dry_run(old, new, label, since)

        def read(s: Tx) -> tuple[list[Item], dict[int, int]]:
            week = items_since(s, since)
            return week, stories_of(s, [i.id for i in week])

        week, story_of = await self.db.run(read)
        result = await asyncio.to_thread(replay, week, story_of, old, new)
        return Reply(
            text=f"Dry run of `{label}` over {result.items} items of the last "
            f"{REPLAY_DAYS} days (nothing changed):",
            fields=result.fields(),
        )

    async def regroup_dry_run(
        self, old: AppConfig, new: AppConfig, label: str, since: datetime
    ) -> Reply:
        """A story-threshold edit regroups the week with the real grouper, off the live rows."""
        week = await self.db.run(lambda s: items_since(s, since))
        result = await asyncio.to_thread(regroup, week, old, new, scratch_session)
        return Reply(
            text=f"Dry run of `{label}`: the relevant reports of the last {REPLAY_DAYS} days "
            "regrouped from scratch under the current and the proposed threshold (the live "
            "stories are untouched):",
            fields=result.fields(),
        )

    # -- feedback -------------------------------------------------------------------------

    async def feedback(self, days_text: str) -> Reply:
        """Flagged stories, their evidence, and the checked changes that would stop them."""
        days = parse_days(days_text)
        now = self.clock()

        def read(s: Tx) -> tuple[AppConfig, list[FlaggedStory], list[Item]]:
            stories = flagged_stories(s, now - timedelta(days=days), FLAGGED_READ)
            return self.live(s), stories, items_since(s, now - timedelta(days=REPLAY_DAYS))

        cfg, stories, week = await self.db.run(read)
        return await asyncio.to_thread(feedback_reply, cfg, stories, week, days)

    # -- track ----------------------------------------------------------------------------

    async def track(self, article: str) -> Reply:
        text = article.strip()
        if re.match(r"^https?://\S+$", text):
            poll = await self.db.run(lambda s: self.live(s).poll)
            await feed_admin.refuse_private_address(text, allow_private=False)
            text = await self.hooks.fetch_article(text, poll)
        if len(text.split()) < 5:
            raise UsageError("give the article's text (a paragraph or more) or its URL")
        cfg = await self.db.run(self.live)
        suggestions = suggest_terms(text, cfg)
        if not suggestions:
            return Reply(
                text="No new candidate terms found: the topics already cover this article."
            )
        fields = tuple(
            ReplyField(
                topic,
                f"{', '.join(terms)}\naccept: `/news admin topics edit {topic} "
                f"terms add {', '.join(terms)}`",
            )
            for topic, terms in suggestions.items()
        )
        return Reply(
            text="Candidate terms from the article, by the topic they fit best "
            "(add them with the command shown, or try --dry-run first):",
            fields=fields,
        )

    # -- schedule, audit, revert, export --------------------------------------------------

    async def schedule_poll(self, user: UserRef, interval: str) -> Reply:
        try:
            seconds = parse_duration(interval)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if not MIN_POLL_SECONDS <= seconds <= MAX_POLL_SECONDS:
            raise UsageError("the poll interval must be between 1m and 24h")

        def write(s: Tx) -> tuple[AuditEntry | None, store.Snapshot]:
            poll = dict(store.setting(s, "poll", self.cfg))
            entity = store.setting_key("poll")
            new = {"value": {**poll, "interval": seconds}}
            return self.change(s, user, "schedule.poll", entity, new), new

        entry, state = await self.db.run(write)
        if entry is None:
            return Reply(text=f"Feeds are already polled every {interval}.")
        await self._after(store.setting_key("poll"), state)
        return Reply(
            text=f"Feeds are now polled every {_human(seconds)}. Audit #{entry.id}.",
            ephemeral=False,
        )

    async def audit(self, n: int) -> Reply:
        return await audittrail.audit(self, n)

    async def revert(self, user: UserRef, audit_id: int) -> Reply:
        return await audittrail.revert(self, user, audit_id)

    async def export(self) -> Reply:
        return await audittrail.export(self)


def _human(seconds: float) -> str:
    if seconds % 3600 == 0:
        return f"{int(seconds // 3600)}h"
    if seconds % 60 == 0:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds)}s"


def _with_topic(cfg: AppConfig, topic: Any) -> AppConfig:
    topics = [topic if t.id == topic.id else t for t in cfg.topics]
    return cfg.model_copy(update={"topics": topics})


def _topic_state(topic: Any, cfg: AppConfig) -> dict[str, Any]:
    position = [t.id for t in cfg.topics].index(topic.id)
    return {
        "id": topic.id,
        "name": topic.name,
        "description": topic.description,
        "terms": list(topic.terms),
        "threshold": topic.threshold,
        "extra": {"actors": list(topic.actors), "position": position},
    }


# -- replay -------------------------------------------------------------------------------
