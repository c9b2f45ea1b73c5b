"""The production worker: page-cache hits answered before gunicorn parses the request,
everything else handed to gunicorn with the bytes already read."""

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from gunicorn.config import Config
from gunicorn.glogging import Logger

from liveblog import store
from liveblog.web.worker import Limits
from liveblog.web.worker import PageCacheWorker
from liveblog.web.worker import parse_head
from tests.factories import wait_until_current
from tests.servers import HOST
from tests.servers import Deployment
from tests.servers import Server
from tests.servers import prepare
from tests.servers import running
from tests.support import wait_until

HOST_LINE = "Host: news.example"


def head(*lines: str) -> bytes:
    return "\r\n".join(lines).encode("latin-1")


@pytest.mark.parametrize(
    ("raw", "method", "target", "path", "query"),
    [
        (head("GET /hama/ HTTP/1.1", HOST_LINE), "GET", "/hama/", "/hama/", ""),
        (head("HEAD /hama/ HTTP/1.1", HOST_LINE), "HEAD", "/hama/", "/hama/", ""),
        (
            head("GET /hama/?before=abc_12 HTTP/1.1", HOST_LINE, "Accept: */*"),
            "GET",
            "/hama/?before=abc_12",
            "/hama/",
            "before=abc_12",
        ),
        (head("GET /hama/? HTTP/1.1", HOST_LINE), "GET", "/hama/?", "/hama/", ""),
        (head("GET /hama/ HTTP/1.0", HOST_LINE), "GET", "/hama/", "/hama/", ""),
    ],
)
def test_a_plain_get_or_head_may_be_answered_from_the_cache(raw, method, target, path, query):
    request = parse_head(raw)
    assert request is not None
    assert (request.method, request.target, request.path, request.query) == (
        method,
        target,
        path,
        query,
    )
    assert request.field("host") == "news.example"


def test_fields_are_read_case_insensitively_without_surrounding_space():
    request = parse_head(
        head("GET / HTTP/1.1", "HOST: a", 'if-None-Match:  "x" ', "Connection: keep-alive, Close")
    )
    assert request is not None
    assert request.field("if-none-match") == '"x"'
    assert request.closes
    assert not parse_head(head("GET / HTTP/1.1", HOST_LINE, "Connection: keep-alive")).closes


def test_http_1_0_needs_no_host_and_closes_unless_asked_to_keep_alive():
    request = parse_head(head("GET / HTTP/1.0"))
    assert request is not None and request.version == "1.0" and request.closes
    assert not parse_head(head("GET / HTTP/1.0", "Connection: Keep-Alive")).closes
    assert parse_head(head("GET / HTTP/1.0", "Connection: keep-alive, close")).closes


def test_heads_beyond_gunicorns_limits_are_left_to_gunicorn():
    limits = Limits(line=30, fields=3, field_size=20)
    assert parse_head(head("GET /hama/ HTTP/1.1", HOST_LINE, "A: 1", "B: 2"), limits)
    assert parse_head(head(f"GET /{'a' * 30} HTTP/1.1", HOST_LINE), limits) is None
    assert parse_head(head("GET / HTTP/1.1", HOST_LINE, "A: 1", "B: 2", "C: 3"), limits) is None
    assert parse_head(head("GET / HTTP/1.1", HOST_LINE, f"A: {'1' * 20}"), limits) is None


