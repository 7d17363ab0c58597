"""The schema migrates from nothing on each dialect, keeps UTC datetimes, and a database
already at the newest migration opens without Alembic."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session

from bot.storage.db import HEAD_REVISION, Database, alembic_config, migrate, schema_revision
from bot.storage.tables import Base, FeedRow, ItemRow

ROOT = Path(__file__).resolve().parents[2]


def test_migration_creates_every_table(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names())
    assert {
        "feeds",
        "items",
        "matches",
        "stories",
        "story_items",
        "subscriptions",
        "deliveries",
        "audit_entries",
        "topics",
        "settings",
        "feedback",
    } <= tables


async def test_datetimes_come_back_as_utc(db: Database) -> None:
    ist = timezone(timedelta(hours=5, minutes=30))
    added = datetime(2025, 10, 31, 15, 0, tzinfo=ist)

    def write(s: Session) -> None:
        s.add(FeedRow(url="https://example.org/rss", name="Example", added_at=added))

    await db.run(write)
    got = await db.run(lambda s: s.scalars(select(FeedRow.added_at)).one())
    assert got == added
    assert got.tzinfo is not None and got.utcoffset() == timedelta(0)
    assert got.astimezone(UTC).hour == 9


def test_head_revision_constant_matches_the_newest_migration() -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(alembic_config(None)).get_heads()  # type: ignore[arg-type]
    assert heads == [HEAD_REVISION], "bump HEAD_REVISION in bot/storage/db.py"


def test_a_database_at_head_opens_without_alembic(db: Database) -> None:
    assert schema_revision(db.engine) == HEAD_REVISION


def test_opening_a_current_sqlite_database_never_imports_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    Database.open(url).close()  # created and migrated here, with alembic
    probe = (
        "import sys; from bot.storage.db import Database; "
        f"Database.open({url!r}).close(); print('alembic' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


def test_the_migrations_build_exactly_the_schema_the_models_declare(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        # The full-text index is the database's own (an FTS5 table, a GIN expression index),
        # made by migration 0010 and read by bot/storage/search.py, not an ORM table.
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_name": _not_search_index}
        )
        assert compare_metadata(context, Base.metadata) == []


def _not_search_index(name: str | None, kind: str, parent: object) -> bool:
    return not (name or "").startswith(("items_fts", "ix_items_search"))


def test_making_links_unique_keeps_the_oldest_rows_link(db: Database) -> None:
    from alembic import command

    command.downgrade(alembic_config(db.engine), "0001")
    seen = datetime(2025, 11, 3, 9, 0, tzinfo=UTC)
    rows = [
        {"key": key, "url": "https://news.example.org/a", "title": key, "summary": "",
         "source": "", "first_seen_at": seen, "alertable": True}
        for key in ("older", "newer")
    ]  # fmt: skip
    db.transaction(lambda s: s.execute(insert(ItemRow), rows))

    migrate(db.engine)

    stored = db.transaction(lambda s: s.execute(select(ItemRow.key, ItemRow.url)).all())
    assert sorted(stored) == [("newer", None), ("older", "https://news.example.org/a")]
    assert schema_revision(db.engine) == HEAD_REVISION
