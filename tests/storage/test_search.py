"""Item search on the database's own full-text index, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.search import search_ids, terms
from bot.storage.tables import ItemRow
from tests.core.newsdata import add_item

NOW = datetime(2025, 11, 3, 12, 0, tzinfo=UTC)


def stored(s: Session) -> dict[str, int]:
    rows = {
        "tariffs": add_item(s, "US raises tariffs on Indian steel", seen=NOW),
        "again": add_item(
            s,
            "Talks resume again in Delhi",
            seen=NOW,
            summary="Officials said the round would be brief.",
        ),
        "ai": add_item(s, "India and US widen AI cooperation", seen=NOW - timedelta(days=2)),
        "ai-aside": add_item(
            s, "Defence ministers meet", seen=NOW, summary="They also touched on AI in passing."
        ),
        "rare": add_item(s, "Rare earth supply deal", seen=NOW, summary="A rare find: earth."),
        "order": add_item(s, "Earth science, rare books", seen=NOW),
    }
    return {k: v.id for k, v in rows.items()}


async def test_a_word_finds_its_inflections_and_whole_words_only(db: Database) -> None:
    ids = await db.run(stored)
    assert await db.run(lambda s: search_ids(s, "tariff", 10)) == [ids["tariffs"]]
    found = await db.run(lambda s: search_ids(s, "AI", 10))
    assert set(found) == {ids["ai"], ids["ai-aside"]}  # never "again" or "said"


async def test_a_headline_match_ranks_above_a_passing_mention(db: Database) -> None:
    ids = await db.run(stored)
    # The headline match is older, yet first: ranked by the match, then by date.
    assert await db.run(lambda s: search_ids(s, "AI cooperation", 10)) == [ids["ai"]]
    found = await db.run(lambda s: search_ids(s, "AI", 10))
    assert found[0] == ids["ai"]


async def test_a_quoted_phrase_matches_as_a_phrase(db: Database) -> None:
    ids = await db.run(stored)
    found = await db.run(lambda s: search_ids(s, '"rare earth"', 10))
    assert found == [ids["rare"]]  # not "Earth science, rare books"
    both = await db.run(lambda s: search_ids(s, "rare earth", 10))
    assert set(both) == {ids["rare"], ids["order"]}


async def test_the_index_follows_edited_summaries(db: Database) -> None:
    ids = await db.run(stored)
    await db.run(
        lambda s: s.execute(
            update(ItemRow).where(ItemRow.id == ids["again"]).values(summary="Sonobuoys on order.")
        )
    )
    assert await db.run(lambda s: search_ids(s, "sonobuoy", 10)) == [ids["again"]]


def test_query_syntax_is_never_read_as_operators() -> None:
    assert terms('tariff OR "rare earth" NEAR(x) -drones') == [
        "tariff", "OR", "rare earth", "NEAR x", "drones"
    ]  # fmt: skip
    assert terms('unbalanced "quote') == ["unbalanced", "quote"]
