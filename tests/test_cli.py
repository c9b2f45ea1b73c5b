"""The ``liveblog`` command, driven as a user would, against a database in tmp_path."""

import re
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func
from sqlalchemy import inspect
from sqlalchemy import select

from liveblog import accounts
from liveblog import store
from liveblog.cli import cli
from liveblog.db import Database
from liveblog.labels import format_label
from liveblog.models import Blog
from liveblog.models import Change
from liveblog.models import Entry
from tests.support import soup

DEMO_SLUG = "syria-hama-offensive"
PASSWORD = "correct horse battery"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """LIVEBLOG_* variables for a fresh instance folder and SQLite database in tmp_path."""
    for name in ("LIVEBLOG_SECRET_KEY", "LIVEBLOG_MEDIA_PATH", "LIVEBLOG_THEMES_PATH"):
        monkeypatch.delenv(name, raising=False)
    return {
        "LIVEBLOG_INSTANCE_PATH": str(tmp_path / "instance"),
        "LIVEBLOG_DATABASE_URL": f"sqlite:///{tmp_path / 'liveblog.sqlite'}",
        "LIVEBLOG_SCHEDULER_INTERVAL": "0",
    }


@pytest.fixture
def liveblog(env):
    """Run ``liveblog ARGS…`` in-process; returns click's Result."""
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(cli, list(args), env=env, input=input, prog_name="liveblog")

    return invoke


@pytest.fixture
def database(env):
    database = Database(env["LIVEBLOG_DATABASE_URL"])
    yield database
    database.engine.dispose()


@pytest.fixture
def migrated(liveblog):
    result = liveblog("db", "upgrade")
    assert result.exit_code == 0, result.output


@pytest.fixture
def web_app(env, monkeypatch, migrated, make_bare_app):
    """The web app the CLI's settings describe, for checking what the commands did."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return make_bare_app()


def failed_cleanly(result, message):
    """A non-zero exit with ``message`` for the user and no traceback."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert message in result.output, result.output
    return True


def test_db_upgrade_migrates_to_the_head_and_can_run_again(liveblog, database):
    _current, head = database.migration_state()
    assert database.migration_state() == (None, head)
    first = liveblog("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert first.output == f"Database is at revision {head}.\n"
    assert database.migration_state() == (head, head)
    assert {"blogs", "entries", "changes", "users"} <= set(
        inspect(database.engine).get_table_names()
    )
    again = liveblog("db", "upgrade")
    assert again.exit_code == 0 and again.output == first.output
    assert liveblog("db", "current").output == f"database: {head}; code: {head}\n"


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["serve"],
        ["demo"],
        ["users", "create", "a@b.org", "--no-password"],
        ["tokens", "create", "a@b.org"],
    ],
)
def test_commands_on_an_unmigrated_database_say_to_migrate(liveblog, command):
    result = liveblog(*command)
    assert failed_cleanly(result, "Run 'liveblog db upgrade' first.")
    assert "is empty" in result.output


