"""`liveblog serve`, the production server: stock gunicorn with gevent workers."""

import http.client
import shutil
import socket
from collections.abc import Iterator

import pytest

from tests.servers import HOST
from tests.servers import Deployment
from tests.servers import Server
from tests.servers import prepare
from tests.servers import running
from tests.support import wait_until


@pytest.fixture
def served(tmp_path, sqlite_template) -> Iterator[tuple[Server, Deployment]]:
    """`liveblog serve` on a SQLite database with a live blog."""
    path = tmp_path / "liveblog.sqlite"
    shutil.copy(sqlite_template, path)
    deployment = prepare(f"sqlite:///{path}")
    with running(Server(deployment.url, tmp_path)) as server:
        yield server, deployment


def test_the_workers_are_gunicorns_own(served):
    server, _deployment = served
    assert "Using worker: gevent" in server.log()


def test_a_silent_or_slow_client_is_let_go_after_the_keep_alive_time(served):
    server, deployment = served
    half_a_request = f"GET /{deployment.slug}/ HTTP/1.1\r\nHo".encode()
    for sent in (b"", half_a_request):
        with socket.create_connection((HOST, server.port), timeout=15) as idle:
            idle.sendall(sent)
            assert idle.recv(65536) == b"", "the server closes the connection"


def test_a_reader_on_one_connection_sees_each_new_entry(served):
    """A keep-alive reader is answered from the page cache, and the next request after a
    change, in any worker, shows it."""
    server, deployment = served
    reader = http.client.HTTPConnection(HOST, server.port, timeout=10)
    try:
        for number in range(3):
            report = f"Shelling reported, report {number}."
            entries = f"/api/v1/blogs/{deployment.slug}/entries"
            server.api(deployment.editor_token, "POST", entries, {"body": report})

            def shown(report: str = report) -> bool:
                reader.request("GET", f"/{deployment.slug}/")
                return report.encode() in reader.getresponse().read()

            wait_until(shown, message=f"{report!r} never appeared", interval=0.02)
    finally:
        reader.close()
