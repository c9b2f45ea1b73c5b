"""Settings from LIVEBLOG_* variables, the instance secret, SQLite's settings."""

import os
import stat
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from liveblog import create_app
from liveblog import db
from liveblog.cli import cli
from liveblog.config import SETTINGS
from liveblog.config import load_config


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """A fresh instance folder, and no LIVEBLOG_* variables but the ones a test sets."""
    for name in list(os.environ):
        if name.startswith("LIVEBLOG_"):
            monkeypatch.delenv(name)
    path = tmp_path / "instance"
    monkeypatch.setenv("LIVEBLOG_INSTANCE_PATH", str(path))
    return path


def test_defaults_live_in_the_instance_folder(instance, make_bare_app):
    app = make_bare_app()
    assert app.instance_path == str(instance)
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'liveblog.sqlite'}"
    assert app.config["MEDIA_PATH"] == str(instance / "media")
    assert app.config["API_PAGE_SIZE"] == 50
    assert app.config["MAX_CONTENT_LENGTH"] == app.config["MAX_REQUEST_BYTES"] == 1_048_576


def test_environment_variables_are_read_and_parsed(instance, monkeypatch, make_bare_app):
    monkeypatch.setenv("LIVEBLOG_DATABASE_URL", f"sqlite:///{instance.parent / 'other.sqlite'}")
    monkeypatch.setenv("LIVEBLOG_BASE_URL", "https://news.example/")
    monkeypatch.setenv("LIVEBLOG_API_PAGE_SIZE", "25")
    monkeypatch.setenv("LIVEBLOG_MAX_REQUEST_BYTES", " 2048 ")
    monkeypatch.setenv("LIVEBLOG_SCHEDULER_INTERVAL", "0.5")
    monkeypatch.setenv("LIVEBLOG_READER_MAX_AGE", "")  # empty means unset
    app = make_bare_app()
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance.parent / 'other.sqlite'}"
    assert app.config["BASE_URL"] == "https://news.example"
    assert app.config["API_PAGE_SIZE"] == 25
    assert app.config["MAX_REQUEST_BYTES"] == app.config["MAX_CONTENT_LENGTH"] == 2048
    assert app.config["SCHEDULER_INTERVAL"] == 0.5
    assert app.config["READER_MAX_AGE"] == 5


def test_the_mapping_given_to_create_app_wins_over_the_environment(instance, monkeypatch):
    monkeypatch.setenv("LIVEBLOG_API_PAGE_SIZE", "25")
    config: dict = {}
    load_config(config, instance, {"API_PAGE_SIZE": 10, "SECRET_KEY": "given"})
    assert (config["API_PAGE_SIZE"], config["SECRET_KEY"]) == (10, "given")


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("API_PAGE_SIZE", "twenty", "LIVEBLOG_API_PAGE_SIZE must be a whole number, not 'twenty'"),
        ("API_PAGE_SIZE", "2.5", "LIVEBLOG_API_PAGE_SIZE must be a whole number, not '2.5'"),
        ("SCHEDULER_INTERVAL", "2s", "LIVEBLOG_SCHEDULER_INTERVAL must be a number, not '2s'"),
        ("SCHEDULER_INTERVAL", "nan", "LIVEBLOG_SCHEDULER_INTERVAL must be a number, not 'nan'"),
        (
            "SQLITE_BUSY_TIMEOUT",
            "inf",
            "LIVEBLOG_SQLITE_BUSY_TIMEOUT must be a whole number, not 'inf'",
        ),
        ("API_PAGE_SIZE", "-5", "LIVEBLOG_API_PAGE_SIZE must be above zero, not '-5'"),
        ("LIVE_HEARTBEAT", "0", "LIVEBLOG_LIVE_HEARTBEAT must be above zero, not '0'"),
        ("READER_MAX_AGE", "-1", "LIVEBLOG_READER_MAX_AGE must be zero or more, not '-1'"),
    ],
)
def test_a_bad_number_stops_with_a_clear_message(instance, monkeypatch, name, raw, message):
    monkeypatch.setenv(f"LIVEBLOG_{name}", raw)
    with pytest.raises(SystemExit) as caught:
        create_app()
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("raw", "value"), [("1", True), ("YES", True), ("off", False), ("0", False)]
)
def test_switches_read_yes_and_no(instance, monkeypatch, make_bare_app, raw, value):
    monkeypatch.setenv("LIVEBLOG_FETCH_PRIVATE_ADDRESSES", raw)
    assert make_bare_app().config["FETCH_PRIVATE_ADDRESSES"] is value


def test_a_bad_switch_stops_with_a_clear_message(instance, monkeypatch):
    monkeypatch.setenv("LIVEBLOG_FETCH_PRIVATE_ADDRESSES", "maybe")
    with pytest.raises(SystemExit) as caught:
        create_app()
    assert (
        str(caught.value) == "LIVEBLOG_FETCH_PRIVATE_ADDRESSES must be true or false, not 'maybe'"
    )


