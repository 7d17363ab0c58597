"""Config ⇄ database: seed the database from YAML on first start; read back the live config."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import AppConfig, FeedConfig, TopicConfig
from bot.config.matching import retired_join
from bot.storage.tables import FeedRow, SettingRow, TopicRow

logger = logging.getLogger(__name__)

# The config sections that live as one JSON value each in the settings table.
SETTING_SECTIONS = ("poll", "thresholds", "matching", "admins", "delivery", "articles",
                    "discord_guilds")  # fmt: skip
REMOVED_POLL_KEYS = frozenset({"allow_private_addresses"})


def is_seeded(session: Session) -> bool:
    return session.get(SettingRow, "seeded_at") is not None


def seed(session: Session, cfg: AppConfig, *, now: datetime | None = None) -> bool:
    """Write the YAML config into an empty database. Returns False if it was seeded before.

    After the first start the database is the source of truth: chat edits land there, and a
    changed YAML file would silently undo them, so it is not re-applied.
    """
    if is_seeded(session):
        return False
    now = now or datetime.now(UTC)
    data = cfg.model_dump(mode="json")
    for section in SETTING_SECTIONS:
        session.merge(SettingRow(key=section, value={"value": data[section]}, updated_at=now))
    for position, topic in enumerate(cfg.topics):
        session.merge(_topic_row(topic, position))
    existing = set(session.scalars(select(FeedRow.url)))
    for feed in cfg.feeds:
        if str(feed.url) not in existing:
            session.add(_feed_row(feed, now))
    session.merge(SettingRow(key="seeded_at", value={"value": now.isoformat()}, updated_at=now))
    logger.info("seeded the database: %d feeds, %d topics", len(cfg.feeds), len(cfg.topics))
    return True


def _topic_row(topic: TopicConfig, position: int) -> TopicRow:
    return TopicRow(
        id=topic.id,
        name=topic.name,
        description=topic.description,
        terms=list(topic.terms),
        threshold=topic.threshold,
        # The config's order is the order people see topics listed in.
        extra={"actors": list(topic.actors), "position": position},
    )


def _feed_row(feed: FeedConfig, now: datetime) -> FeedRow:
    return FeedRow(
        url=str(feed.url),
        name=feed.name,
        comment=feed.comment,
        alert_on_first_poll=bool(feed.alert_on_first_poll),
        allow_private=feed.allow_private,
        added_at=now,
        added_by="config",
        health="new",
        failures=0,
    )


def load_runtime(session: Session) -> AppConfig:
    """The live config: the seeded settings, topics and feeds as edited since."""
    data: dict[str, Any] = {}
    for row in session.scalars(select(SettingRow).where(SettingRow.key.in_(SETTING_SECTIONS))):
        data[row.key] = row.value["value"]
    if isinstance(data.get("poll"), dict):
        # Removed setting (now per feed, allow_private): a database seeded before still has it.
        data["poll"] = {k: v for k, v in data["poll"].items() if k not in REMOVED_POLL_KEYS}
    _move_retired_join(data)
    topics = sorted(session.scalars(select(TopicRow)), key=_position)
    data["topics"] = [
        {
            "id": t.id,
            "name": t.name,
            "description": t.description,
            "terms": list(t.terms),
            "actors": list((t.extra or {}).get("actors", [])),
            "threshold": t.threshold,
        }
        for t in topics
    ]
    data["feeds"] = [
        {
            "url": f.url,
            "name": f.name,
            "comment": f.comment,
            "alert_on_first_poll": f.alert_on_first_poll or None,
            "allow_private": bool(f.allow_private),
        }
        for f in session.scalars(select(FeedRow).order_by(FeedRow.id))
    ]
    return AppConfig.model_validate(data)


def _move_retired_join(data: dict[str, Any]) -> None:
    """A database seeded before thresholds.story became the story threshold keeps grouping as
    it did: the stored matching.grouping.join (the value the grouper read) moves there; the
    stored thresholds.story was read by nothing."""
    join = retired_join(data.get("matching"))
    if join is None:
        return
    grouping = {k: v for k, v in data["matching"]["grouping"].items() if k != "join"}
    data["matching"] = {**data["matching"], "grouping": grouping}
    thresholds = data.get("thresholds")
    data["thresholds"] = {**(thresholds if isinstance(thresholds, dict) else {}), "story": join}
    logger.info("stored matching.grouping.join %s is now thresholds.story", join)


def _position(topic: TopicRow) -> tuple[int, str]:
    return (int((topic.extra or {}).get("position", 10**6)), topic.id)