@pytest.mark.parametrize(
    "raw",
    [
        head("POST /hama/ HTTP/1.1", HOST_LINE),
        head("OPTIONS * HTTP/1.1", HOST_LINE),
        head("get /hama/ HTTP/1.1", HOST_LINE),
        head("GET /hama/ HTTP/1.2", HOST_LINE),
        head("GET /hama/ HTTP/2.0", HOST_LINE),
        head("GET http://news.example/hama/ HTTP/1.1", HOST_LINE),
        head("GET /h%61ma/ HTTP/1.1", HOST_LINE),
        head("GET /hama/#top HTTP/1.1", HOST_LINE),
        head("GET /hama/  HTTP/1.1", HOST_LINE),
        head("GET /hamá/ HTTP/1.1", HOST_LINE),
        head("GET /hama/ HTTP/1.1"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, HOST_LINE),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "Content-Length: 5"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "Transfer-Encoding: chunked"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "Upgrade: h2c"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "Expect: 100-continue"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, 'If-None-Match: "a"', 'If-None-Match: "b"'),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "No colon here"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "Bad name: x"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "X-Folded: a", " b"),
        head("GET /hama/ HTTP/1.1", HOST_LINE, "X-Bare: a\nb"),
        head("GET /hama/ HTTP/1.1", HOST_LINE + "\r"),
        head("", "GET /hama/ HTTP/1.1", HOST_LINE),
        b"",
    ],
)
def test_anything_unusual_is_left_to_gunicorn(raw):
    assert parse_head(raw) is None


# The worker in this process, on real TCP connections


@pytest.fixture
def story(api):
    return [api.post_entry(body=f"Update number {n}.") for n in range(3)]


class Recorded(PageCacheWorker):
    """The worker, with gunicorn's ``pre_request`` hook noting every request gunicorn parses."""

    parsed: list[str]


def make_worker(app: Flask, **settings: Any) -> Recorded:
    parsed: list[str] = []
    config = Config()
    config.set("pre_request", lambda worker, request: parsed.append(request.uri))
    for name, value in settings.items():
        config.set(name, value)
    worker = Recorded(0, os.getpid(), [], None, 30, config, Logger(config))
    worker.wsgi, worker.parsed = app, parsed
    return worker


def retire(worker: Recorded) -> None:
    worker.tmp.close()
    for handler in worker.log.access_log.handlers + worker.log.error_log.handlers:
        handler.close()


@pytest.fixture
def worker(app: Flask) -> Iterator[Recorded]:
    worker = make_worker(app)
    yield worker
    retire(worker)


def exchange(worker: Recorded, raw: bytes) -> bytes:
    """Send ``raw`` on a fresh connection, close the sending side, and return every byte
    the worker writes back before it closes the connection."""
    with socket.create_server((HOST, 0)) as listener:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        served, addr = listener.accept()
        handler = threading.Thread(target=worker.handle, args=(listener, served, addr))
        handler.start()
        try:
            client.sendall(raw)
            client.shutdown(socket.SHUT_WR)
            received = b""
            while chunk := client.recv(65536):
                received += chunk
        finally:
            client.close()
            handler.join(10)
    assert not handler.is_alive(), "the worker kept the connection open"
    return received


