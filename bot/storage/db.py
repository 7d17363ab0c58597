"""Engine creation and schema migration: SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What the core catches when a transaction fails: storage's name for it, so no core module
# has to know which database library sits underneath.
StorageError = SQLAlchemyError

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration's revision id. A database already there is opened without importing
# Alembic at all (~8 MB that a polling process would keep for nothing); a test checks this
# against Alembic's own idea of the head, so adding a migration without bumping it fails.
HEAD_REVISION = "0010"


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


def make_engine(url: str) -> Engine:
    """Create an engine; for a SQLite file, create its folder and switch on WAL and foreign keys."""
    parsed = make_url(normalise_url(url))
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # Repository calls run in worker threads; each thread gets its own connection.
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    # orjson: JSON columns (match evidence, story signatures) are written and read for every
    # item; it does both several times faster than the standard library.
    engine = create_engine(parsed, json_serializer=_json_dumps, json_deserializer=orjson.loads,
                           **kwargs)  # fmt: skip
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a plain ``postgresql://`` URL (SQLAlchemy would pick psycopg2)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_database(url: str) -> str:
    """The database for a log line: a SQLite file by its absolute path (a relative default
    depends on the folder the bot was started from), a server without its password."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ":memory:"
        return f"SQLite {name if name == ':memory:' else Path(name).expanduser().resolve()}"
    return parsed.render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config(engine: Engine) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; a new database is created here."""
    if schema_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")


def schema_revision(engine: Engine) -> str | None:
    """The migration the database is at, or None for a database without our schema."""
    if not has_schema(engine):
        return None
    with engine.connect() as conn:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def has_schema(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version")


#: The handle one transaction passes to repository functions. The core holds it only to hand
#: it on: queries, rows and SQLAlchemy stay in ``bot.storage`` (tests/test_import_rules.py).
Tx = Session


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class Database:
    """The one way the async core reaches storage: each call is one transaction in a worker thread.

    SQLAlchemy sessions are synchronous; running them in threads keeps the event loop free
    (DESIGN: blocking work never runs on the loop).
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = session_factory(engine)

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Database:
        engine = make_engine(url)
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    @classmethod
    def scratch(cls) -> Database:
        """A throw-away in-memory database with every table, built without the migrations
        (nothing in it is kept): what an evaluation run predicts against, hundreds of times."""
        from bot.storage.tables import Base

        db = cls(make_engine("sqlite://"))
        Base.metadata.create_all(db.engine)
        return db

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def transaction(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one transaction, here and now (for threads and synchronous callers)."""
        with self.sessions.begin() as session:
            return fn(session)

    async def run(self, fn: Callable[[Session], T]) -> T:
        """One transaction in a worker thread: commit on return, roll back on raise."""
        return await asyncio.to_thread(self.transaction, fn)

    def close(self) -> None:
        self.engine.dispose()
