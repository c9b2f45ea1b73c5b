"""The editors' desk: a sequence that moves with every write editors see, and who is
editing which entry

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE both ways: SQLite's batch mode would copy the table and drop the
    # old one, which the foreign keys into blogs forbid.
    op.add_column("blogs", sa.Column("desk_seq", sa.Integer(), server_default="0", nullable=False))
    op.create_table(
        "editing",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["blog_id"], ["blogs.id"], name=op.f("fk_editing_blog_id_blogs")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_editing_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_editing_user_id_users")),
        sa.PrimaryKeyConstraint("entry_id", "user_id", name=op.f("pk_editing")),
    )
    with op.batch_alter_table("editing", schema=None) as batch_op:
        batch_op.create_index("ix_editing_blog", ["blog_id", "expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("editing", schema=None) as batch_op:
        batch_op.drop_index("ix_editing_blog")
    op.drop_table("editing")
    op.drop_column("blogs", "desk_seq")
