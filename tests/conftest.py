"""Fixtures: an app on a real database (SQLite always, PostgreSQL when configured)."""

import os
import shutil
import threading
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from liveblog import create_app
from liveblog import db
from liveblog.cli import cli
from liveblog.db import Database
from liveblog.models import Base
from liveblog.models import User
from tests.factories import ApiClient
from tests.factories import app_config
from tests.factories import make_user
from tests.factories import open_blog
from tests.factories import shut
from tests.fakes import fake_server
from tests.fakes import image_bytes
from tests.servers import PostgresDatabases
from tests.support import BACKENDS
from tests.support import CHROMIUM
from tests.support import CHROMIUM_ARGS
from tests.support import POSTGRES_URL


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/ with what is rendered now (then review the diff)",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """Whether golden files are to be rewritten rather than compared (--update-golden)."""
    return bool(request.config.getoption("--update-golden"))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite database file, copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "liveblog.sqlite"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.engine.dispose()
    return str(path)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own, created beside LIVEBLOG_TEST_DATABASE_URL's.

    Runs in parallel (a developer's and CI's, or several terminals) never empty each
    other's tables; the database is dropped at the end.
    """
    assert POSTGRES_URL
    server = make_url(POSTGRES_URL)
    name = f"{server.database}_run_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> Iterator[Database]:
    """This run's PostgreSQL database, migrated once."""
    database = Database(postgres_url)
    database.upgrade()
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def server_databases() -> Iterator[PostgresDatabases]:
    """Databases for `liveblog serve` processes, one per test, from one migrated template."""
    assert POSTGRES_URL
    databases = PostgresDatabases(POSTGRES_URL)
    yield databases
    databases.close()


def _empty_database(request: pytest.FixtureRequest, folder: Path) -> str:
    """The URL of a migrated database without rows on the backend ``request.param``: a copy
    of the SQLite template in ``folder``, or this run's PostgreSQL database emptied."""
    if request.param == "sqlite":
        path = folder / "liveblog.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    database = request.getfixturevalue("postgres_database")
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return database.url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    return _empty_database(request, tmp_path)


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """One database for all of a module's tests, on each backend: for modules of many small
    tests that each make rows of their own, where a fresh database per test costs the most."""
    return _empty_database(request, tmp_path_factory.mktemp("module"))


@pytest.fixture
def make_bare_app() -> Iterator[Callable[..., Flask]]:
    """Build apps from the given settings alone (and TESTING): no test database or other test
    defaults, so the rest comes from LIVEBLOG_* variables and the instance folder. Each is
    shut at the end."""
    made: list[Flask] = []

    def make(**settings: Any) -> Flask:
        made.append(create_app({"TESTING": True, **settings}))
        return made[-1]

    yield make
    for app in made:
        shut(app)


@pytest.fixture
def make_app(
    make_bare_app: Callable[..., Flask], database_url: str, tmp_path: Any
) -> Callable[..., Flask]:
    """Build apps on this test's database with extra settings; each is shut at the end.

    Every app made is another process as far as the test can tell: its own notifier, caches
    and connections on the same database.
    """

    def make(**settings: Any) -> Flask:
        return make_bare_app(**app_config(database_url, tmp_path, **settings))

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db.database(app).sessions() as session:
        yield session


@pytest.fixture
def admin(session: Session) -> User:
    return make_user(session, "admin")


@pytest.fixture
def editor(session: Session) -> User:
    return make_user(session, "editor")


@pytest.fixture
def contributor(session: Session) -> User:
    return make_user(session, "contributor")


@pytest.fixture
def api(client: FlaskClient, session: Session) -> ApiClient:
    """An API client acting as an editor, on a live blog 'hama' created by an admin."""
    api = ApiClient(client, session)
    open_blog(api, slug="hama", title="Hama", status="live")
    return api.as_role("editor")


@pytest.fixture
def demo_app(app: Flask) -> Flask:
    """The app with the demo live blog loaded by the real ``liveblog demo`` command."""
    result = app.test_cli_runner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture
def live_server(demo_app: Flask) -> Iterator[str]:
    """The demo app served over real HTTP on 127.0.0.1; yields its origin."""
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, headless, every request kept on loopback (``CHROMIUM_ARGS``): one
    per test module; each test opens its own context or page."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with sync_api.sync_playwright() as driver:
        launched = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def tiles(demo_app: Flask) -> Iterator[Any]:
    """Map tiles from a tile server on 127.0.0.1, so the demo's maps show without the
    internet."""
    with fake_server() as server:
        server.route("/tiles/*", image_bytes((256, 256), "PNG"), content_type="image/png")
        demo_app.config["MAP_TILE_URL"] = server.url("/tiles/{z}/{x}/{y}.png")
        yield server
