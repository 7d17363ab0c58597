"""feeds.allow_private: a feed on a private network is allowed one feed at a time

The fetcher now checks every address it dials, redirects included, and refuses private,
loopback and link-local ones. A feed an admin knowingly points at an intranet host keeps
working through this per-feed flag; the old global ``poll.allow_private_addresses`` is gone.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(
            sa.Column("allow_private", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("allow_private")
