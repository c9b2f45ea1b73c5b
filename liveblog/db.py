"""Flask glue for the database: one engine per app, one session per app context."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from flask import current_app
from flask import g
from sqlalchemy import Engine
from sqlalchemy import create_engine
from sqlalchemy import event
from sqlalchemy import make_url
from sqlalchemy.engine import ExceptionContext
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"
# Connections per process: a request holds one until it ends, and a gevent worker serves
# many requests at once. 2 workers x 30 stays inside PostgreSQL's default of 100.
POOL = {"pool_size": 10, "max_overflow": 20}


# SQLite's words for storage it cannot use now, and PostgreSQL's error classes for the
# same: a lost connection, no resources left (a full disk), a shutdown, a read-only server.
SQLITE_STORAGE_FAULTS = (
    "readonly database",
    "database or disk is full",
    "disk i/o error",
    "unable to open database file",
)
POSTGRES_STORAGE_FAULTS = ("08", "53", "57P", "25006")


def is_storage_fault(error: BaseException) -> bool:
    """Whether ``error`` (a DB-API error) says the storage cannot be used right now."""
    sqlstate = getattr(error, "sqlstate", None)
    if sqlstate:
        return str(sqlstate).startswith(POSTGRES_STORAGE_FAULTS)
    return any(words in str(error).lower() for words in SQLITE_STORAGE_FAULTS)


def _heal_after_storage_faults(engine: Engine) -> None:
    """After a storage fault, no connection opened while the storage was unusable lives
    on: a SQLite connection opened on a read-only file stays read-only, and while one
    stays open the file's shared index is read-only for every new one in the process.

    The failed connection is treated as lost: SQLAlchemy closes it, reports
    ``connection_invalidated``, and reconnects every older pooled connection at its next
    checkout. Its cursor is closed first: a closed SQLite connection lingers while a
    statement of it is held, and the traceback holds the failed one. On SQLite the idle
    connections are closed at once, since any one left open keeps the index read-only.
    """

    @event.listens_for(engine, "handle_error")
    def on_error(context: ExceptionContext) -> None:
        if not is_storage_fault(context.original_exception):
            return
        context.is_disconnect = True
        # ExceptionContext.cursor is declared but not set in SQLAlchemy 2.1.
        cursor = getattr(context.execution_context, "cursor", None)
        if cursor is not None:
            cursor.close()
        if engine.dialect.name == "sqlite":
            engine.pool.dispose()  # the idle ones only; checked-out ones are not orphaned


def make_engine(url: str, sqlite_busy_timeout_ms: int = 10_000) -> Engine:
    """An engine; SQLite gets WAL, foreign keys, a busy timeout and honest transactions.

    On every backend, a storage fault empties the pool (see _heal_after_storage_faults).
    """
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_pre_ping=True, **POOL)
        _heal_after_storage_faults(engine)
        return engine
    if make_url(url).database in (None, "", ":memory:"):
        url = _scratch_database()
    engine = create_engine(url, **POOL)

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling defers BEGIN and cannot BEGIN IMMEDIATE;
        # turn it off and let the "begin" hook below emit the statement.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(sqlite_busy_timeout_ms)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # Writers take the write lock up front: a deferred transaction that read first
        # could not upgrade to a writer once another commit made its snapshot stale.
        immediate = connection.get_execution_options().get("write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    _heal_after_storage_faults(engine)
    return engine


def _scratch_database() -> str:
    """A SQLite URL for ``sqlite://``: a database of this process's own that goes when the
    process does. SQLite's ``:memory:`` is one connection's, so a pool of threads cannot
    share it; a file in RAM-backed temporary space (/dev/shm where there is one) can be."""
    folder = tempfile.mkdtemp(
        prefix="liveblog-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None
    )
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return f"sqlite:///{folder}/liveblog.sqlite"


class Database:
    """An app's engine and session factory, usable from requests, CLI and threads."""

    def __init__(self, url: str, sqlite_busy_timeout_ms: int = 10_000) -> None:
        self.url = url
        self.engine = make_engine(url, sqlite_busy_timeout_ms)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    def alembic_config(self) -> AlembicConfig:
        config = AlembicConfig()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision``."""
        command.upgrade(self.alembic_config(), revision)

    def migration_state(self) -> tuple[str | None, str]:
        """The database's current revision and the code's head revision."""
        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        with self.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        return current, str(head)


def init_app(app: Flask) -> None:
    """Attach a Database to ``app`` and close each context's session at teardown."""
    database = Database(app.config["DATABASE_URL"], app.config["SQLITE_BUSY_TIMEOUT"])
    app.extensions["liveblog.db"] = database
    app.teardown_appcontext(_close_session)


def database(app: Flask | None = None) -> Database:
    """The Database of ``app`` (default: the current app)."""
    found: Database = (app or current_app).extensions["liveblog.db"]
    return found


def session() -> Session:
    """The current app context's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database().sessions()
    opened: Session = g.db_session
    return opened


def _close_session(_exc: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
