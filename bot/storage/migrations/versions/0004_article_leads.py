"""articles: the lead of each article page fetched for a title-only item, cached by address

A feed that gives only a headline (Google News) has its article fetched and its opening
paragraphs kept as the item's summary. The page is fetched once: a failure is kept too, so a
broken link costs one request, not one per cycle.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("lead", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("url", name=op.f("pk_articles")),
    )


def downgrade() -> None:
    op.drop_table("articles")
