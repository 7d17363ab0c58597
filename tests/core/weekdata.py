"""A week of stored reports matched and grouped by the real matcher and grouper, as the
pipeline does, for the feedback and dry-run tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.matching import Matcher
from bot.core.stories import StoryGrouper
from bot.storage.items import item_from_row
from bot.storage.stories import save_match
from tests.core.newsdata import add_item

Report = tuple[str, str, datetime]  # title, summary, first seen (and published)


def ingest(s: Session, cfg: AppConfig, reports: Sequence[Report]) -> dict[str, str | None]:
    """Store, match and group ``reports``; each title → its story key (None: not relevant)."""
    matcher, grouper = Matcher.from_config(cfg), StoryGrouper(cfg)
    out: dict[str, str | None] = {}
    for title, summary, seen in reports:
        item = item_from_row(add_item(s, title, seen=seen, summary=summary))
        match = matcher.match(item)
        save_match(s, match, now=seen)
        out[title] = grouper.assign(s, item, match).story_key if match.relevant else None
    return out
