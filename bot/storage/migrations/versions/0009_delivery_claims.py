"""deliveries.claimed_by: whose flush holds a row's claim

A claim is a short lease (``poll.lease``) renewed while the flush works, so a killed
process's rows are taken over within it; a process restarted on the same host expires its
dead predecessor's claims at once instead of waiting out a fixed two minutes.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed_by")
