"""work leases: an item's matching and a story's delivery planning, claimed, not assumed

``items.work_owner``/``work_until``: the item still waits for its match; whoever holds the
lease does it, and when the lease runs out any worker may. ``stories.plan_due_at``: the
story's deliveries still wait to be planned. Items stored before this revision without a
match, and stories with reports but no delivery rows yet, are left to the next cycles.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("work_owner", sa.String(200), nullable=True))
        batch.add_column(sa.Column("work_until", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(op.f("ix_items_work_until"), ["work_until"])
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("plan_due_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index(op.f("ix_stories_plan_due_at"), ["plan_due_at"])
    # Unmatched items of the last day: due now, so the first cycle takes them up.
    op.execute(
        "UPDATE items SET work_until = first_seen_at WHERE id NOT IN "
        "(SELECT item_id FROM matches) AND first_seen_at > CURRENT_TIMESTAMP - INTERVAL '1 day'"
        if op.get_bind().dialect.name == "postgresql"
        else "UPDATE items SET work_until = first_seen_at WHERE id NOT IN "
        "(SELECT item_id FROM matches) AND first_seen_at > datetime('now', '-1 day')"
    )


def downgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.drop_index(op.f("ix_stories_plan_due_at"))
        batch.drop_column("plan_due_at")
    with op.batch_alter_table("items") as batch:
        batch.drop_index(op.f("ix_items_work_until"))
        batch.drop_column("work_until")
        batch.drop_column("work_owner")
