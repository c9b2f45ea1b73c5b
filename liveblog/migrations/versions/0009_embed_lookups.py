"""Bare post and video links waiting to be looked up, kept across restarts

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embed_lookups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_embed_lookups_entry_id_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embed_lookups")),
        sa.UniqueConstraint("entry_id", "url", name=op.f("uq_embed_lookups_entry_id_url")),
    )
    with op.batch_alter_table("embed_lookups", schema=None) as batch_op:
        batch_op.create_index("ix_embed_lookups_due", ["state", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("embed_lookups", schema=None) as batch_op:
        batch_op.drop_index("ix_embed_lookups_due")
    op.drop_table("embed_lookups")
