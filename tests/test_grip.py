"""GRIP in one process: Pushpin's signatures, and what is published to it.

A server on 127.0.0.1 records the publishes.
"""

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from liveblog import create_app
from liveblog import grip
from liveblog.grip import Committed
from liveblog.grip import GripPublisher
from liveblog.live import STOP
from liveblog.live import Event
from tests.support import wait_until

KEY = "a GRIP key long enough for HS256!"


def sign(key: str = KEY, **claims: Any) -> str:
    """A Grip-Sig as Pushpin makes it: issuer and an expiry an hour away, unless given."""
    claims = {"iss": "pushpin", "exp": int(time.time()) + 3600, **claims}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="HS256")


# Signatures


def test_a_signature_of_pushpin_with_the_shared_key_is_good():
    assert grip.is_signed(sign(), KEY.encode())
    assert grip.is_signed(sign(iss="another-proxy"), KEY.encode())


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(sign("another key, just as long as the other"), id="wrong key"),
        pytest.param(sign(exp=int(time.time()) - 1), id="expired"),
        pytest.param(sign(exp=None), id="no exp"),
        pytest.param(jwt.encode({"exp": int(time.time()) + 60}, KEY * 2, "HS512"), id="HS512"),
        pytest.param(
            jwt.encode({"exp": int(time.time()) + 60}, None, algorithm="none"), id="unsigned"
        ),
        pytest.param("garbage", id="garbage"),
        pytest.param("a.b.c", id="three parts of garbage"),
        pytest.param("", id="empty"),
        pytest.param(None, id="missing"),
    ],
)
def test_any_other_signature_is_not(token):
    assert not grip.is_signed(token, KEY.encode())


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (["blog-1; last-id=7"], 7),
        (["blog-2; last-id=3", "blog-1; last-id=9"], 9),
        (["blog-2; last-id=3, blog-1;last-id=4"], 4),
        (["blog-2; last-id=3"], None),
        (["blog-1; last-id=x"], None),
        (["blog-1; last-id=٣"], None),
        (["blog-1"], None),
        ([], None),
    ],
)
def test_grip_last_names_the_last_seq_of_the_blogs_channel(headers, expected):
    assert grip.last_id(headers, "blog-1") == expected


# Settings


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"GRIP_URL": "http://127.0.0.1:5561/"}, "go together"),
        ({"GRIP_KEY": KEY}, "go together"),
        ({"GRIP_URL": "127.0.0.1:5561", "GRIP_KEY": KEY}, "must be Pushpin's publish endpoint"),
        ({"GRIP_URL": "http://127.0.0.1:5561/", "GRIP_KEY": "changeme"}, "at least 32 bytes"),
        ({"GRIP_URL": "http://127.0.0.1:5561/", "GRIP_KEY": "CHANGE-ME"}, "at least 32 bytes"),
        ({"GRIP_URL": "http://127.0.0.1:5561/", "GRIP_KEY": "base64:!!"}, "not base64"),
        ({"GRIP_URL": "http://127.0.0.1:5561/", "GRIP_KEY": "base64:c2hvcnQ="}, "32 bytes"),
    ],
)
def test_grip_settings_that_cannot_work_stop_the_app(settings, message):
    with pytest.raises(SystemExit) as caught:
        create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "test", **settings})
    assert message in str(caught.value)


# What is published


def event(seq: int = 4, kind: str = "entry.published", **data: Any) -> Event:
    return Event(seq, kind, {"seq": seq, "type": kind, **data})


def test_a_change_is_published_once_with_its_seq_and_the_one_before():
    change = event(html="<p>é</p>")
    answer = b'{"events":[],"seq":4}\n'
    assert grip.publish_items("blog-1", change, answer) == [
        {
            "channel": "blog-1",
            "id": "4",
            "prev-id": "3",
            "formats": {
                "http-stream": {"content": change.message.decode()},
                "http-response": {
                    "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
                    "body": answer.decode(),
                },
            },
        }
    ]


def test_the_end_of_the_blog_stops_and_closes_streams():
    end = event(7, "blog.updated", status="ended")
    published, closing = grip.publish_items("blog-1", end, b"{}", ends=True)
    assert published["formats"]["http-stream"]["content"].encode() == end.message + STOP
    assert (published["id"], published["prev-id"]) == ("7", "6")
    assert closing == {
        "channel": "blog-1",
        "prev-id": "7",
        "formats": {"http-stream": {"action": "close"}},
    }


def test_batches_keep_the_order_and_their_size():
    items = [{"id": str(n), "pad": "x" * 100} for n in range(50)]
    bodies = list(grip.batches(items, max_bytes=1000))
    assert len(bodies) > 1 and all(len(body) <= 1000 for body in bodies)
    sent = [item for body in bodies for item in json.loads(body)["items"]]
    assert sent == items
    assert [json.loads(body)["items"] for body in grip.batches(items[:1], max_bytes=10)] == [
        items[:1]
    ]
    assert list(grip.batches([])) == []


# Pushpin's publish endpoint, as a recording server


class PublishEndpoint:
    """Records every publish POSTed to ``/publish/``; answers with ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.statuses: list[int] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                endpoint.paths.append(self.path)
                if status == 200:
                    assert self.headers["Content-Type"] == "application/json"
                    endpoint.bodies.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "10")
                self.end_headers()
                self.wfile.write(b"Published\n")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def items(self) -> list[dict[str, Any]]:
        return [item for body in self.bodies for item in body["items"]]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def endpoint() -> Iterator[PublishEndpoint]:
    endpoint = PublishEndpoint()
    yield endpoint
    endpoint.stop()


def settled(publisher: GripPublisher) -> None:
    """Wait until everything committed so far has been sent (or given up)."""
    wait_until(publisher.idle, message="the publisher never finished")


def test_the_publisher_sends_a_burst_in_order_and_retries_what_failed(endpoint):
    rendered: list[list[Committed]] = []

    def render(changes: list[Committed]) -> list[dict[str, Any]]:
        rendered.append(changes)
        return [{"channel": "blog-1", "id": str(change.seq)} for change in changes]

    publisher = GripPublisher(endpoint.url, render, backoff=0.01)
    try:
        endpoint.statuses = [503]
        publisher.publish([Committed(1, 1, "live")])
        publisher.publish([Committed(1, 2, "live"), Committed(1, 3, "live")])
        settled(publisher)
        publisher.publish([Committed(1, 4, "live")])
        settled(publisher)
    finally:
        publisher.stop(timeout=5)
    assert [item["id"] for item in endpoint.items()] == ["1", "2", "3", "4"]
    assert set(endpoint.paths) == {"/publish/"}
    assert publisher.failures == 1 and publisher.abandoned == 0
    assert sum(len(changes) for changes in rendered) == 4  # each change rendered once


def test_a_publish_pushpin_never_takes_is_given_up_and_logged(endpoint, caplog):
    publisher = GripPublisher(endpoint.url, lambda changes: [{"id": "1"}], backoff=0.01)
    try:
        endpoint.statuses = [500, 500, 500]
        publisher.publish([Committed(1, 1, "live")])
        settled(publisher)
        publisher.publish([Committed(1, 2, "live")])
        settled(publisher)
    finally:
        publisher.stop(timeout=5)
    assert (publisher.failures, publisher.abandoned, publisher.sent) == (3, 1, 1)
    assert "did not take a publish after 3 attempts" in caplog.text