def test_oembed_endpoints_come_as_json(instance, monkeypatch, make_bare_app):
    monkeypatch.setenv("LIVEBLOG_OEMBED_ENDPOINTS", '{"x": "https://oembed.example/x"}')
    assert make_bare_app().config["OEMBED_ENDPOINTS"] == {"x": "https://oembed.example/x"}
    for raw in ("{not json", '["x"]', '{"x": 1}'):
        monkeypatch.setenv("LIVEBLOG_OEMBED_ENDPOINTS", raw)
        with pytest.raises(SystemExit) as caught:
            create_app()
        assert str(caught.value).startswith("LIVEBLOG_OEMBED_ENDPOINTS must be a JSON object")


def test_every_setting_has_help():
    assert all(setting.help.strip() for setting in SETTINGS)
    assert len({setting.name for setting in SETTINGS}) == len(SETTINGS)


# The secret key


def test_a_secret_is_generated_once_and_kept_private(instance, make_bare_app):
    first = make_bare_app()
    secret_file = instance / "secret_key"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) >= 32
    assert secret_file.read_text().strip() == first.config["SECRET_KEY"]
    second = make_bare_app()
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert sorted(path.name for path in instance.iterdir()) == ["secret_key"]


def test_there_is_no_hard_coded_secret(instance, tmp_path, monkeypatch, make_bare_app):
    assert next(s.default for s in SETTINGS if s.name == "SECRET_KEY") is None
    one = make_bare_app().config["SECRET_KEY"]
    monkeypatch.setenv("LIVEBLOG_INSTANCE_PATH", str(tmp_path / "elsewhere"))
    assert make_bare_app().config["SECRET_KEY"] != one


def test_a_secret_from_the_environment_is_used_and_nothing_is_written(
    instance, monkeypatch, make_bare_app
):
    monkeypatch.setenv("LIVEBLOG_SECRET_KEY", "from-the-environment")
    assert make_bare_app().config["SECRET_KEY"] == "from-the-environment"
    assert not (instance / "secret_key").exists()


def secrets_of_workers_starting_together(folder: Path, workers: int = 8) -> list[str]:
    barrier = threading.Barrier(workers)
    secrets: list[str] = []

    def start() -> None:
        config: dict = {}
        barrier.wait()
        load_config(config, folder, {"DATABASE_URL": "sqlite://"})
        secrets.append(config["SECRET_KEY"])

    threads = [threading.Thread(target=start) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(secrets) == workers
    return secrets


def test_processes_starting_together_share_one_whole_secret(tmp_path):
    """WSGI workers may start at the same moment: none may read a half-written key."""
    for attempt in range(20):
        folder = tmp_path / f"instance-{attempt}"
        secrets = secrets_of_workers_starting_together(folder)
        assert len(set(secrets)) == 1 and len(secrets[0]) >= 32
        assert [path.name for path in folder.iterdir()] == ["secret_key"]


# SQLite


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(instance, make_bare_app):
    app = make_bare_app(SQLITE_BUSY_TIMEOUT=1234)
    engine = db.database(app).engine
    for _ in range(2):  # every pooled connection, not only the first
        with engine.connect() as connection:
            pragma = {
                name: connection.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
            assert pragma == {
                "journal_mode": "wal",
                "foreign_keys": 1,
                "busy_timeout": 1234,
                "synchronous": 1,  # NORMAL
            }
        engine.dispose()


def test_sqlite_busy_timeout_from_the_environment(instance, monkeypatch, make_bare_app):
    monkeypatch.setenv("LIVEBLOG_SQLITE_BUSY_TIMEOUT", "2500")
    with db.database(make_bare_app()).engine.connect() as connection:
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 2500


def test_an_in_memory_url_gives_each_app_a_database_of_its_own(instance, make_bare_app):
    first, second = make_bare_app(DATABASE_URL="sqlite://"), make_bare_app(DATABASE_URL="sqlite://")
    for app in (first, second):
        db.database(app).upgrade()
    result = first.test_cli_runner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    failures = []

    def write_and_read(number):  # threads share the database, each with its own connection
        client = first.test_client()
        for attempt in range(5):
            posted = client.post(
                "/api/v1/blogs/syria-hama-offensive/entries",
                json={"body": f"Update {number}.{attempt}"},
                headers={"Authorization": f"Bearer {token}"},
            )
            read = client.get("/syria-hama-offensive/changes?since=0")
            if (posted.status_code, read.status_code) != (201, 200):
                failures.append((posted.get_data(as_text=True), read.get_data(as_text=True)))

    threads = [threading.Thread(target=write_and_read, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert failures == []
    changes = first.test_client().get("/syria-hama-offensive/changes?since=0").get_json()
    assert changes["seq"] == 3 + 20
    assert second.test_client().get("/syria-hama-offensive/").status_code == 404
    assert not Path(db.database(first).engine.url.database).is_relative_to(instance)
