"""Blogs may restrict which sites frame their embed pages

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("embed_origins", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("blogs", schema=None) as batch_op:
        batch_op.drop_column("embed_origins")
