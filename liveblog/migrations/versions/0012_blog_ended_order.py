"""Blogs choose the order an ended blog is read in, newest or oldest first

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("ended_order", sa.String(length=8), server_default="newest", nullable=False)
        )


def downgrade() -> None:
    # In place, on SQLite too (3.35 and later): batch mode would rebuild the table, which
    # SQLite refuses while entries refer to the blogs.
    op.drop_column("blogs", "ended_order")
