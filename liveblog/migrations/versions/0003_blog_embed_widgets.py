"""Blogs may opt in to providers' widget scripts over quoted posts

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("embed_widgets", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.drop_column("embed_widgets")
