"""GRIP in one process: Pushpin's signatures, what the live views tell Pushpin, and what is
published to it after each commit.

The test client stands in for Pushpin's requests (it signs them as Pushpin does), and a
server on 127.0.0.1 records the publishes; tests/test_grip_servers.py runs Pushpin itself.
"""

import json
import threading
import time
from collections.abc import Callable
from collections.abc import Iterator
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from flask import Flask
from sqlalchemy import event

from liveblog import create_app
from liveblog import db
from liveblog import grip
from liveblog.grip import Committed
from liveblog.grip import GripPublisher
from liveblog.live import STOP
from liveblog.live import Event
from liveblog.web.pagecache import cache_key
from tests.factories import ApiClient
from tests.factories import wait_until_current
from tests.support import wait_until

KEY = "a GRIP key long enough for HS256!"
HEARTBEAT = 0.1


def sign(key: str = KEY, **claims: Any) -> str:
    """A Grip-Sig as Pushpin makes it: issuer and an expiry an hour away, unless given."""
    claims = {"iss": "pushpin", "exp": int(time.time()) + 3600, **claims}
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="HS256")


SIGNED = {"Grip-Sig": sign()}


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


def test_a_base64_key_is_the_bytes_it_encodes_as_pushpin_reads_it(make_bare_app):
    app = make_bare_app(
        DATABASE_URL="sqlite://",
        SECRET_KEY="test",
        GRIP_URL="http://127.0.0.1:5561/",
        GRIP_KEY="base64:" + "AAEC" * 11,
    )
    assert app.config["GRIP_KEY"] == b"\x00\x01\x02" * 11
    [publisher] = app.extensions["liveblog.live"].publishers
    assert publisher.url == "http://127.0.0.1:5561/publish/"


def test_without_grip_settings_nothing_is_held_or_published(make_bare_app):
    app = make_bare_app(DATABASE_URL="sqlite://", SECRET_KEY="test")
    state = app.extensions["liveblog.live"]
    assert state.grip_key is None and state.publishers == ()


# What is published


def an_event(seq: int = 4, kind: str = "entry.published", **data: Any) -> Event:
    return Event(seq, kind, {"seq": seq, "type": kind, **data})


def test_a_change_is_published_once_with_its_seq_and_the_one_before():
    change = an_event(html="<p>é</p>")
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
    end = an_event(7, "blog.updated", status="ended")
    published, closing = grip.publish_items("blog-1", end, b"{}", ends=True)
    assert published["formats"]["http-stream"]["content"].encode() == end.message + STOP
    assert (published["id"], published["prev-id"]) == ("7", "6")
    assert closing == {
        "channel": "blog-1",
        "prev-id": "7",
        "formats": {"http-stream": {"action": "close"}},
    }


def committed(seq: int, seconds_ago: float, now: datetime) -> Event:
    moment = now - timedelta(seconds=seconds_ago)
    return an_event(seq, changed_at=moment.isoformat(timespec="seconds"))


def test_a_publish_repeats_the_run_of_changes_of_the_last_seconds_before_it():
    now = datetime(2026, 12, 2, 7, 45, 30, tzinfo=UTC)
    window = grip.REPEAT_SECONDS
    events = [committed(1, window - 1, now), committed(2, window + 1, now)]
    events += [committed(seq, 1, now) for seq in range(3, 5)]
    assert [event.seq for event in grip.recent(events, now)] == [3, 4]
    assert [event.seq for event in grip.recent(events[:2], now)] == []
    many = [committed(seq, 0, now) for seq in range(1, grip.REPEAT_MAX + 5)]
    assert grip.recent(many, now) == many[-grip.REPEAT_MAX :]
    assert grip.recent([], now) == []


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

    def delivered(self) -> list[dict[str, Any]]:
        """The items Pushpin would deliver: its id cache drops a repeat of an id it had."""
        seen: set[str] = set()
        items = []
        for item in self.items():
            if item.get("id") not in seen:
                items.append(item)
            if "id" in item:
                seen.add(item["id"])
        return items

    def ids(self) -> list[list[str]]:
        """The ids of each publish request's items."""
        return [[item["id"] for item in body["items"] if "id" in item] for body in self.bodies]

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


# The app, publishing


@pytest.fixture
def app(make_app: Callable[..., Flask], endpoint: PublishEndpoint) -> Flask:
    """An app that Pushpin is in front of: its publishes go to the recording endpoint."""
    app = make_app(LIVE_HEARTBEAT=HEARTBEAT, GRIP_URL=endpoint.url, GRIP_KEY=KEY)
    publisher_of(app).backoff = 0.01
    return app


