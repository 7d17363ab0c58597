"""The config file against the database: which entities differ, and making them equal.

After the first start the database is what runs (chat edits land there), so an edit to the
YAML file changes nothing by itself. ``differences`` says what the file would change;
``apply_file`` applies it entity by entity through the same snapshot/apply path as chat
edits, each with its audit entry, so one ``/news admin revert`` undoes one of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.models import UserRef
from bot.storage import admin as store
from bot.storage import audit
from bot.storage.configstore import SETTING_SECTIONS
from bot.storage.tables import FeedRow, SettingRow, TopicRow

Snapshot = dict[str, Any] | None
CONFIG_FILE_USER = UserRef(platform="cli", workspace="", user="config-apply", name="config file")


@dataclass(frozen=True, slots=True)
class EntityChange:
    """One entity the file and the database disagree on: ``before`` is the database's state,
    ``after`` the file's (None: absent on that side)."""

    entity: str
    before: Snapshot
    after: Snapshot


def differences(session: Session, cfg: AppConfig) -> list[EntityChange]:
    """What applying ``cfg`` would change, settings first, then topics, then feeds."""
    stored = _stored_entities(session)
    wanted = _file_entities(cfg)
    changes = []
    for entity in _ordered(set(stored) | set(wanted)):
        before = store.snapshot(session, entity) if entity in stored else None
        after = wanted.get(entity)
        if entity.startswith("feed:") and before is not None and after is not None:
            # The file has no notion of a paused feed: one an admin paused stays paused.
            after = {**after, "paused": before.get("paused", False)}
        if before != after:
            changes.append(EntityChange(entity, before, after))
    return changes


def apply_file(
    session: Session,
    cfg: AppConfig,
    *,
    now: datetime,
    user: UserRef = CONFIG_FILE_USER,
    steps: Callable[[list[EntityChange]], Iterable[EntityChange]] | None = None,
) -> list[int]:
    """Make the database equal the file; returns the audit entry ids, one per entity.
    ``steps`` walks the changes (the CLI's progress bar)."""
    ids = []
    changes = differences(session, cfg)
    for change in steps(changes) if steps else changes:
        store.apply(session, change.entity, change.after, now=now, by="config apply")
        row = audit.record(session, user, action="config apply", target=change.entity,
                           before=change.before, after=change.after, now=now)  # fmt: skip
        ids.append(row.id)
    return ids


def _stored_entities(session: Session) -> set[str]:
    feeds = {store.feed_key(url) for url in session.scalars(select(FeedRow.url))}
    topics = {store.topic_key(tid) for tid in session.scalars(select(TopicRow.id))}
    keys = select(SettingRow.key).where(SettingRow.key.in_(SETTING_SECTIONS))
    settings = {store.setting_key(key) for key in session.scalars(keys)}
    return feeds | topics | settings


def _file_entities(cfg: AppConfig) -> dict[str, Snapshot]:
    data = cfg.model_dump(mode="json")
    wanted: dict[str, Snapshot] = {
        store.setting_key(section): {"value": data[section]} for section in SETTING_SECTIONS
    }
    for position, topic in enumerate(cfg.topics):
        wanted[store.topic_key(topic.id)] = {
            "id": topic.id, "name": topic.name, "description": topic.description,
            "terms": list(topic.terms), "threshold": topic.threshold,
            "extra": {"actors": list(topic.actors), "position": position},
        }  # fmt: skip
    for feed in cfg.feeds:
        wanted[store.feed_key(str(feed.url))] = {
            "url": str(feed.url), "name": feed.name, "comment": feed.comment,
            "paused": False, "alert_on_first_poll": bool(feed.alert_on_first_poll),
            "allow_private": feed.allow_private,
        }  # fmt: skip
    return wanted


def _ordered(entities: set[str]) -> list[str]:
    rank = {"setting": 0, "topic": 1, "feed": 2}
    return sorted(entities, key=lambda e: (rank.get(e.partition(":")[0], 3), e))
