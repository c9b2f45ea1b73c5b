"""Bylines: users' public profiles, and every author an entry credits

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE both ways: SQLite's batch mode would copy the table and drop the
    # old one, which the foreign keys into users forbid.
    empty = sa.text("''")
    op.add_column(
        "users", sa.Column("title", sa.String(length=200), server_default=empty, nullable=False)
    )
    op.add_column(
        "users", sa.Column("bio", sa.String(length=1000), server_default=empty, nullable=False)
    )
    op.add_column("users", sa.Column("photo", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("links", sa.JSON(), nullable=True))
    op.add_column("users", sa.Column("slug", sa.String(length=80), nullable=True))
    op.add_column("users", sa.Column("profile_updated_at", sa.DateTime(), nullable=True))
    op.create_index(op.f("ix_users_slug"), "users", ["slug"], unique=True)
    op.create_table(
        "entry_authors",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["entries.id"], name=op.f("fk_entry_authors_entry_id_entries")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_entry_authors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("entry_id", "user_id", name=op.f("pk_entry_authors")),
    )
    op.create_index(op.f("ix_entry_authors_user_id"), "entry_authors", ["user_id"], unique=False)
    # Every existing entry is credited to the one who posted it, as its byline was.
    op.execute(
        "INSERT INTO entry_authors (entry_id, user_id, position) SELECT id, author_id, 0 FROM entries"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_entry_authors_user_id"), table_name="entry_authors")
    op.drop_table("entry_authors")
    op.drop_index(op.f("ix_users_slug"), table_name="users")
    for column in ("profile_updated_at", "slug", "links", "photo", "bio", "title"):
        op.drop_column("users", column)
