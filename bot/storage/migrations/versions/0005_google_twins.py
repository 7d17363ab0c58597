"""google_twins: an undecoded Google News item, found again by outlet and headline

A Google News item whose token carries no article link is stored under the Google link. When
the outlet's own copy arrives later it takes over that row (link and outlet) instead of
being stored beside it; this table finds the row by a hash of outlet and headline.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "google_twins",
        sa.Column("twin", sa.String(64), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_google_twins_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("twin", name=op.f("pk_google_twins")),
    )


def downgrade() -> None:
    op.drop_table("google_twins")