def publisher_of(app: Flask) -> GripPublisher:
    [publisher] = app.extensions["liveblog.live"].publishers
    return publisher  # type: ignore[no-any-return]


def direct_stream(client, since: int, count: int | None = None) -> list[bytes]:
    """What the app's own stream after ``since`` sends but keep-alives: its first ``count``
    events (or everything, up to its end), as sent."""
    with client.get(f"/hama/events?since={since}") as response:
        assert "Grip-Hold" not in response.headers
        sent: list[bytes] = []
        for chunk in response.response:
            if chunk.startswith((b"id:", b"event:")):
                sent.append(chunk)
            if len(sent) == count:
                return sent
    assert count is None, f"the stream ended after {sent}"
    return sent


def test_each_commit_is_published_as_readers_get_it_and_repeated_by_the_next(
    api, app, client, endpoint
):
    admin = api.as_role("admin")
    first = api.post_entry(headline="Assault on Qomhana", key_event=True)
    settled(publisher_of(app))
    api.post_entry(body="Rebels take **Tel Sakhr**.")
    settled(publisher_of(app))
    api.edit_entry(first, pinned=True)
    settled(publisher_of(app))
    admin.patch("/api/v1/blogs/hama", json={"title": "Hama, day 2"})
    settled(publisher_of(app))
    # Each publish repeats the changes of the last seconds, as they were first sent.
    assert endpoint.ids() == [["1"], ["1", "2"], ["1", "2", "3"], ["1", "2", "3", "4"]]
    items = endpoint.delivered()
    for item in endpoint.items():
        sent_first = items[int(item["id"]) - 1]
        assert item["formats"]["http-stream"] == sent_first["formats"]["http-stream"]
    assert [(item["id"], item["prev-id"]) for item in items] == [
        ("1", "0"),
        ("2", "1"),
        ("3", "2"),
        ("4", "3"),
    ]
    assert {item["channel"] for item in items} == {"blog-1"}
    streamed = direct_stream(client, 0, 4)
    assert [item["formats"]["http-stream"]["content"].encode() for item in items] == streamed
    everything = client.get("/hama/changes?since=0").get_json()["events"]
    for number, item in enumerate(items):
        answer = item["formats"]["http-response"]
        assert answer["headers"]["Content-Type"] == "application/json"
        seq = number + 1
        assert json.loads(answer["body"]) == {
            "seq": seq,
            "status": "live",
            "reset": False,
            "events": [everything[number]],
        }
    # The last one is byte for byte what a long-poll after 3 is answered with now.
    assert items[-1]["formats"]["http-response"]["body"].encode() == (
        client.get("/hama/changes?since=3").get_data()
    )


def test_the_change_that_ends_the_blog_stops_and_closes_streams(api, app, endpoint):
    api.post_entry()
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    settled(publisher_of(app))
    *_, ended, closing = endpoint.items()
    assert ended["formats"]["http-stream"]["content"].endswith(STOP.decode())
    assert json.loads(ended["formats"]["http-response"]["body"])["status"] == "ended"
    assert closing == {
        "channel": ended["channel"],
        "prev-id": ended["id"],
        "formats": {"http-stream": {"action": "close"}},
    }


def test_deleting_the_blog_sends_its_last_change_and_closes_streams(api, app, endpoint):
    api.post_entry()
    admin = api.as_role("admin")
    etag = admin.get("/api/v1/blogs/hama").headers["ETag"]
    assert admin.delete("/api/v1/blogs/hama", headers={"If-Match": etag}).status_code == 204
    settled(publisher_of(app))
    *_, deleted, closing = endpoint.items()
    assert deleted["formats"]["http-stream"]["content"].endswith(STOP.decode())
    assert json.loads(deleted["formats"]["http-response"]["body"])["status"] == "deleted"
    assert closing == {
        "channel": deleted["channel"],
        "prev-id": deleted["id"],
        "formats": {"http-stream": {"action": "close"}},
    }


def test_changes_of_a_draft_blog_are_not_published(api, app, endpoint):
    admin = api.as_role("admin")
    admin.post("/api/v1/blogs", json={"slug": "draft", "title": "Not yet", "status": "draft"})
    admin.post_entry(blog="draft")
    api.post_entry()
    settled(publisher_of(app))
    assert [item["channel"] for item in endpoint.items()] == ["blog-1"]


def test_a_pushpin_that_is_away_never_fails_the_editor(api, app, endpoint, caplog):
    endpoint.statuses = [502] * 3
    api.post_entry()  # 201, or post_entry would have failed
    settled(publisher_of(app))
    assert "did not take a publish" in caplog.text
    api.post_entry()
    settled(publisher_of(app))
    # The change given up comes again with the next one, as every recent change does.
    assert endpoint.ids() == [["1", "2"]]


