"""Item search on the database's full-text index (migration 0010): SQLite FTS5 with porter
stemming and bm25 ranking, PostgreSQL ``tsvector`` with ``ts_rank``. Words match whole words
in any inflection; a quoted "phrase" matches as a phrase; every word or phrase must occur."""

from __future__ import annotations

import re
import shlex
from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from bot.storage.tables import ItemRow

PG_VECTOR = (
    "to_tsvector('english', coalesce(items.title, '') || ' ' || coalesce(items.summary, ''))"
)
# Ranking: a word in the headline counts more than one in the summary.
PG_WEIGHTED = (
    "setweight(to_tsvector('english', coalesce(items.title, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(items.summary, '')), 'B')"
)
_WORD = re.compile(r"\w+")


def terms(query: str) -> list[str]:
    """The query's words and quoted phrases, each reduced to its words (no operators: what a
    person typed is searched for, never read as query syntax)."""
    try:
        parts = shlex.split(query)
    except ValueError:  # an unbalanced quote: search for the words as typed
        parts = query.split()
    out = [" ".join(_WORD.findall(p)) for p in parts]
    return [t for t in out if t]


def search_ids(session: Session, query: str, limit: int) -> list[int]:
    """The ids of the items matching every word or phrase of ``query``, best first (then
    newest first)."""
    wanted = terms(query)
    if not wanted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        tsquery = func.to_tsquery("english", " & ".join(_pg_term(t) for t in wanted))
        vector: ColumnElement[Any] = literal_column(PG_VECTOR)
        rank = func.ts_rank(literal_column(PG_WEIGHTED), tsquery)
        stmt = (
            select(ItemRow.id)
            .where(vector.op("@@")(tsquery))
            .order_by(rank.desc(), ItemRow.first_seen_at.desc())
            .limit(limit)
        )
        return list(session.scalars(stmt))
    match = " AND ".join(f'"{t}"' for t in wanted)
    rows = session.execute(
        text(
            "SELECT items.id FROM items_fts JOIN items ON items.id = items_fts.rowid "
            "WHERE items_fts MATCH :match "
            "ORDER BY bm25(items_fts, 10.0, 1.0), items.first_seen_at DESC LIMIT :limit"
        ),
        {"match": match, "limit": limit},
    )
    return [int(r[0]) for r in rows]


def _pg_term(term: str) -> str:
    # A phrase's words follow each other (<->); each word is a lexeme, stemmed by 'english'.
    return "(" + " <-> ".join(f"'{w}'" for w in term.split()) + ")"
