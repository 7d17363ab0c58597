"""Persistence: SQLAlchemy tables, the engine, Alembic migrations and repository functions."""
