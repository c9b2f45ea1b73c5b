"""Each blog has a desk of members, and a blog can be deleted (softly)

Every editor and contributor joins the desk of every existing blog with their own role
(member since the blog was created), so nothing changes for a desk already at work.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "blog_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("blog_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["blog_id"], ["blogs.id"], name=op.f("fk_blog_members_blog_id_blogs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_blog_members_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_blog_members")),
        sa.UniqueConstraint("blog_id", "user_id", name=op.f("uq_blog_members_blog_id_user_id")),
    )
    with op.batch_alter_table("blog_members", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_blog_members_user_id"), ["user_id"], unique=False)
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(), nullable=True))
    op.execute(
        "INSERT INTO blog_members (blog_id, user_id, role, created_at) "
        "SELECT blogs.id, users.id, users.role, blogs.created_at FROM blogs CROSS JOIN users "
        "WHERE users.role IN ('editor', 'contributor')"
    )


def downgrade() -> None:
    with op.batch_alter_table("blog_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_blog_members_user_id"))
    op.drop_table("blog_members")
    # In place, not in batch mode: SQLite would rebuild the blogs table, which the
    # entries' foreign keys forbid once there are entries.
    op.drop_column("blogs", "deleted_at")
