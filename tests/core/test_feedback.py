"""`/news admin feedback` through the command path on a real database: the flagged stories,
their evidence as sentences, and changes that are checked by applying them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.config import AppConfig
from bot.core.commands import Commands
from bot.core.matching import Matcher
from bot.core.models import ChannelRef, Command, Reply, UserRef
from bot.storage.configstore import load_runtime, seed
from bot.storage.db import Database
from bot.storage.items import items_since
from tests.core.weekdata import Report, ingest

NOW = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
CHANNEL = ChannelRef("slack", "T1", "C1", "news")
ADMIN = UserRef("slack", "T1", "U-ADMIN", "asha", is_admin=True, is_owner=True)

ALASKA = "US and India hold drills in Alaska"
GOA = "Indian and US navies begin drills off Goa"
COAST = "US and Indian coast guards hold training on oil spill response"
SOLDIERS = "US Army begins drills in Nevada"
WEEK: list[Report] = [
    (GOA, "", NOW - timedelta(days=6, hours=12)),
    ("India, US troops wrap up Yudh Abhyas in Alaska",
     "Soldiers of the Indian Army and the US Army ended two weeks of drills.",
     NOW - timedelta(days=5)),
    (COAST, "The Indian Coast Guard and the US Coast Guard trained crews in Kochi.",
     NOW - timedelta(days=3, hours=12)),
    (SOLDIERS, "Indian soldiers joined the drills on Monday.", NOW - timedelta(days=2)),
    ("Cricket: India beat Australia in Perth", "A win by six wickets.", NOW - timedelta(days=1)),
    (ALASKA, "", NOW - timedelta(hours=12)),
]  # fmt: skip


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


async def week_with_flags(
    db: Database, cfg: AppConfig, clock: Clock
) -> tuple[Commands, dict[str, str | None]]:
    await db.run(lambda s: seed(s, cfg, now=NOW - timedelta(days=30)))
    keys = await db.run(lambda s: ingest(s, cfg, WEEK))
    commands = Commands(db, cfg, clock=clock)

    async def flag(title: str, user: str, at: datetime) -> None:
        clock.now = at
        key = keys[title]
        assert key is not None, f"{title!r} should have been alerted"
        reply = await commands.feedback(key, UserRef("slack", "T1", user), CHANNEL)
        assert reply.ok

    await flag(COAST, "U1", NOW - timedelta(hours=5))
    await flag(COAST, "U1", NOW - timedelta(hours=4))  # the same person twice counts once
    await flag(COAST, "U2", NOW - timedelta(hours=3))
    await flag(ALASKA, "U3", NOW - timedelta(hours=2))
    await flag(SOLDIERS, "U3", NOW - timedelta(days=9))  # outside the default week
    clock.now = NOW
    return commands, keys


async def ask(commands: Commands, text: str, user: UserRef = ADMIN) -> Reply:
    return await commands.handle(Command(text, user, CHANNEL))


def field(reply: Reply, starts: str) -> str:
    found = [f for f in reply.fields if f.name.startswith(starts)]
    assert found, f"no field {starts!r} in {[f.name for f in reply.fields]}"
    return found[0].value


async def still_alerted(db: Database, title: str) -> bool:
    """Does the live config (after an applied change) still let ``title`` through?"""

    def check(s: object) -> bool:
        live = load_runtime(s)  # type: ignore[arg-type]
        item = next(i for i in items_since(s, NOW - timedelta(days=8)) if i.title == title)  # type: ignore[arg-type]
        return Matcher.from_config(live).match(item).relevant

    return await db.run(check)


async def test_flagged_stories_with_evidence_people_and_recency(
    db: Database, cfg: AppConfig
) -> None:
    commands, _ = await week_with_flags(db, cfg, Clock())
    reply = await ask(commands, "admin feedback")
    assert reply.ok and reply.text.startswith("2 stories flagged “not relevant” in the last 7 days")
    names = [f.name for f in reply.fields if not f.name.startswith("What would")]
    # The most recently flagged first; one person flagging twice is one person.
    assert names[0].startswith(ALASKA) and "flagged by 1 person, last 2025-11-03 07:00" in names[0]
    assert names[1].startswith(COAST) and "flagged by 2 people" in names[1]
    evidence = field(reply, COAST)
    assert "The US side was US (country); the Indian side was Indian (country)." in evidence
    assert "Topic terms found: indo-pacific (coast guards, Coast Guard; weight 7.0)" in evidence
    assert "Decided by the rule `relevant`" in evidence and "{" not in evidence
    older = await ask(commands, "admin feedback --days 14")
    assert older.text.startswith("3 stories flagged") and field(older, SOLDIERS)


async def test_a_single_term_removal_names_its_cost_and_applying_it_does_what_it_said(
    db: Database, cfg: AppConfig
) -> None:
    commands, keys = await week_with_flags(db, cfg, Clock())
    change = field(await ask(commands, "admin feedback"), f"What would have stopped {keys[ALASKA]}")
    command = "/news admin topics edit military-exercises terms remove drills"
    assert "Smallest: remove the term “drills” from `military-exercises`" in change
    assert f"would also remove 1 other alert(s) of the last 7 days: “{GOA}”" in change
    assert f"Apply: `{command}`" in change
    # The existing dry run of the same edit drops the flagged item and the named collateral.
    dry = await ask(commands, command.removeprefix("/news ") + " --dry-run")
    assert field(dry, "would drop 2").count("−") == 2
    applied = await ask(commands, command.removeprefix("/news "))
    assert "Audit #" in applied.text
    assert not await still_alerted(db, ALASKA) and not await still_alerted(db, GOA)
    assert await still_alerted(db, "India, US troops wrap up Yudh Abhyas in Alaska")


async def test_a_story_needing_several_removals_gets_them_combined_and_checked(
    db: Database, cfg: AppConfig
) -> None:
    commands, keys = await week_with_flags(db, cfg, Clock())
    change = field(await ask(commands, "admin feedback"), f"What would have stopped {keys[COAST]}")
    assert "would remove no other alert of the last 7 days" in change
    applies = change.split("Apply: ")[1].split(" then ")
    assert len(applies) == 2
    for command in applies:
        assert "Audit #" in (await ask(commands, command.strip("`").removeprefix("/news "))).text
    assert not await still_alerted(db, COAST)
    assert await still_alerted(db, GOA) and await still_alerted(db, ALASKA)


async def test_a_threshold_just_above_the_score_is_offered_and_stops_it(
    db: Database, cfg: AppConfig
) -> None:
    commands, keys = await week_with_flags(db, cfg, Clock())
    reply = await ask(commands, "admin feedback --days 10")
    change = field(reply, f"What would have stopped {keys[SOLDIERS]}")
    assert "raise the relevance threshold 0.5 → 0.67 (its best score is 0.67)" in change
    applied = await ask(commands, "admin threshold relevance 0.67")
    assert "Audit #" in applied.text
    assert not await still_alerted(db, SOLDIERS)


async def test_no_flags_bad_days_and_non_admins(db: Database, cfg: AppConfig) -> None:
    await db.run(lambda s: seed(s, cfg, now=NOW - timedelta(days=30)))
    commands = Commands(db, cfg, clock=lambda: NOW)
    assert (await ask(commands, "admin feedback")).text == (
        "No stories were flagged “not relevant” in the last 7 days."
    )
    bad = await ask(commands, "admin feedback --days lots")
    assert not bad.ok and bad.text.startswith("--days must be a whole number from 1 to 90")
    assert "Usage: `/news admin feedback [--days N]`" in bad.text
    bob = UserRef("slack", "T1", "U-BOB", "bob")
    assert not (await ask(commands, "admin feedback", bob)).ok
