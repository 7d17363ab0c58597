"""A throw-away in-memory database with the schema: where a dry run may let the real story
grouper write stories without touching the live ones."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from bot.storage.tables import Base


@contextmanager
def scratch_session() -> Iterator[Session]:
    """A session on a fresh in-memory SQLite database, gone when the block ends."""
    # One connection for the engine's life: an in-memory database lives in its connection.
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    try:
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()
