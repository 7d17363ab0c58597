"""one item per canonical link: items.url becomes a unique index

The poller already stored the same article once however many feeds or GUIDs carried it,
but only by checking first; two processes could still both insert it. With the rule in the
database, the insert's own ON CONFLICT DO NOTHING skips a known key or link, so storing
needs no "is it new?" queries at all.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A duplicate could only come from two processes racing; the oldest row keeps the link
    # (its matches and stories stay as they are), the later copies keep everything but it.
    op.execute(
        sa.text(
            "UPDATE items SET url = NULL WHERE url IS NOT NULL AND id NOT IN "
            "(SELECT MIN(id) FROM items WHERE url IS NOT NULL GROUP BY url)"
        )
    )
    op.drop_index("ix_items_url", table_name="items")
    op.create_index("ix_items_url", "items", ["url"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_items_url", table_name="items")
    op.create_index("ix_items_url", "items", ["url"], unique=False)
