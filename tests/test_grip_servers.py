"""Live streams held by a real Pushpin in front of `liveblog serve`.

Pushpin and zurl run from deploy/pushpin/ as shipped, but for ports, paths and sig_key.
Readers connect to Pushpin; the app answers each with what it missed and a hold, and
publishes every commit once: each reader must get every change once, in order, within
2 s, with no connection of its own to the app. Requests sent straight to the app with a
bad signature get the app's own stream.
"""

import json
import shutil
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import update

from liveblog import grip
from liveblog import publishing
from liveblog import store
from liveblog.models import Change
from liveblog.models import utcnow
from tests.fronts import Nginx
from tests.fronts import needs_nginx
from tests.servers import Deployment
from tests.servers import Pushpin
from tests.servers import Server
from tests.servers import SseReader
from tests.servers import free_port
from tests.servers import prepare
from tests.servers import running
from tests.support import BACKENDS
from tests.support import needs_pushpin

pytestmark = needs_pushpin

KEY = "dGhlIGtleSBQdXNocGluIHNpZ25zIHdpdGggZm9yIHRlc3Rz"  # as `openssl rand -base64` makes them
WITHIN = 2.0  # seconds from an editor's request to every reader
PUSHPIN_DROPPED_AT_START = "received message out of sequence"


@dataclass
class Front:
    """A server for the blog 'hama', and Pushpin in front of it."""

    server: Server
    pushpin: Pushpin
    deployment: Deployment

    def post(self, body: str, **fields: Any) -> dict[str, Any]:
        path = f"/api/v1/blogs/{self.deployment.slug}/entries"
        return self.server.api(self.deployment.editor_token, "POST", path, {"body": body, **fields})

    def admin_patch(self, **fields: Any) -> None:
        path = f"/api/v1/blogs/{self.deployment.slug}"
        self.server.api(self.deployment.admin_token, "PATCH", path, fields)

    def reader(self, path: str = "/hama/events", **options: Any) -> SseReader:
        """A reader through Pushpin, once Pushpin holds its stream (a keep-alive came)."""
        return self.readers(1, path, **options)[0]

    def readers(self, count: int, path: str = "/hama/events", **options: Any) -> list[SseReader]:
        """``count`` readers through Pushpin, once it holds all their streams."""
        readers: list[SseReader] = []
        try:
            for _ in range(count):
                readers.append(self._held_reader(path, options))
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        return readers

    def _held_reader(self, path: str, options: dict[str, Any]) -> SseReader:
        """A reader whose stream Pushpin holds (a keep-alive came). Pushpin's handler has
        been seen to drop the first stream it took over, a moment after it started
        ("received message out of sequence" in its log, once in a whole CI run): that
        reader connects again, once, as a browser's EventSource would."""
        reader = SseReader(self.pushpin.port, path, **options)
        held = reader.wait_for(lambda r: r.comments >= 1, 5)
        if not held and PUSHPIN_DROPPED_AT_START in self.pushpin.log():
            reader.close()
            reader = SseReader(self.pushpin.port, path, **options)
            held = reader.wait_for(lambda r: r.comments >= 1, 5)
        if not held:
            reader.close()
            raise AssertionError((reader.status, reader.ids(), self.pushpin.log()[-3000:]))
        return reader


@pytest.fixture(params=BACKENDS)
def front(request: pytest.FixtureRequest, tmp_path) -> Iterator[Front]:
    if request.param == "postgresql":
        databases = request.getfixturevalue("server_databases")
        with databases.fresh() as url:
            yield from _front(url, tmp_path)
        return
    path = tmp_path / "liveblog.sqlite"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    yield from _front(f"sqlite:///{path}", tmp_path)


def _front(url: str, tmp_path) -> Iterator[Front]:
    deployment = prepare(url)
    server = Server(url, tmp_path)
    pushpin = Pushpin(server.port, KEY, tmp_path)
    server.extra_env.update(LIVEBLOG_GRIP_URL=pushpin.publish_url, LIVEBLOG_GRIP_KEY=KEY)
    with running(server), running(pushpin):
        yield Front(server, pushpin, deployment)


def events_of(reader: SseReader) -> list[tuple[int | None, str, dict[str, Any]]]:
    return [(event.id, event.type, event.data) for event in reader.events]


def assert_held_by_pushpin(front: Front, readers: list[SseReader]) -> None:
    """Stop the app: streams it served would end, streams Pushpin holds go on."""
    comments = [reader.comments for reader in readers]
    front.server.stop()
    for reader, seen in zip(readers, comments, strict=True):
        assert reader.wait_for(lambda r, seen=seen: r.comments > seen, 5) and not reader.ended


def act_and_wait(front: Front, readers: list[SseReader], action) -> int:
    """Run ``action`` (an editor's request) and wait until every reader has its changes."""
    started = time.monotonic()
    action()
    seq = front.deployment.last_seq()
    for reader in readers:
        assert reader.wait_for_seq(seq, max(0.0, started + WITHIN - time.monotonic())), (
            f"change {seq} did not reach the reader on port {reader.local_port} in {WITHIN} s: "
            f"it has {reader.ids()}"
        )
    return seq


