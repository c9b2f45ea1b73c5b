"""Live updates in one process: the event stream and the polling endpoint, via the test client.

Each change is one event (``id:`` its seq) carrying the entry exactly as the live page
shows it; streams resume without gaps or repeats, reset when they cannot, keep idle
connections alive and stop when the blog ends. Streams are read with ``iter(response.
response)`` under a short heartbeat, so every read returns within a fraction of a second.
"""

import re
import shutil
import subprocess
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask

from liveblog import db
from liveblog import publishing
from liveblog.db import Database
from liveblog.live import REDIS_CHANNEL
from liveblog.models import utcnow
from liveblog.themes import Themes
from tests.servers import free_port
from tests.servers import parse_event
from tests.support import REDIS_URL
from tests.support import needs_redis
from tests.support import soup
from tests.support import wait_until

HEARTBEAT = 0.1


@pytest.fixture
def live_config() -> dict[str, Any]:
    """Settings for the app under test; tests parametrize it to change them."""
    return {}


@pytest.fixture
def app(make_app, live_config):
    """Conftest's app, with a short heartbeat and the settings of ``live_config``."""
    return make_app(**{"LIVE_HEARTBEAT": HEARTBEAT, **live_config})


class Stream:
    """An open event stream from the test client, read one SSE block at a time."""

    def __init__(self, client, path: str, **headers: str) -> None:
        self.response = client.get(path, headers=headers)
        self.chunks = iter(self.response.response)
        self.buffer = ""
        self.ended = False

    def block(self, timeout: float = 2.0) -> dict[str, Any] | None:
        """The next block (event, comment or retry); None once the server ends the stream."""
        deadline = time.monotonic() + timeout
        while "\n\n" not in self.buffer:
            assert time.monotonic() < deadline, f"nothing on the stream in {timeout} s"
            try:
                chunk = next(self.chunks)
            except StopIteration:
                self.ended = True
                return None
            self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        block, self.buffer = self.buffer.split("\n\n", 1)
        return parse_event(block)

    def event(self, timeout: float = 2.0) -> dict[str, Any] | None:
        """The next event, skipping keep-alive comments and the retry line."""
        deadline = time.monotonic() + timeout
        while True:
            block = self.block(max(0.0, deadline - time.monotonic()))
            if block is None or "event" in block:
                return block

    def events(self, count: int, timeout: float = 2.0) -> list[dict[str, Any]]:
        found = []
        for _ in range(count):
            event = self.event(timeout)
            assert event is not None, f"stream ended after {found}"
            found.append(event)
        return found

    def quiet(self) -> list[dict[str, Any]]:
        """The events sent before the stream's next keep-alive (none, if all is well).

        A stream sends a keep-alive only when a whole heartbeat went by in which the
        notifier had nothing past the last event sent: any event it was going to send, a
        repeat or one too many, comes before that. No guessing how long to wait.
        """
        found = []
        while (block := self.block()) is not None and block != {"comments": ["keep-alive"]}:
            if "event" in block:
                found.append(block)
        return found

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def streams(client):
    """Open streams on the app; all closed at the end of the test."""
    opened: list[Stream] = []

    def open_stream(path: str = "/hama/events", **headers: str) -> Stream:
        stream = Stream(client, path, **headers)
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def page_article(client, entry_id: int, slug: str = "hama") -> str | None:
    """The ``<article>`` the live page renders for an entry, byte for byte."""
    page = client.get(f"/{slug}/").get_data(as_text=True)
    found = re.search(rf'<article [^>]*id="update-{entry_id}".*?</article>', page, re.S)
    return found.group(0) if found else None


def page_key_event(client, entry_id: int, slug: str = "hama") -> str | None:
    page = client.get(f"/{slug}/").get_data(as_text=True)
    found = re.search(rf'<li data-entry-id="{entry_id}".*?</li>', page, re.S)
    return found.group(0) if found else None


def page_day_heading(client, slug: str = "hama") -> str | None:
    """The live page's (single, so hidden) day heading."""
    page = client.get(f"/{slug}/").get_data(as_text=True)
    found = re.search(r'<h2 class="updates-day" hidden>.*?</h2>', page, re.S)
    return found.group(0) if found else None


def etag(entry: dict[str, Any]) -> dict[str, str]:
    return {"If-Match": f'"{entry["version"]}"'}