def test_every_pushpin_instance_gets_every_change_and_one_away_holds_back_none(make_app):
    """Pushpin scales out by instances that do not talk to each other: each edge's own
    gets every change, and an instance that is away delays only its own publishes."""
    edges = [PublishEndpoint() for _ in range(2)]
    app = make_app(GRIP_URL=f"{edges[0].url} , {edges[1].url}", GRIP_KEY=KEY)
    try:
        session = db.database(app).sessions()
        admin = ApiClient(app.test_client(), session).as_role("admin")
        admin.post("/api/v1/blogs", json={"slug": "hama", "title": "Hama", "status": "live"})
        api = admin.as_role("editor")
        publishers = app.extensions["liveblog.live"].publishers
        assert [p.url for p in publishers] == [f"{edge.url}publish/" for edge in edges]
        for publisher in publishers:
            publisher.backoff = 0.01
        edges[0].statuses = [502] * 3
        api.post_entry(body="First.")
        api.post_entry(body="Second.")
        wait_until(
            lambda: len(edges[1].delivered()) == 2, message="the second edge got no publishes"
        )
        for publisher in publishers:
            settled(publisher)
        assert [item["id"] for item in edges[1].delivered()] == ["1", "2"]
        assert edges[0].ids() == [["1", "2"]]
    finally:
        session.close()
        for edge in edges:
            edge.stop()


# The app, answering Pushpin


def stream_headers(response) -> dict[str, str]:
    return {name: value for name, value in response.headers if name.startswith("Grip-")}


def next_link(response) -> tuple[str, int]:
    """A held stream's Grip-Link without its timeout, and the timeout."""
    link, _, timeout = response.headers["Grip-Link"].rpartition("; timeout=")
    return link, int(timeout)


def test_a_signed_stream_gets_the_replay_and_a_hold_on_the_blogs_channel(api, client):
    for number in range(3):
        api.post_entry(body=f"Update {number}.")
    held = client.get("/hama/events", headers={**SIGNED, "Last-Event-ID": "1"})
    assert held.status_code == 200 and held.headers["Content-Length"]  # not a stream
    assert held.mimetype == "text/event-stream"
    assert held.headers["X-Accel-Buffering"] == "no"
    link, timeout = next_link(held)
    assert link == "</hama/events>; rel=next" and timeout in grip.NEXT_LINK_TIMEOUTS
    assert {name: value for name, value in stream_headers(held).items() if name != "Grip-Link"} == {
        "Grip-Hold": "stream",
        "Grip-Channel": "blog-1; prev-id=3",
        "Grip-Keep-Alive": ": keep-alive\\n\\n; format=cstring; timeout=1",
    }
    # Byte for byte what the app's own stream sends.
    assert held.get_data() == b"retry: 3000\n\n" + b"".join(direct_stream(client, 1, 2))
    caught_up = client.get("/hama/events", headers=SIGNED)
    assert caught_up.get_data() == b"retry: 3000\n\n"
    assert caught_up.headers["Grip-Channel"] == "blog-1; prev-id=3"


def test_quiet_streams_ask_their_next_link_rarely_and_each_at_its_own_time(api, client):
    """Pushpin asks for every stream of one quiet period at once: the periods are spread."""
    periods = {next_link(client.get("/hama/events", headers=SIGNED))[1] for _ in range(40)}
    assert len(periods) > 20
    assert min(periods) >= 1800 and max(periods) < 3600  # half an hour to an hour


def test_pushpins_next_link_gets_what_its_stream_missed_after_grip_last(api, client):
    for number in range(4):
        api.post_entry(body=f"Update {number}.")
    resumed = client.get(
        "/hama/events", headers={**SIGNED, "Grip-Last": "blog-1; last-id=2", "Last-Event-ID": "0"}
    )
    assert resumed.get_data() == b"".join(direct_stream(client, 2, 2))  # no retry line
    assert resumed.headers["Grip-Channel"] == "blog-1; prev-id=4"
    nothing_new = client.get("/hama/events", headers={**SIGNED, "Grip-Last": "blog-1; last-id=4"})
    assert nothing_new.get_data() == b"" and nothing_new.headers["Grip-Hold"] == "stream"


