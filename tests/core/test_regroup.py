"""The story-threshold dry run regroups the week with the real grouper, off the live stories,
and `thresholds.story` is the threshold the grouper joins at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.config import AppConfig
from bot.core.commands import Commands
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.storage.configstore import load_runtime, seed
from bot.storage.db import Database
from bot.storage.tables import StoryItemRow, StoryRow
from tests.core.weekdata import Report, ingest

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("slack", "T1", "C1", "news")
ADMIN = UserRef("slack", "T1", "U-ADMIN", "asha", is_admin=True, is_owner=True)

OPENS = "Indian and US navies begin Malabar drills off Goa with two destroyers"
AGAIN = "Malabar drills off Goa: US and Indian destroyers sail together"
SAILORS = "US and Indian sailors train together in Goa"
OTHER = "India and US sign defence framework for the next decade"
WEEK: list[Report] = [
    (OPENS, "The Indian Navy and the US Navy opened the Malabar drills off Goa.",
     NOW - timedelta(days=3)),
    (AGAIN, "US Navy and Indian Navy destroyers sailed off Goa in the Malabar drills.",
     NOW - timedelta(days=2, hours=20)),
    (SAILORS, "Sailors of the Indian Navy and the US Navy trained at a Goa base.",
     NOW - timedelta(days=2, hours=12)),
    (OTHER, "Rajnath Singh and Pete Hegseth signed a 10 year framework for the US India "
     "defence partnership.", NOW - timedelta(days=1)),
    ("India, US defence framework signed in Kuala Lumpur",
     "The two defence chiefs signed the framework.", NOW - timedelta(hours=20)),
]  # fmt: skip


async def ask(commands: Commands, text: str) -> Reply:
    return await commands.handle(Command(text, ADMIN, CHANNEL))


def live_stories(s: Session) -> tuple[int, int, list[str]]:
    stories = s.scalar(select(func.count()).select_from(StoryRow)) or 0
    links = s.scalar(select(func.count()).select_from(StoryItemRow)) or 0
    return stories, links, list(s.scalars(select(StoryRow.key).order_by(StoryRow.id)))


async def test_the_story_threshold_dry_run_regroups_and_leaves_the_live_stories(
    db: Database, cfg: AppConfig
) -> None:
    await db.run(lambda s: seed(s, cfg, now=NOW - timedelta(days=30)))
    keys = await db.run(lambda s: ingest(s, cfg, WEEK))
    # At the shipped 0.35 the sailors' training joins the drills' story.
    assert keys[OPENS] == keys[AGAIN] == keys[SAILORS] != keys[OTHER]
    before = await db.run(live_stories)
    commands = Commands(db, cfg, clock=lambda: NOW)

    split = await ask(commands, "admin threshold story 0.95 --dry-run")
    assert "regrouped from scratch" in split.text
    assert [f.name for f in split.fields] == ["stories", "reports that would move: 3"]
    assert split.fields[0].value == "3 → 4 from 5 relevant reports"
    assert f"“{SAILORS}”: with “{OPENS}” and 1 more → a story of its own" in split.fields[1].value

    same = await ask(commands, "admin threshold story 0.36 --dry-run")
    assert same.fields[0].value == "3 → 3 from 5 relevant reports"
    assert same.fields[1].name == "reports that would move: 0"
    assert await db.run(live_stories) == before  # nothing written to the live stories


async def test_the_applied_story_threshold_is_the_one_the_grouper_joins_at(
    db: Database, cfg: AppConfig
) -> None:
    await db.run(lambda s: seed(s, cfg, now=NOW - timedelta(days=30)))
    commands = Commands(db, cfg, clock=lambda: NOW)
    assert "Audit #" in (await ask(commands, "admin threshold story 0.95")).text
    live = await db.run(load_runtime)
    assert live.thresholds.story == 0.95
    keys = await db.run(lambda s: ingest(s, live, WEEK))
    assert keys[OPENS] == keys[AGAIN] != keys[SAILORS]  # the training no longer joins