def test_a_reader_gets_what_it_missed_then_the_changes_as_they_come(front):
    for number in range(3):
        front.post(f"Update {number}.")
    held = front.reader("/hama/events?since=1")
    direct = SseReader(front.server.port, "/hama/events?since=1")
    try:
        assert held.wait_for_seq(3, 5) and held.ids() == [2, 3]
        act_and_wait(front, [held, direct], lambda: front.post("Live."))
        assert events_of(held) == events_of(direct)  # the same events as the app's own
        assert held.ids() == [2, 3, 4]
        assert held.status == 200 and held.retry == "3000" and held.error is None
        assert held.headers["content-type"].startswith("text/event-stream")
        assert held.headers["x-accel-buffering"] == "no"
        assert not [name for name in held.headers if name.startswith("grip-")]
        direct.close()
        assert_held_by_pushpin(front, [held])
    finally:
        held.close()
        direct.close()


def test_a_publish_reaches_every_held_reader_once_and_in_order(front):
    front.post("Before anyone came.")
    readers = front.readers(50)
    try:
        first = front.post("Assault on Qomhana", key_event=True)
        for action in (
            lambda: front.post("Rebels take Tel Sakhr."),
            lambda: front.server.api(
                front.deployment.editor_token,
                "PATCH",
                f"/api/v1/blogs/hama/entries/{first['id']}",
                {"pinned": True},
                **{"If-Match": f'"{first["version"]}"'},
            ),
            lambda: front.admin_patch(title="Hama, day 2"),
        ):
            act_and_wait(front, readers, action)
        # One change more: each stream is in order, so a late duplicate would come before it.
        act_and_wait(front, readers, lambda: front.post("Later."))
        expected = [(seq, kind) for seq, kind, _entry in front.deployment.changes() if seq > 1]
        for reader in readers:
            assert [(event.id, event.type) for event in reader.events] == expected
            assert reader.error is None and not reader.ended
        assert readers[0].events[3].data["title"] == "Hama, day 2"
        assert_held_by_pushpin(front, readers)
    finally:
        for reader in readers:
            reader.close()


def test_a_reader_resumes_through_pushpin_after_last_event_id(front):
    reader = front.reader()
    try:
        act_and_wait(front, [reader], lambda: front.post("First."))
        act_and_wait(front, [reader], lambda: front.post("Second."))
    finally:
        reader.close()
    front.post("Missed.")
    front.post("Missed too.")
    back = front.reader(last_event_id=2)
    try:
        assert back.wait_for_seq(4, 5) and back.ids() == [3, 4]
        act_and_wait(front, [back], lambda: front.post("Back live."))
        assert back.ids() == [3, 4, 5]
    finally:
        back.close()


def commit_unannounced(deployment: Deployment, seconds_ago: float = 0) -> None:
    """Commit an entry from a process without GRIP settings, as a host that died between
    its commit and its publish leaves it: in the log, never published. ``seconds_ago``
    dates its change back."""
    with deployment.session() as session:
        editor = store.get_user_by_email(session, "desk@news.example")
        publishing.create_entry(
            session, deployment.themes, "hama", {"body": "Unannounced."}, editor
        )
    if seconds_ago:
        seq, moment = deployment.last_seq(), utcnow() - timedelta(seconds=seconds_ago)
        with deployment.session() as session:
            session.execute(update(Change).where(Change.seq == seq).values(created_at=moment))
            session.commit()


def test_a_change_its_host_never_published_comes_with_the_next_publish_at_once(front):
    """The next publish repeats it: without, Pushpin would hold the next for 5 s, waiting for
    the one missing, before the streams asked for it."""
    readers = front.readers(3)
    try:
        act_and_wait(front, readers, lambda: front.post("Published."))
        # 1 s after a channel's first subscription, Pushpin has its streams ask their next
        # links (SUBSCRIBED_DELAY in its engine): past that, only a publish can fill the gap.
        time.sleep(1.5)
        commit_unannounced(front.deployment)
        act_and_wait(front, readers, lambda: front.post("Announced."))
        for reader in readers:
            assert reader.ids() == [1, 2, 3]
    finally:
        for reader in readers:
            reader.close()


def test_an_older_change_pushpin_was_not_told_of_reaches_readers_through_their_next_link(front):
    """Too old to be repeated, it is still in the log: the next publish's prev-id shows
    Pushpin the gap, and it asks the app for what its streams missed."""
    readers = front.readers(3)
    try:
        commit_unannounced(front.deployment, seconds_ago=grip.REPEAT_SECONDS + 5)
        front.post("Announced.")
        for reader in readers:
            assert reader.wait_for_seq(2, 15), reader.ids()
        act_and_wait(front, readers, lambda: front.post("And on."))
        for reader in readers:
            assert reader.ids() == [1, 2, 3]
    finally:
        for reader in readers:
            reader.close()


