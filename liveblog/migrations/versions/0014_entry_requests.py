"""Idempotency keys of entry creations

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "entry_requests",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blog_id"], ["blogs.id"], name=op.f("fk_entry_requests_blog_id_blogs")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_entry_requests_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_entry_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("user_id", "blog_id", "key", name=op.f("pk_entry_requests")),
    )
    with op.batch_alter_table("entry_requests", schema=None) as batch_op:
        batch_op.create_index("ix_entry_requests_created", ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("entry_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_requests_created")
    op.drop_table("entry_requests")