@pytest.mark.parametrize(
    "signature",
    [
        pytest.param(sign("another key, just as long as the other"), id="forged"),
        pytest.param(sign(exp=int(time.time()) - 10), id="expired"),
        pytest.param(None, id="missing"),
    ],
)
def test_without_a_good_signature_the_app_serves_the_stream_itself(api, client, signature):
    api.post_entry()
    headers = {"Last-Event-ID": "0", "Grip-Last": "blog-1; last-id=1"}
    if signature:
        headers["Grip-Sig"] = signature
    with client.get("/hama/events", headers=headers) as response:
        assert "Content-Length" not in response.headers and stream_headers(response) == {}
        chunks = iter(response.response)
        assert next(chunks) == b"retry: 3000\n\n"
        assert next(chunks).startswith(b"id: 1\n")  # Grip-Last was not believed either
    api.post_entry()
    held = client.get("/hama/changes?since=2", headers=headers)
    assert stream_headers(held) == {} and held.get_json()["events"] == []


def test_a_signed_stream_of_an_ended_blog_is_not_held(api, client):
    api.post_entry()
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    behind = client.get("/hama/events?since=1", headers=SIGNED)
    assert stream_headers(behind) == {}
    assert behind.get_data() == b"retry: 3000\n\n" + b"".join(direct_stream(client, 1))
    assert behind.get_data().endswith(STOP)
    caught_up = client.get("/hama/events?since=2", headers=SIGNED)
    assert (caught_up.status_code, caught_up.get_data()) == (204, b"")


def test_a_signed_stream_that_cannot_resume_is_reset_not_held(api, make_app, endpoint):
    for number in range(5):
        api.post_entry(body=f"Update {number}.")
    other = make_app(LIVE_REPLAY_LIMIT=3, GRIP_URL=endpoint.url, GRIP_KEY=KEY).test_client()
    for since in (0, 9):  # too far behind, and ahead of the log
        reset = other.get(f"/hama/events?since={since}", headers=SIGNED)
        assert reset.get_data() == b"retry: 3000\n\nevent: reset\ndata: {}\n\n"
        assert stream_headers(reset) == {}


def test_a_signed_long_poll_with_nothing_new_is_held(api, client):
    api.post_entry()
    direct = client.get("/hama/changes?since=1")
    held = client.get("/hama/changes?since=1", headers=SIGNED)
    assert stream_headers(held) == {"Grip-Hold": "response", "Grip-Channel": "blog-1; prev-id=1"}
    assert held.headers["Cache-Control"] == "no-store"
    # What Pushpin answers if nothing comes in time: today's "nothing new", byte for byte.
    assert held.get_data() == direct.get_data()
    answered = client.get("/hama/changes?since=0", headers=SIGNED)
    assert stream_headers(answered) == {}
    assert answered.get_data() == client.get("/hama/changes?since=0").get_data()


def test_a_signed_long_poll_of_an_ended_blog_is_answered_at_once(api, client):
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    answered = client.get("/hama/changes?since=1", headers=SIGNED)
    assert stream_headers(answered) == {} and answered.get_json()["status"] == "ended"


def test_the_page_cache_never_answers_for_pushpin(api, app, client):
    api.post_entry()
    client.get("/hama/changes?since=1")  # now kept by the page cache
    wait_until_current(app)
    page_cache = app.extensions["liveblog.page_cache"]
    assert page_cache.answer(cache_key("http", "/hama/changes", "since=1"), None, None)
    held = client.get("/hama/changes?since=1", headers=SIGNED)
    assert held.headers["Grip-Hold"] == "response"


@pytest.mark.parametrize(
    ("path", "headers"), [("/hama/events?since=0", SIGNED), ("/hama/changes?since=0", {})]
)
def test_a_replay_in_a_request_reads_through_the_requests_own_connection(
    api, make_app, endpoint, path, headers
):
    """Were it to take a second one, a worker's requests could each hold a connection
    while the one loading the replay for all of them waited for another."""
    for number in range(3):
        api.post_entry(body=f"Update {number}.")
    fresh = make_app(GRIP_URL=endpoint.url, GRIP_KEY=KEY)  # nothing loaded yet
    engine = db.database(fresh).engine
    me = threading.get_ident()
    held = {"now": 0, "most": 0}

    def checkout(*_args: Any) -> None:
        if threading.get_ident() == me:
            held["now"] += 1
            held["most"] = max(held["most"], held["now"])

    def checkin(*_args: Any) -> None:
        if threading.get_ident() == me:
            held["now"] -= 1

    event.listen(engine, "checkout", checkout)
    event.listen(engine, "checkin", checkin)
    try:
        response = fresh.test_client().get(path, headers=headers)
    finally:
        event.remove(engine, "checkout", checkout)
        event.remove(engine, "checkin", checkin)
    assert response.status_code == 200 and b"Update 2." in response.get_data()
    assert held["most"] == 1