def edit(api, entry: dict[str, Any], **fields: Any) -> dict[str, Any]:
    response = api.edit_entry(entry, **fields)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def delete(api, entry: dict[str, Any]) -> None:
    path = f"/api/v1/blogs/{entry['blog']}/entries/{entry['id']}"
    assert api.delete(path, headers=etag(entry)).status_code == 204


def make_changes(api, count: int) -> list[dict[str, Any]]:
    return [api.post_entry(body=f"Update number {number}.") for number in range(count)]


# One event per change, as the page shows it


def test_each_change_is_one_event_with_the_entry_as_the_live_page_renders_it(api, client, streams):
    stream = streams()
    assert stream.block() == {"comments": [], "retry": "3000"}
    admin = api.as_role("admin")

    def next_event(seq: int, kind: str, entry_id: int | None) -> dict[str, Any]:
        event = stream.event()
        assert event is not None
        assert (event["id"], event["event"]) == (str(seq), kind)
        assert event["data"]["seq"] == seq and event["data"]["type"] == kind
        assert event["data"].get("entry_id") == entry_id
        assert stream.quiet() == [], "one change, one event"
        return event["data"]  # type: ignore[no-any-return]

    def shown_as_on_the_page(data: dict[str, Any]) -> None:
        assert data["html"] == page_article(client, data["entry_id"])
        assert data["label"] in data["html"]

    first = api.post_entry(headline="Assault on Qomhana", key_event=True)
    data = next_event(1, "entry.published", first["id"])
    shown_as_on_the_page(data)
    assert data["label"] == first["label"]
    assert data["key_event"] is True and data["pinned"] is False
    assert data["key_event_html"].strip() == page_key_event(client, first["id"])

    second = api.post_entry(body="Rebels take **Tel Sakhr**.")
    data = next_event(2, "entry.published", second["id"])
    shown_as_on_the_page(data)
    assert data["day_html"].strip() == page_day_heading(client)

    first = edit(api, first, headline="Assault on Qomhana repelled", key_event=False)
    data = next_event(3, "entry.updated", first["id"])
    shown_as_on_the_page(data)
    assert "repelled" in data["html"] and data["key_event_html"] is None

    second = edit(api, second, pinned=True)
    data = next_event(4, "entry.pinned", second["id"])
    shown_as_on_the_page(data)
    assert data["pinned"] is True and "entry-pinned" in data["html"]

    second = edit(api, second, pinned=False)
    data = next_event(5, "entry.unpinned", second["id"])
    shown_as_on_the_page(data)
    assert data["pinned"] is False

    delete(api, first)
    data = next_event(6, "entry.deleted", first["id"])
    assert data["html"] is None and page_article(client, first["id"]) is None

    admin.patch("/api/v1/blogs/hama", json={"title": "Hama, day 2", "standfirst": "Latest."})
    data = next_event(7, "blog.updated", None)
    last_updated = soup(client.get("/hama/")).select_one(".blog-updated-time")["datetime"]
    assert data.pop("changed_at") == last_updated
    assert data == {
        "seq": 7,
        "type": "blog.updated",
        "title": "Hama, day 2",
        "standfirst": "Latest.",
        "status": "live",
    }


def test_stream_headers_and_retry_line(api, client, streams):
    stream = streams()
    response = stream.response
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "no-cache" in response.headers["Cache-Control"]
    assert stream.block()["retry"] == "3000"


@pytest.mark.parametrize("live_config", [{"LIVE_HEARTBEAT": 0.05}])
def test_an_idle_stream_sends_keep_alive_comments(api, streams):
    stream = streams()
    stream.block()  # retry
    started = time.monotonic()
    blocks = [stream.block() for _ in range(4)]
    assert time.monotonic() - started < 1.0
    assert all(block == {"comments": ["keep-alive"]} for block in blocks)
    api.post_entry()
    assert stream.event()["id"] == "1"


# Resuming


def test_last_event_id_resumes_after_it_in_order_with_nothing_twice(api, streams):
    make_changes(api, 6)
    stream = streams(**{"Last-Event-ID": "2"})
    assert [event["id"] for event in stream.events(4)] == ["3", "4", "5", "6"]
    assert stream.quiet() == []
    api.post_entry()
    assert stream.event()["id"] == "7"
    assert stream.quiet() == []


