"""deliveries.shown: the articles a post shows, by identity

A thread follow-up names the reports the post does not show yet; taking them by position in
a list sorted by publication date named the wrong outlet when a report found later had been
published earlier. Rows from before this revision keep NULL (the old way, by count).

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("shown", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("shown")
