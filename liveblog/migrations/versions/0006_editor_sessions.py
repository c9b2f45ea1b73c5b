"""Editor sessions kept on the server, so that log-out and account changes end them

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_editor_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_editor_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_editor_sessions_token_hash")),
    )
    with op.batch_alter_table("editor_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_editor_sessions_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("editor_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_editor_sessions_user_id"))
    op.drop_table("editor_sessions")