def test_since_resumes_like_last_event_id_and_the_header_wins(api, streams):
    make_changes(api, 5)
    by_query = streams("/hama/events?since=1").events(4)
    by_header = streams(**{"Last-Event-ID": "1"}).events(4)
    assert by_query == by_header
    assert [event["id"] for event in by_query] == ["2", "3", "4", "5"]
    # EventSource reconnects to the same URL (?since= of the page) adding Last-Event-ID.
    reconnected = streams("/hama/events?since=1", **{"Last-Event-ID": "4"})
    assert [event["id"] for event in reconnected.events(1)] == ["5"]
    assert reconnected.quiet() == []


def test_a_new_reader_starts_at_the_latest_change(api, streams):
    make_changes(api, 3)
    stream = streams()
    assert stream.quiet() == []
    api.post_entry()
    assert stream.event()["id"] == "4"


@pytest.mark.parametrize("live_config", [{"LIVE_REPLAY_LIMIT": 3}])
def test_a_reader_too_far_behind_gets_reset(api, client, streams):
    make_changes(api, 5)
    behind = streams("/hama/events?since=1")
    assert behind.event()["event"] == "reset"
    assert behind.block() is None and behind.ended
    assert client.get("/hama/changes?since=1").get_json()["reset"] is True

    just_in_time = streams("/hama/events?since=2")
    assert [event["id"] for event in just_in_time.events(3)] == ["3", "4", "5"]
    assert [e["seq"] for e in client.get("/hama/changes?since=2").get_json()["events"]] == [3, 4, 5]


@pytest.mark.parametrize("live_config", [{"LIVE_REPLAY_LIMIT": 3}])
def test_the_replay_cache_never_hands_out_a_gap(api, app, streams):
    """Readers at different points, with the log moving on between them (keep = 3)."""
    make_changes(api, 3)
    assert [e["id"] for e in streams("/hama/events?since=0").events(3)] == ["1", "2", "3"]
    make_changes(api, 3)  # the cache holds 1-3; the log goes to 6
    assert [e["id"] for e in streams("/hama/events?since=3").events(3)] == ["4", "5", "6"]
    make_changes(api, 1)
    assert [e["id"] for e in streams("/hama/events?since=4").events(3)] == ["5", "6", "7"]
    # The log is ahead of what this process has heard: the cache loads past `latest`.
    events = app.extensions["liveblog.live"].events
    assert [event.seq for event in events.since(app_blog_id(app), 2, 5)] == [3, 4, 5, 6, 7]
    assert [event.seq for event in events.since(app_blog_id(app), 6, 7)] == [7]


def app_blog_id(app: Flask, slug: str = "hama") -> int:
    with db.database(app).sessions() as session:
        return publishing.store.get_blog(session, slug).id


def test_a_reader_ahead_of_the_log_gets_reset(api, client, streams):
    make_changes(api, 2)
    for stream in (streams("/hama/events?since=3"), streams(**{"Last-Event-ID": "99"})):
        assert stream.event()["event"] == "reset"
        assert stream.block() is None
    body = client.get("/hama/changes?since=3").get_json()
    assert body["reset"] is True and body["events"] == []


@pytest.mark.parametrize("raw", ["", "abc", "-1", "1.5", "0x10", "²", "٣", "1 2"])
def test_a_since_that_is_not_a_change_number_is_a_400(api, client, raw):
    response = client.get("/hama/changes", query_string={"since": raw})
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert "must be a change number such as 42" in response.get_json()["detail"]
    attempts = [{"query_string": {"since": raw}}] if raw else []
    if raw and raw.isascii() or raw == "²":  # what an HTTP header can carry
        attempts.append({"headers": {"Last-Event-ID": raw}})
    for attempt in attempts:
        with client.get("/hama/events", **attempt) as stream:
            assert stream.status_code == 400, attempt
            assert "must be a change number" in stream.get_data(as_text=True)


# Ending


def test_when_the_blog_ends_streams_get_the_update_then_stop(api, client, streams):
    first, second = streams(), streams()
    api.as_role("admin").patch("/api/v1/blogs/hama", json={"status": "ended"})
    for stream in (first, second):
        event = stream.event()
        assert event["event"] == "blog.updated" and event["data"]["status"] == "ended"
        assert stream.event() == {"comments": [], "event": "stop", "data": {}}
        assert stream.block() is None and stream.ended
    for caught_up in ({}, {"headers": {"Last-Event-ID": "1"}}, {"query_string": {"since": 1}}):
        with client.get("/hama/events", **caught_up) as late:  # what ends an EventSource
            assert (late.status_code, late.get_data()) == (204, b""), caught_up
    behind = streams("/hama/events?since=0")
    assert behind.event()["event"] == "blog.updated"
    assert behind.event()["event"] == "stop"
    assert client.get("/hama/changes?since=1").get_json()["status"] == "ended"


