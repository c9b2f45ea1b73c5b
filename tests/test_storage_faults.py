"""Storage that fails under the app: a clear 503 to retry, nothing stored damaged, and
recovery without a restart (hardening item 8).

These need root's powers over the machine (a tmpfs mount; a process without the
capabilities that let root ignore file modes), and are skipped with a reason otherwise.
"""

import json
import shutil
import subprocess
import urllib.error
import urllib.request

import pytest
from sqlalchemy import create_engine
from sqlalchemy import text
from sqlalchemy.engine import make_url

from liveblog import db
from tests.factories import ApiClient
from tests.factories import assert_problem
from tests.servers import Server
from tests.servers import prepare
from tests.servers import running

NO_FILE_OVERRIDES = (
    "setpriv",
    "--inh-caps=-dac_override,-dac_read_search",
    "--bounding-set=-dac_override,-dac_read_search",
    "--",
)


def assert_storage_down(response):
    problem = assert_problem(response, 503)
    assert response.headers["Retry-After"] == "30"
    assert "everything saved before is safe" in problem["detail"]


def assert_intact(database_url: str, slug: str, bodies: list[str]) -> None:
    """Every acknowledged entry is there, and the change log counts 1, 2, 3… without holes."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            found = connection.execute(
                text(
                    "SELECT e.blocks FROM entries e JOIN blogs b ON b.id = e.blog_id "
                    "WHERE b.slug = :slug ORDER BY e.id"
                ),
                {"slug": slug},
            ).scalars()
            markdown = [
                (json.loads(blocks) if isinstance(blocks, str) else blocks)[0]["markdown"]
                for blocks in found
            ]
            seqs = connection.execute(
                text(
                    "SELECT c.seq FROM changes c JOIN blogs b ON b.id = c.blog_id "
                    "WHERE b.slug = :slug ORDER BY c.seq"
                ),
                {"slug": slug},
            ).scalars()
            assert markdown == bodies
            assert list(seqs) == list(range(1, len(bodies) + 1))
            if engine.dialect.name == "sqlite":
                assert connection.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    finally:
        engine.dispose()


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB file system of its own, so that it can fill up."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)], capture_output=True
    )
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=True)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_full_disk_is_a_503_and_publishing_resumes_when_space_returns(
    make_app, small_disk, sqlite_template
):
    shutil.copy(sqlite_template, small_disk / "liveblog.sqlite")
    url = f"sqlite:///{small_disk / 'liveblog.sqlite'}"
    app = make_app(DATABASE_URL=url)
    with db.database(app).sessions() as session:
        api = ApiClient(app.test_client(), session).as_role("admin")
        api.post("/api/v1/blogs", json={"slug": "hama", "title": "Hama", "status": "live"})
        bodies = ["Before the disk filled up."]
        api.post_entry(body=bodies[0])
        filler = small_disk / "filler"
        with open(filler, "wb") as file, pytest.raises(OSError):
            while True:
                file.write(b"\0" * 65536)
        for _ in range(2):  # an entry larger than the space SQLite has kept in reserve
            response = api.post("/api/v1/blogs/hama/entries", json={"body": "x" * 45_000})
            assert_storage_down(response)
        page = api.client.get("/editor/login")  # a page without the database still works
        assert page.status_code == 200
        filler.unlink()
        bodies.append("After the disk was freed.")
        api.post_entry(body=bodies[1])
    assert_intact(url, "hama", bodies)


def test_a_read_only_database_file_is_a_503_and_heals_without_a_restart(tmp_path, sqlite_template):
    if shutil.which("setpriv") is None:
        pytest.skip("util-linux's setpriv is needed to run the server without file overrides")
    folder = tmp_path / "data"
    folder.mkdir()
    shutil.copy(sqlite_template, folder / "liveblog.sqlite")
    url = f"sqlite:///{folder / 'liveblog.sqlite'}"
    deployment = prepare(url)
    server = Server(url, tmp_path, workers=1, wrapper=NO_FILE_OVERRIDES)
    entries = f"/api/v1/blogs/{deployment.slug}/entries"
    with running(server):
        server.api(deployment.editor_token, "POST", entries, {"body": "Written before."})
    # The server keeps the database open, so SQLite's -wal and -shm files exist while it
    # runs: this connection stands in for it while the file is read-only.
    keeper = create_engine(url).connect()
    keeper.execute(text("SELECT count(*) FROM entries"))
    files = [folder, *folder.iterdir()]
    for path in files:
        path.chmod(0o555 if path.is_dir() else 0o444)
    try:
        with running(server):  # its connections open on the read-only file
            with urllib.request.urlopen(f"{server.origin}/{deployment.slug}/", timeout=10) as page:
                assert page.status == 200  # readers still read
            request = urllib.request.Request(
                server.origin + entries,
                method="POST",
                data=b'{"body": "Refused."}',
                headers={
                    "Authorization": f"Bearer {deployment.editor_token}",
                    "Content-Type": "application/json",
                },
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 503
            assert refused.value.headers["Retry-After"] == "30"
            assert "everything saved before is safe" in json.loads(refused.value.read())["detail"]
            for path in files:
                path.chmod(0o755 if path.is_dir() else 0o644)
            server.api(deployment.editor_token, "POST", entries, {"body": "Written after."})
    finally:
        for path in files:
            path.chmod(0o755 if path.is_dir() else 0o644)
        keeper.close()
    assert_intact(url, deployment.slug, ["Written before.", "Written after."])


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_read_only_postgresql_is_a_503_and_heals_when_writable_again(api, database_url):
    name = make_url(database_url).database
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    others = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    bodies = ["Before the switch."]
    api.post_entry(body=bodies[0])
    try:
        with admin.connect() as connection:
            connection.execute(
                text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
            )
            connection.execute(text(others))  # the pool's connections reconnect, read-only
        for _ in range(2):
            assert_storage_down(api.post("/api/v1/blogs/hama/entries", json={"body": "No."}))
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'ALTER DATABASE "{name}" RESET default_transaction_read_only'))
        admin.dispose()
    bodies.append("Writable again.")
    api.post_entry(body=bodies[1])  # no restart: the read-only connections were let go
    assert_intact(database_url, "hama", bodies)