def test_the_installed_command_says_to_migrate_without_a_traceback(env):
    executable = Path(sys.executable).with_name("liveblog")
    done = subprocess.run(
        [str(executable), "demo"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith("Error: The database sqlite:///")
    assert "Run 'liveblog db upgrade' first." in done.stderr


def test_users_create_reads_the_password_from_stdin(liveblog, migrated, database):
    result = liveblog(
        "users",
        "create",
        "Desk@News.example",
        "--role",
        "editor",
        "--password-stdin",
        input=f"{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output == "Created editor desk@news.example.\n"
    with database.sessions() as session:
        user = store.get_user_by_email(session, "desk@news.example")
        assert (user.role, user.name) == ("editor", "desk")
        assert accounts.check_password(user, PASSWORD)
        assert not accounts.check_password(user, PASSWORD + "\n")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (
            "not-an-email",
            PASSWORD,
            "Error: email: must be an email address such as desk@example.org",
        ),
        ("desk@news.example", "short", "Error: password: must be at least 10 characters"),
        ("desk@news.example", "", "Error: password: must be at least 10 characters"),
    ],
)
def test_users_create_rejects_bad_input_clearly(
    liveblog, migrated, database, email, password, message
):
    result = liveblog("users", "create", email, "--password-stdin", input=f"{password}\n")
    assert failed_cleanly(result, message)
    with database.sessions() as session:
        assert store.get_user_by_email(session, email) is None


def test_users_create_rejects_a_duplicate_and_an_unknown_role(liveblog, migrated):
    create = ("users", "create", "desk@news.example", "--no-password")
    assert liveblog(*create).exit_code == 0
    assert failed_cleanly(
        liveblog(*create), "A user with the email desk@news.example already exists."
    )
    unknown = liveblog("users", "create", "x@news.example", "--role", "boss", "--no-password")
    assert unknown.exit_code == 2
    assert "Invalid value for '--role'" in unknown.output
    assert "Traceback" not in unknown.output


def test_a_created_token_authenticates_against_the_api(liveblog, web_app):
    assert liveblog("users", "create", "desk@news.example", "--no-password").exit_code == 0
    result = liveblog("tokens", "create", "desk@news.example", "--label", "laptop")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert re.fullmatch(r"lb_[\w-]{40,}", token)

    client = web_app.test_client()
    ok = client.get("/api/v1/blogs", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200, ok.get_json()
    wrong = client.get("/api/v1/blogs", headers={"Authorization": f"Bearer {token}x"})
    assert wrong.status_code == 401


def test_tokens_create_for_an_unknown_user(liveblog, migrated):
    result = liveblog("tokens", "create", "nobody@news.example")
    assert failed_cleanly(
        result, "There is no user nobody@news.example; create one with 'liveblog users create'."
    )


# The demo


@pytest.fixture
def demo(liveblog, web_app):
    result = liveblog("demo")
    assert result.exit_code == 0, result.output
    return result


def test_demo_loads_once(liveblog, demo, database):
    assert demo.output.startswith(f"Loaded the demo blog with 3 entries: /{DEMO_SLUG}/\n")
    again = liveblog("demo")
    assert again.exit_code == 0, again.output
    assert again.output.startswith(f"The demo blog /{DEMO_SLUG}/ is already loaded.\n")
    with database.sessions() as session:
        count = select(func.count())
        assert session.scalar(count.select_from(Blog)) == 1
        assert session.scalar(count.select_from(Entry)) == 3
        assert session.scalar(count.select_from(Change)) == 3
        assert store.get_blog(session, DEMO_SLUG).last_seq == 3


def test_demo_content(demo, database):
    with database.sessions() as session:
        blog = store.get_blog(session, DEMO_SLUG)
        assert blog.status == "live"
        entries = session.scalars(
            select(Entry).where(Entry.blog_id == blog.id).order_by(Entry.published_at)
        ).all()
    assert [e.status for e in entries] == ["published"] * 3
    labels = [format_label(e.published_at, blog.timezone, blog.label_format) for e in entries]
    assert labels == ["UPDATE 0600 GMT", "UPDATE 0630 GMT", "UPDATE 0745 GMT"]
    assert entries[1].headline == "Pro-Assad Activist Calls for Use of Chemical Weapons"

    blocks = [block for entry in entries for block in entry.blocks]
    maps = [block for block in blocks if block["type"] == "map"]
    assert len(maps) == 1
    assert [marker["label"] for marker in maps[0]["markers"]] == [
        "Qomhana",
        "Kawkab",
        "Mhardeh",
        "Hama military airport",
    ]
    social = [block for block in blocks if block["type"] == "social"]
    assert len(social) == 2
    assert all("placeholder" in block["text"].lower() for block in social)

    # The stored HTML says so to readers too.
    rendered = soup("".join(entry.html for entry in entries))
    quotes = [
        quote.get_text(" ", strip=True) for quote in rendered.select(".block-social blockquote")
    ]
    assert len(quotes) == 2 and all(quote.startswith("Placeholder") for quote in quotes)
    places = [link.get_text() for link in rendered.select(".block-map li a")]
    assert places == ["Qomhana", "Kawkab", "Mhardeh", "Hama military airport"]


def test_demo_prints_a_working_api_token(demo, web_app):
    token = re.search(r"API token for \S+: (lb_\S+)", demo.output).group(1)
    response = web_app.test_client().get(
        f"/api/v1/blogs/{DEMO_SLUG}/entries", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    items = response.get_json()["items"]
    assert [item["label"] for item in items] == [
        "UPDATE 0745 GMT",
        "UPDATE 0630 GMT",
        "UPDATE 0600 GMT",
    ]


def test_demo_top_image_is_served(demo, web_app, database):
    with database.sessions() as session:
        assert store.get_blog(session, DEMO_SLUG).top_image["url"] == "/media/demo/top-photo.png"
    with web_app.test_client().get("/media/demo/top-photo.png") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/png"
        served = response.data
    original = files("liveblog.demo").joinpath("media", "top-photo.png").read_bytes()
    assert served == original
    assert original.startswith(b"\x89PNG")


def test_rerender_refreshes_stored_html_and_tells_readers(liveblog, demo, database):
    with database.sessions() as session:
        session.execute(Entry.__table__.update().values(html="<p>stale</p>"))
        session.commit()
    result = liveblog("rerender")
    assert result.exit_code == 0, result.output
    assert result.output == "Re-rendered 3 entries.\n"
    with database.sessions() as session:
        assert "stale" not in "".join(session.scalars(select(Entry.html)))
        blog = store.get_blog(session, DEMO_SLUG)
        assert blog.last_seq == 4
        assert store.changes_since(session, blog, 3)[0].kind == "blog.updated"