def delete_hama(api) -> None:
    """Delete the blog 'hama' as an admin, at its current ETag."""
    admin = api.as_role("admin")
    etag = admin.get("/api/v1/blogs/hama").headers["ETag"]
    assert admin.delete("/api/v1/blogs/hama", headers={"If-Match": etag}).status_code == 204


def test_when_the_blog_is_deleted_open_streams_get_a_last_event_then_stop(api, client, streams):
    api.post_entry()
    watching = streams()
    delete_hama(api)
    event = watching.event()
    assert event["event"] == "blog.updated" and event["data"]["status"] == "deleted"
    assert watching.event() == {"comments": [], "event": "stop", "data": {}}
    assert watching.block() is None and watching.ended
    for path in ("/hama/events", "/hama/events?since=0", "/hama/changes?since=0"):
        late = client.get(path)
        assert late.status_code == 410, path  # an EventSource gives up on it
        assert "deleted" in late.get_json()["detail"]


def test_a_blog_that_goes_live_again_keeps_its_streams(api, streams):
    admin = api.as_role("admin")
    watching = streams()
    admin.patch("/api/v1/blogs/hama", json={"status": "ended"})
    assert watching.event()["data"]["status"] == "ended"  # cached as it was then
    admin.patch("/api/v1/blogs/hama", json={"status": "live"})
    replay = streams("/hama/events?since=0")
    assert [(e["event"], e["data"]["status"]) for e in replay.events(2)] == [
        ("blog.updated", "ended"),
        ("blog.updated", "live"),
    ]
    api.post_entry()
    assert replay.event()["event"] == "entry.published"


# Where changes come from


def test_a_scheduled_entry_reaches_the_stream_when_it_comes_due(api, session, streams):
    due = utcnow() + timedelta(hours=1)
    scheduled = api.post_entry(status="scheduled", published_at=due.isoformat())
    stream = streams()
    assert stream.quiet() == []
    assert publishing.publish_due_entries(session, now=due + timedelta(seconds=1)) == 1
    event = stream.event()
    assert event["event"] == "entry.published" and event["data"]["entry_id"] == scheduled["id"]
    assert f'id="update-{scheduled["id"]}"' in event["data"]["html"]


def test_changes_committed_by_another_process_reach_the_stream(api, database_url, streams):
    """Another engine stands for another process: SQLite's poll or PostgreSQL's NOTIFY."""
    stream = streams()
    other = Database(database_url)
    try:
        with other.sessions() as session:
            editor = publishing.store.get_user_by_email(session, api.user.email)
            publishing.create_entry(session, Themes(), "hama", {"body": "Elsewhere."}, editor)
        event = stream.event()  # within 2 s of the commit: a poll or a NOTIFY, not a heartbeat
        assert event is not None and event["id"] == "1"
    finally:
        other.engine.dispose()


@needs_redis
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("live_config", [{"REDIS_URL": REDIS_URL}])
def test_redis_carries_changes_between_processes_and_ignores_strangers(api, app, make_app, streams):
    import redis

    stream = streams()
    blog_id = app_blog_id(app)
    client = redis.Redis.from_url(REDIS_URL)
    other = make_app(LIVE_HEARTBEAT=HEARTBEAT, REDIS_URL=REDIS_URL)
    try:
        publish_from_another_process(other, api, "Heard through Redis.")
        assert stream.event()["id"] == "1"
        # Another deployment on the same Redis server, whose blog has the same id.
        client.publish(REDIS_CHANNEL, f"{blog_id}:9999")
        client.publish(REDIS_CHANNEL, "not a change")
        # Redis hands messages over in order, so the source hears these two before the
        # next change: that change coming next as seq 2 (not a reset for 9999), and
        # the notifier's latest staying 2, show that both were ignored.
        publish_from_another_process(other, api, "Still heard.")
        event = stream.event()  # within 2 s of the commit
        assert event is not None and (event["event"], event["id"]) == ("entry.published", "2")
        assert app.extensions["liveblog.live"].notifier.latest(blog_id) == 2
    finally:
        client.close()


