"""Indexes for the key-events list and the pinned slot, so neither scans a whole blog

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entries_key_events",
            ["blog_id", "status", "key_event", "published_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_entries_pinned", ["blog_id", "status", "pinned"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.drop_index("ix_entries_pinned")
        batch_op.drop_index("ix_entries_key_events")
