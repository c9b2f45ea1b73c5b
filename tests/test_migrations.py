"""Migrations: an empty database upgraded to head has exactly the models' schema, and back."""

import os
import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine
from sqlalchemy import inspect
from sqlalchemy import text
from sqlalchemy.engine import make_url

from liveblog.db import Database
from liveblog.models import Base
from tests.support import BACKENDS
from tests.support import POSTGRES_URL


@pytest.fixture(params=BACKENDS)
def empty_database(request, tmp_path):
    """A Database with no tables at all: a new SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty.sqlite'}")
        yield database
        database.engine.dispose()
        return
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"liveblog_migrations_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        yield database
    finally:
        database.engine.dispose()
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        server.dispose()


def differences(database):
    """What autogenerate would change to make the database match the models."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def tables(database):
    return set(inspect(database.engine).get_table_names())


def test_upgrading_an_empty_database_gives_the_models_schema(empty_database):
    assert tables(empty_database) == set()
    empty_database.upgrade()
    _current, head = empty_database.migration_state()
    assert empty_database.migration_state() == (head, head)
    assert tables(empty_database) == set(Base.metadata.tables) | {"alembic_version"}
    assert differences(empty_database) == []


def test_downgrade_to_base_and_up_again(empty_database):
    empty_database.upgrade()
    command.downgrade(empty_database.alembic_config(), "base")
    assert tables(empty_database) <= {"alembic_version"}
    assert empty_database.migration_state()[0] is None
    # The comparison is not vacuous: on an empty schema it wants every table.
    added = {diff[1].name for diff in differences(empty_database) if diff[0] == "add_table"}
    assert added == set(Base.metadata.tables)

    empty_database.upgrade()
    assert differences(empty_database) == []


def test_corrections_arrive_on_a_database_holding_entries_and_leave_it_whole(empty_database):
    empty_database.upgrade("0007")
    rows = [
        "INSERT INTO users (id, email, name, role, active, created_at) "
        "VALUES (1, 'e@news.example', 'E', 'editor', true, '2017-03-24 07:00:00')",
        "INSERT INTO blogs (id, slug, title, standfirst, status, timezone, label_format, "
        "language, theme, embed_widgets, last_seq, changed_at, created_at, updated_at) VALUES "
        "(1, 'hama', 'Hama', '', 'live', 'UTC', 'UPDATE', 'en', 'default', false, 1, "
        "'2017-03-24 07:00:00', '2017-03-24 07:00:00', '2017-03-24 07:00:00')",
        "INSERT INTO entries (id, blog_id, author_id, blocks, html, status, pinned, "
        "key_event, version, created_at, updated_at) VALUES (1, 1, 1, '[]', '<p>Words</p>', "
        "'published', false, false, 2, '2017-03-24 07:00:00', '2017-03-24 07:05:00')",
    ]
    with empty_database.engine.begin() as connection:
        for statement in rows:
            connection.execute(text(statement))
    empty_database.upgrade()
    with empty_database.engine.begin() as connection:
        assert connection.execute(text("SELECT html FROM entries")).scalar_one() == "<p>Words</p>"
        connection.execute(
            text(
                "INSERT INTO corrections (entry_id, version, note, created_at) "
                "VALUES (1, 2, 'Fixed the toll', '2017-03-24 07:05:00')"
            )
        )
    command.downgrade(empty_database.alembic_config(), "0007")
    assert "corrections" not in tables(empty_database)
    with empty_database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM entries")).scalar_one() == 1


def test_bylines_migration_credits_every_existing_entry_to_its_poster(empty_database):
    empty_database.upgrade("0007")
    with empty_database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, name, role, active, created_at) VALUES "
                "(1, 'ana@example.org', 'Ana', 'editor', true, '2017-03-24 07:00:00'), "
                "(2, 'bo@example.org', 'Bo', 'contributor', true, '2017-03-24 07:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO blogs (id, slug, title, standfirst, status, timezone, label_format, "
                "language, theme, embed_widgets, last_seq, changed_at, created_at, updated_at) "
                "VALUES (1, 'hama', 'Hama', '', 'live', 'UTC', 'UPDATE %H%M %Z', 'en', "
                "'default', false, 0, '2017-03-24 07:00:00', '2017-03-24 07:00:00', "
                "'2017-03-24 07:00:00')"
            )
        )
        for entry_id, author_id in ((1, 1), (2, 2), (3, 1)):
            connection.execute(
                text(
                    "INSERT INTO entries (id, blog_id, author_id, blocks, html, status, pinned, "
                    "key_event, version, created_at, updated_at) VALUES (:id, 1, :author, "
                    "'[]', '<p>x</p>', 'published', false, false, 1, '2017-03-24 07:00:00', "
                    "'2017-03-24 07:00:00')"
                ),
                {"id": entry_id, "author": author_id},
            )

    empty_database.upgrade()

    with empty_database.engine.connect() as connection:
        credited = connection.execute(
            text("SELECT entry_id, user_id, position FROM entry_authors ORDER BY entry_id")
        ).all()
        profiles = connection.execute(
            text("SELECT name, title, bio, photo, links, slug FROM users ORDER BY id")
        ).all()
    assert [tuple(row) for row in credited] == [(1, 1, 0), (2, 2, 0), (3, 1, 0)]
    assert [tuple(row) for row in profiles] == [
        ("Ana", "", "", None, None, None),
        ("Bo", "", "", None, None, None),
    ]
    command.downgrade(empty_database.alembic_config(), "0007")
    assert "entry_authors" not in tables(empty_database)
    assert differences(empty_database) != []


