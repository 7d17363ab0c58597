"""item search: the database's own full-text index over items' titles and summaries

SQLite: an FTS5 table (``items_fts``, porter stemming, unicode61 words) kept by triggers in
step with ``items``. PostgreSQL: a GIN index on the items' English ``tsvector``. Both rank
matches (bm25, ts_rank); a word matches whole words only, in any inflection ("tariff" finds
"tariffs"; "AI" never matches inside "again").

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PG_VECTOR = "to_tsvector('english', coalesce(title, '') || ' ' || coalesce(summary, ''))"
SQLITE = [
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary, content='items', "
    "content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, summary) "
    "VALUES ('delete', old.id, old.title, old.summary); END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, summary) "
    "VALUES ('delete', old.id, old.title, old.summary); "
    "INSERT INTO items_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary); END",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX ix_items_search ON items USING gin ({PG_VECTOR})")
        return
    for statement in SQLITE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_items_search")
        return
    for trigger in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER items_fts_{trigger}")
    op.execute("DROP TABLE items_fts")