def responses(raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The HTTP/1.1 responses in ``raw``: status, headers (lower-case names), body."""
    found = []
    while raw:
        head_bytes, _, raw = raw.partition(b"\r\n\r\n")
        status_line, *lines = head_bytes.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        status = int(status_line.split()[1])
        length = int(headers.get("content-length", 0)) if status != 304 else 0
        found.append((status, headers, raw[:length]))
        raw = raw[length:]
    return found


def get(path: str, *fields: str, method: str = "GET") -> bytes:
    return head(f"{method} {path} HTTP/1.1", HOST_LINE, *fields) + b"\r\n\r\n"


def primed(app: Flask, worker: Recorded, path: str) -> tuple[dict[str, str], bytes]:
    """Serve ``path`` once, through Flask, so the page cache holds it; its headers and body."""
    ((status, headers, body),) = responses(exchange(worker, get(path)))
    assert status == 200
    wait_until_current(app)
    return headers, body


def test_a_cached_page_is_answered_before_gunicorn_parses_it(app, worker, story):
    headers, body = primed(app, worker, "/hama/")
    assert worker.parsed == ["/hama/"]

    ((status, again, again_body),) = responses(exchange(worker, get("/hama/")))

    assert worker.parsed == ["/hama/"], "gunicorn never parsed the hit"
    assert status == 200 and again_body == body
    assert again.pop("date") and headers.pop("date")
    assert again == headers


def test_keep_alive_and_pipelined_requests_are_answered_in_order(app, worker, story):
    _, page = primed(app, worker, "/hama/")
    permalink = f"/hama/updates/{story[0]['id']}"
    raw = get("/hama/") + get("/hama/") + get(permalink) + get("/hama/")

    answered = responses(exchange(worker, raw))

    assert [status for status, _, _ in answered] == [200, 200, 200, 200]
    assert [body for _, _, body in answered][:2] == [page, page]
    assert b"Update number 0." in answered[2][2] and answered[3][2] == page
    assert worker.parsed[1:] == [permalink, "/hama/"], (
        "from the first miss on, gunicorn serves the connection"
    )
    assert [headers["connection"] for _, headers, _ in answered[:2]] == ["keep-alive"] * 2


def test_head_and_revalidations_from_the_cache(app, worker, story):
    headers, body = primed(app, worker, "/hama/")
    etag = headers["etag"]
    raw = (
        get("/hama/", f"If-None-Match: W/{etag}")
        + get("/hama/", f"If-Modified-Since: {headers['last-modified']}")
        + get("/hama/", 'If-None-Match: "other"')
    )

    (exact, by_date, other) = responses(exchange(worker, raw))
    head_only = exchange(worker, get("/hama/", method="HEAD"))

    assert worker.parsed == ["/hama/"]
    assert head_only.startswith(b"HTTP/1.1 200 OK\r\n") and head_only.endswith(b"\r\n\r\n")
    assert f"Content-Length: {len(body)}\r\n".encode() in head_only
    for status, found, content in (exact, by_date):
        assert (status, content) == (304, b"")
        assert found["etag"] == etag and "content-length" not in found
    assert other[0] == 200 and other[2] == body


def test_connection_close_ends_the_connection_after_the_answer(app, worker, story):
    primed(app, worker, "/hama/")
    answered = responses(exchange(worker, get("/hama/", "Connection: close") + get("/hama/")))
    assert len(answered) == 1
    assert answered[0][1]["connection"] == "close"


def test_a_head_pipelined_before_a_get_is_framed_apart_from_it(app, worker, story):
    headers, page = primed(app, worker, "/hama/")
    raw = exchange(
        worker,
        get("/hama/", method="HEAD")
        + get("/hama/", f"If-None-Match: {headers['etag']}", method="HEAD")
        + get("/hama/"),
    )
    first, rest = raw.split(b"\r\n\r\n", 1)
    assert first.startswith(b"HTTP/1.1 200 OK\r\n")
    ((not_modified, _, _), (status, _, body)) = responses(rest)
    assert (not_modified, status, body) == (304, 200, page)


def test_the_answer_that_reaches_max_requests_closes_the_connection(app, story):
    worker = make_worker(app, max_requests=3)
    try:
        primed(app, worker, "/hama/")
        answered = responses(exchange(worker, get("/hama/") * 3))
    finally:
        retire(worker)
    assert [headers["connection"] for _, headers, _ in answered] == ["keep-alive", "close"]
    assert not worker.alive


def test_a_stopping_worker_closes_each_connection_after_its_answer(app, worker, story):
    primed(app, worker, "/hama/")
    worker.alive = False
    answered = responses(exchange(worker, get("/hama/") * 2))
    assert [headers["connection"] for _, headers, _ in answered] == ["close"]


def test_http_1_0_readers_are_answered_in_their_version(app, worker, story):
    _, page = primed(app, worker, "/hama/")
    one_off = head("GET /hama/ HTTP/1.0") + b"\r\n\r\n"
    kept = head("GET /hama/ HTTP/1.0", "Connection: keep-alive") + b"\r\n\r\n"

    closed = exchange(worker, one_off + one_off)
    assert closed.startswith(b"HTTP/1.0 200 OK\r\n")
    assert [(headers["connection"], body) for _, headers, body in responses(closed)] == [
        ("close", page)
    ]
    both = responses(exchange(worker, kept + one_off))
    assert [(headers["connection"], body) for _, headers, body in both] == [
        ("keep-alive", page),
        ("close", page),
    ]
    assert worker.parsed == ["/hama/"]


def test_a_request_with_a_body_goes_to_gunicorn_whole(app, worker, story):
    """A body is never taken for the next request, whatever it holds."""
    primed(app, worker, "/hama/")
    smuggled = get("/hama/")
    raw = (
        head("GET /hama/ HTTP/1.1", HOST_LINE, f"Content-Length: {len(smuggled)}")
        + b"\r\n\r\n"
        + smuggled
    )
    answered = responses(exchange(worker, raw))
    assert len(answered) == 1
    assert worker.parsed[1:] == ["/hama/"]


@pytest.mark.parametrize(
    "raw",
    [
        b"GET /hama/ HTTP/1.1\r\nBad name: x\r\n\r\n",
        b"GET /hama/ HTTP/1.1\r\n" + b"X-Long: " + b"a" * 10000 + b"\r\n\r\n",
    ],
)
def test_a_malformed_request_gets_gunicorns_error(app, worker, story, raw):
    primed(app, worker, "/hama/")
    ((status, _, _),) = responses(exchange(worker, raw))
    assert status in (400, 431)


def test_answers_are_in_the_access_log(app, story, tmp_path):
    log = tmp_path / "access.log"
    worker = make_worker(app, accesslog=str(log))
    try:
        primed(app, worker, "/hama/")
        exchange(worker, get("/hama/", "User-Agent: Reader/1.0"))
    finally:
        retire(worker)
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert '"GET /hama/ HTTP/1.1" 200' in lines[1] and '"Reader/1.0"' in lines[1]


# The production server


@pytest.fixture
def served(tmp_path, sqlite_template) -> Iterator[tuple[Server, Deployment]]:
    """`liveblog serve` on a SQLite database with a live blog."""
    path = tmp_path / "liveblog.sqlite"
    shutil.copy(sqlite_template, path)
    deployment = prepare(f"sqlite:///{path}")
    with running(Server(deployment.url, tmp_path)) as server:
        yield server, deployment


def test_a_silent_or_slow_client_is_let_go_after_the_keep_alive_time(served):
    server, deployment = served
    for sent in (b"", get(f"/{deployment.slug}/")[:20]):
        with socket.create_connection((HOST, server.port), timeout=15) as idle:
            idle.sendall(sent)
            assert idle.recv(65536) == b"", "the server closes the connection"


def test_a_reader_on_one_connection_sees_each_new_entry(served):
    """A keep-alive reader is answered from the cache, and the next request after a change,
    in any worker, shows it."""
    server, deployment = served
    page = get(f"/{deployment.slug}/")
    with socket.create_connection((HOST, server.port), timeout=10) as reader:
        for number in range(3):
            report = f"Shelling reported, report {number}."
            server.api(
                deployment.editor_token,
                "POST",
                f"/api/v1/blogs/{deployment.slug}/entries",
                {"body": report},
            )

            def shown(report: str = report) -> bool:
                reader.sendall(page)
                return report.encode() in read_response(reader)

            wait_until(shown, message=f"{report!r} never appeared", interval=0.02)


def read_response(sock: socket.socket) -> bytes:
    raw = b""
    while b"\r\n\r\n" not in raw:
        raw += sock.recv(65536)
    head_bytes, _, body = raw.partition(b"\r\n\r\n")
    ((_, headers, _),) = responses(head_bytes + b"\r\n\r\n")
    length = int(headers["content-length"])
    while len(body) < length:
        body += sock.recv(65536)
    return body


def test_a_copy_older_than_the_fronts_seq_is_left_to_gunicorn(app, api, worker, story):
    primed(app, worker, "/hama/")
    seq = store.get_blog(api.session, "hama").last_seq
    raw = get("/hama/", f"Liveblog-Seq: {seq}") + get("/hama/", f"Liveblog-Seq: {seq + 1}")

    answered = responses(exchange(worker, raw))

    assert [status for status, _, _ in answered] == [200, 200]
    assert worker.parsed == ["/hama/", "/hama/"], "the copy at seq answered; the newer ask not"