@needs_nginx
def test_through_nginx_a_gap_is_filled_by_a_live_host_when_the_first_is_down(
    sqlite_template, tmp_path
):
    """Pushpin routed to nginx's server for it (deploy/nginx/), which passes over an app
    host that is down: the next link Pushpin asks to fill a gap reaches one that is up."""
    path = tmp_path / "liveblog.sqlite"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    deployment = prepare(url)
    server = Server(url, tmp_path)
    nginx = Nginx(tmp_path / "nginx", app_port=server.port, dead_app_port=free_port())
    pushpin = Pushpin(nginx.pushpin_origin_port, KEY, tmp_path)
    server.extra_env.update(LIVEBLOG_GRIP_URL=pushpin.publish_url, LIVEBLOG_GRIP_KEY=KEY)
    try:
        with running(server):
            nginx.start()
            with running(pushpin):
                front = Front(server, pushpin, deployment)
                readers = front.readers(3)
                commit_unannounced(deployment, seconds_ago=grip.REPEAT_SECONDS + 5)
                front.post("Announced.")
                for reader in readers:
                    assert reader.wait_for_seq(2, 15), reader.ids()
                    assert reader.ids() == [1, 2]
                    reader.close()
    finally:
        nginx.stop()


def signature(key: str, expires_in: float) -> str:
    return jwt.encode({"iss": "pushpin", "exp": int(time.time() + expires_in)}, key, "HS256")


@pytest.mark.parametrize(
    "grip_sig",
    [
        pytest.param(signature("not the key Pushpin signs with at all", 3600), id="forged"),
        pytest.param(signature(KEY, -60), id="expired"),
    ],
)
@pytest.mark.parametrize("front", ["sqlite"], indirect=True)
def test_a_bad_signature_straight_to_the_app_gets_its_own_stream(front, grip_sig):
    headers = {"Grip-Sig": grip_sig}
    direct = SseReader(front.server.port, "/hama/events", headers=headers)
    try:
        assert direct.wait_for(lambda r: r.retry is not None, 5)
        assert direct.headers["transfer-encoding"] == "chunked"
        assert not [name for name in direct.headers if name.startswith("grip-")]
        act_and_wait(front, [direct], lambda: front.post("Straight from the app."))
        assert direct.ids() == [1] and not direct.ended
    finally:
        direct.close()
    request = urllib.request.Request(f"{front.server.origin}/hama/changes?since=1", headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        assert not [name for name in response.headers if name.lower().startswith("grip-")]
        assert json.loads(response.read())["events"] == []


def long_poll(front: Front, since: int) -> dict[str, Any]:
    """GET /changes?since= through Pushpin in a thread: the answer, when it comes."""
    answer: dict[str, Any] = {}

    def get() -> None:
        url = f"{front.pushpin.origin}/hama/changes?since={since}"
        with urllib.request.urlopen(url, timeout=70) as response:
            answer.update(at=time.monotonic(), headers=dict(response.headers), body=response.read())

    answer["thread"] = threading.Thread(target=get, daemon=True)
    answer["thread"].start()
    return answer


def test_a_long_poll_is_held_until_a_publish_answers_it(front):
    front.post("Known.")
    waiting = long_poll(front, 1)
    waiting["thread"].join(1.0)  # the app's own answer would take milliseconds
    assert "body" not in waiting, "not held"
    started = time.monotonic()
    front.post("News.")
    waiting["thread"].join(WITHIN)
    assert "body" in waiting, "the publish did not answer the held long-poll"
    assert waiting["at"] - started <= WITHIN
    direct = urllib.request.urlopen(f"{front.server.origin}/hama/changes?since=1", timeout=5)
    assert json.loads(waiting["body"]) == json.loads(direct.read())
    assert not [name for name in waiting["headers"] if name.lower().startswith("grip-")]
    # With something new already, it is answered at once.
    at_once = long_poll(front, 0)
    at_once["thread"].join(2)
    assert [event["seq"] for event in json.loads(at_once["body"])["events"]] == [1, 2]


@pytest.mark.parametrize("front", ["sqlite"], indirect=True)
def test_streams_through_pushpin_stop_when_the_blog_ends(front):
    front.post("Last words.")
    readers = front.readers(3)
    try:
        act_and_wait(front, readers, lambda: front.admin_patch(status="ended"))
        for reader in readers:
            assert reader.wait_for(lambda r: r.ended, WITHIN), "the stream was not closed"
            assert [event.type for event in reader.events] == ["blog.updated", "stop"]
            assert reader.events[0].data["status"] == "ended"
        late = urllib.request.Request(
            f"{front.pushpin.origin}/hama/events", headers={"Last-Event-ID": "2"}
        )
        with urllib.request.urlopen(late, timeout=5) as response:  # what stops an EventSource
            assert (response.status, response.read()) == (204, b"")
    finally:
        for reader in readers:
            reader.close()