class PrivateRedis:
    """A redis-server of this test's own on a free port, to take away and bring back."""

    def __init__(self, workdir) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--dir", str(self.workdir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_until(self._answers, message="the private redis-server did not start")

    def _answers(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is needed to take Redis away and bring it back")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def publish_from_another_process(other: Flask, api, body: str) -> None:
    with other.app_context():
        editor = publishing.store.get_user_by_email(db.session(), api.user.email)
        publishing.create_entry(db.session(), Themes(), "hama", {"body": body}, editor)


def test_while_redis_is_away_streams_follow_the_database_then_redis_again(
    api, make_app, private_redis
):
    app = make_app(LIVE_HEARTBEAT=HEARTBEAT, REDIS_URL=private_redis.url, LIVE_POLL_INTERVAL=0.05)
    other = make_app(LIVE_HEARTBEAT=HEARTBEAT, REDIS_URL=private_redis.url)
    source = app.extensions["liveblog.live"].source
    stream = Stream(app.test_client(), "/hama/events")
    try:
        publish_from_another_process(other, api, "Through Redis.")
        assert stream.event()["id"] == "1"
        private_redis.stop()
        wait_until(lambda: source.following is not None, message="Redis's absence went unseen")
        publish_from_another_process(other, api, "Through the database.")
        assert stream.event()["id"] == "2"
        private_redis.start()
        wait_until(lambda: source.following is None, timeout=10, message="Redis never came back")
        publish_from_another_process(other, api, "Through Redis again.")
        started = time.monotonic()
        assert stream.event()["id"] == "3"
        assert time.monotonic() - started < 2  # not the 10 s poll of a silent channel
    finally:
        stream.close()


def test_with_redis_unreachable_from_the_start_streams_still_get_every_change(api, make_app):
    unreachable = f"redis://127.0.0.1:{free_port()}/0"
    app = make_app(LIVE_HEARTBEAT=HEARTBEAT, REDIS_URL=unreachable, LIVE_POLL_INTERVAL=0.05)
    other = make_app(LIVE_HEARTBEAT=HEARTBEAT, REDIS_URL=unreachable)
    stream = Stream(app.test_client(), "/hama/events")
    try:
        publish_from_another_process(other, api, "Redis never answered.")
        assert stream.event()["id"] == "1"
    finally:
        stream.close()
    assert app.extensions["liveblog.live"].source.following is not None


# Rendered once per process


@pytest.mark.parametrize("live_config", [{"LIVE_HEARTBEAT": 10}])
def test_twenty_streams_on_one_change_cost_one_load(api, app):
    events = app.extensions["liveblog.live"].events
    loads = []
    original = events.load

    def counting_load(blog_id: int, since: int, limit: int):
        loads.append((blog_id, since, limit))
        return original(blog_id, since, limit)

    events.load = counting_load
    count = 20
    ready = threading.Barrier(count + 1, timeout=5)
    received: list[dict[str, Any] | None] = [None] * count

    def reader(number: int) -> None:
        stream = Stream(app.test_client(), "/hama/events")
        try:
            stream.block()  # retry: the stream is open
            ready.wait()
            received[number] = stream.event(timeout=5)
        finally:
            stream.close()

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    ready.wait()
    notifier = app.extensions["liveblog.live"].notifier
    wait_until(lambda: notifier.waiting >= count, message=f"{count} streams never all waited")
    assert notifier.waiting == count
    entry = api.post_entry()
    for thread in threads:
        thread.join(10)
    assert all(event is not None and event["data"]["entry_id"] == entry["id"] for event in received)
    assert len({event["data"]["html"] for event in received}) == 1
    assert len(loads) == 1, loads


# Polling


def test_changes_gives_the_same_events_as_json_and_is_cacheable(api, client, streams):
    make_changes(api, 3)
    api.edit_entry(api.get("/api/v1/blogs/hama/entries/1").get_json(), headline="Now")
    streamed = [event["data"] for event in streams("/hama/events?since=1").events(3)]

    response = client.get("/hama/changes?since=1")
    assert response.status_code == 200
    body = response.get_json()
    assert body == {"seq": 4, "status": "live", "reset": False, "events": streamed}
    assert "s-maxage=1" in response.headers["Cache-Control"]
    assert response.headers["ETag"]

    again = client.get("/hama/changes?since=1", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == response.headers["ETag"]

    current = client.get("/hama/changes?since=4").get_json()
    assert current == {"seq": 4, "status": "live", "reset": False, "events": []}
    api.post_entry()
    stale = client.get("/hama/changes?since=1", headers={"If-None-Match": response.headers["ETag"]})
    assert stale.status_code == 200
    assert [event["seq"] for event in stale.get_json()["events"]] == [2, 3, 4, 5]