def test_the_desks_migration_puts_every_writer_on_every_blog(empty_database):
    """A running newsroom keeps working: every editor and contributor joins the desk of
    every blog with their own role; admins need no place, being on every desk."""
    config = empty_database.alembic_config()
    command.upgrade(config, "0007")
    with empty_database.engine.begin() as connection:
        for number, role in enumerate(("admin", "editor", "contributor", "editor"), 1):
            connection.execute(
                text(
                    "INSERT INTO users (id, email, name, role, active, created_at) "
                    "VALUES (:id, :email, :name, :role, :active, '2017-03-01 08:00:00')"
                ),
                {
                    "id": number,
                    "email": f"user{number}@news.example",
                    "name": f"User {number}",
                    "role": role,
                    "active": number != 4,  # a deactivated editor keeps their place too
                },
            )
        for number, slug in enumerate(("hama", "aleppo"), 1):
            connection.execute(
                text(
                    "INSERT INTO blogs (id, slug, title, standfirst, status, timezone, "
                    "label_format, language, theme, embed_widgets, last_seq, changed_at, "
                    "created_at, updated_at) VALUES (:id, :slug, :slug, '', 'live', 'UTC', "
                    "'UPDATE %H%M %Z', 'en', 'default', false, 0, :at, :at, :at)"
                ),
                {"id": number, "slug": slug, "at": f"2017-03-2{number} 07:45:00"},
            )
    command.upgrade(config, "head")
    with empty_database.engine.connect() as connection:
        members = connection.execute(
            text("SELECT blog_id, user_id, role, created_at FROM blog_members ORDER BY 1, 2")
        ).all()
        blogs = connection.execute(text("SELECT slug, deleted_at FROM blogs ORDER BY id")).all()
    assert [(blog, user, role) for blog, user, role, _at in members] == [
        (1, 2, "editor"),
        (1, 3, "contributor"),
        (1, 4, "editor"),
        (2, 2, "editor"),
        (2, 3, "contributor"),
        (2, 4, "editor"),
    ]
    assert {str(at)[:10] for *_rest, at in members} == {"2017-03-21", "2017-03-22"}
    assert blogs == [("hama", None), ("aleppo", None)]
    assert differences(empty_database) == []

    command.downgrade(config, "0007")
    assert "blog_members" not in tables(empty_database)
    with empty_database.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM users")).scalar() == 4
        assert connection.execute(text("SELECT slug FROM blogs ORDER BY id")).scalars().all() == [
            "hama",
            "aleppo",
        ]


def test_ended_order_arrives_on_blogs_holding_data_and_leaves_again(empty_database):
    """0012: every blog already there reads newest first once ended, as before; going
    back drops the column alone."""
    config = empty_database.alembic_config()
    before = ScriptDirectory.from_config(config).get_revision("0012").down_revision
    empty_database.upgrade(before)
    row = {
        "slug": "hama", "title": "Hama", "standfirst": "", "status": "ended", "timezone": "UTC",
        "label_format": "UPDATE %H%M %Z", "language": "en", "theme": "default",
        "embed_widgets": False, "last_seq": 3, "changed_at": "2017-03-24 07:45:00",
        "created_at": "2017-03-24 07:00:00", "updated_at": "2017-03-24 07:45:00",
    }  # fmt: skip
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    entry = (
        "INSERT INTO entries (blog_id, author_id, blocks, html, status, pinned, key_event, "
        "version, created_at, updated_at) VALUES (1, 1, '[]', '<p>Words</p>', 'published', "
        "false, false, 1, '2017-03-24 07:00:00', '2017-03-24 07:00:00')"
    )
    with empty_database.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, email, name, role, active, created_at) "
                "VALUES (1, 'e@news.example', 'E', 'editor', true, '2017-03-24 07:00:00')"
            )
        )
        connection.execute(text(f"INSERT INTO blogs (id, {columns}) VALUES (1, {values})"), row)
        connection.execute(text(entry))
    empty_database.upgrade("0012")
    with empty_database.engine.connect() as connection:
        stored = connection.execute(text("SELECT slug, last_seq, ended_order FROM blogs")).all()
    assert [tuple(r) for r in stored] == [("hama", 3, "newest")]
    command.downgrade(config, before)
    assert "ended_order" not in {
        c["name"] for c in inspect(empty_database.engine).get_columns("blogs")
    }
    with empty_database.engine.connect() as connection:
        assert connection.execute(text("SELECT slug, last_seq FROM blogs")).all() == [("hama", 3)]
        assert connection.execute(text("SELECT html FROM entries")).scalar_one() == "<p>Words</p>"
