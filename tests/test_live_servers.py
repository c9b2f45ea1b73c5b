"""Live updates through the production server: `liveblog serve` with two gevent workers.

Streams are spread over both workers, changes go through the same server's editor API,
and every stream must see every change once, in order, within 2 s: on SQLite (the
shared poll), PostgreSQL (LISTEN/NOTIFY) and Redis (pub/sub). Readers that come back
after a restart resume from Last-Event-ID without a gap or a repeat.
"""

import shutil
import time
from collections.abc import Iterator

import pytest

from liveblog import publishing
from liveblog import store
from tests.servers import Deployment
from tests.servers import Server
from tests.servers import SseReader
from tests.servers import prepare
from tests.servers import running
from tests.servers import streams_on_every_worker
from tests.support import BACKENDS
from tests.support import REDIS_URL
from tests.support import needs_redis

SETUPS = [*BACKENDS, pytest.param("redis", marks=needs_redis)]
WITHIN = 2.0  # seconds from an editor's request to every reader


@pytest.fixture(params=SETUPS)
def live(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[Server, Deployment]]:
    """A database holding the live blog 'hama', and a server for it (not started)."""
    extra_env = {}
    if request.param == "postgresql":
        with request.getfixturevalue("server_databases").fresh() as url:
            yield Server(url, tmp_path), prepare(url)
        return
    path = tmp_path / "liveblog.sqlite"
    shutil.copy(request.getfixturevalue("sqlite_template"), path)
    if request.param == "redis":
        extra_env["LIVEBLOG_REDIS_URL"] = REDIS_URL
    url = f"sqlite:///{path}"
    yield Server(url, tmp_path, extra_env=extra_env), prepare(url)


def received(reader: SseReader) -> list[tuple[int | None, str, int | None]]:
    """(seq, kind, entry id) of every event a reader got, as the change log writes them."""
    return [(event.id, event.type, event.data.get("entry_id")) for event in reader.events]


def act_and_wait(deployment: Deployment, readers: list[SseReader], action) -> int:
    """Run ``action`` (an editor's request) and wait until every reader has its changes."""
    started = time.monotonic()
    action()
    seq = deployment.last_seq()
    for reader in readers:
        assert reader.wait_for_seq(seq, max(0.0, started + WITHIN - time.monotonic())), (
            f"change {seq} did not reach the reader on port {reader.local_port} in {WITHIN} s: "
            f"it has {reader.ids()}"
        )
        arrived = reader.arrival(seq)
        assert arrived is not None and arrived - started <= WITHIN
    return seq


def test_every_stream_gets_every_change_in_order_within_2_s(live):
    server, deployment = live
    slug, token, admin = deployment.slug, deployment.editor_token, deployment.admin_token
    entries = f"/api/v1/blogs/{slug}/entries"
    with running(server):
        readers = streams_on_every_worker(server, f"/{slug}/events")
        try:
            state: dict = {}

            def post(name, **fields):
                state[name] = server.api(token, "POST", entries, {"body": name, **fields})

            def patch(name, **fields):
                entry = state[name]
                etag = f'"{entry["version"]}"'
                state[name] = server.api(
                    token, "PATCH", f"{entries}/{entry['id']}", fields, **{"If-Match": etag}
                )

            def delete(name):
                entry = state[name]
                etag = f'"{entry["version"]}"'
                server.api(token, "DELETE", f"{entries}/{entry['id']}", **{"If-Match": etag})

            actions = [
                lambda: post("first", headline="Assault on Qomhana", key_event=True),
                lambda: post("second"),
                lambda: patch("first", headline="Assault on Qomhana repelled"),
                lambda: patch("second", pinned=True),
                lambda: post("third", pinned=True),  # unpins the second: two changes
                lambda: delete("first"),
                lambda: server.api(
                    admin, "PATCH", f"/api/v1/blogs/{slug}", {"title": "Hama, day 2"}
                ),
            ]
            for action in actions:
                act_and_wait(deployment, readers, action)

            assert [kind for _seq, kind, _entry in deployment.changes()] == [
                "entry.published",
                "entry.published",
                "entry.updated",
                "entry.pinned",
                "entry.unpinned",
                "entry.published",
                "entry.deleted",
                "blog.updated",
            ]
            # One change more, which keeps the title: each stream is in order, so a late
            # duplicate of any change before it would have come before it.
            act_and_wait(
                deployment,
                readers,
                lambda: server.api(
                    admin, "PATCH", f"/api/v1/blogs/{slug}", {"standfirst": "Day 2."}
                ),
            )
            for reader in readers:  # in order, none missed, none twice
                assert received(reader) == deployment.changes(), reader.local_port
            for reader in readers:
                assert reader.status == 200 and reader.error is None and not reader.ended
                assert reader.headers["content-type"].startswith("text/event-stream")
                assert reader.headers["x-accel-buffering"] == "no" and reader.retry == "3000"
                assert reader.events[-1].data["title"] == "Hama, day 2"
        finally:
            for reader in readers:
                reader.close()


def test_readers_resume_after_a_restart_with_nothing_missed_or_repeated(live):
    server, deployment = live
    slug, token = deployment.slug, deployment.editor_token
    entries = f"/api/v1/blogs/{slug}/entries"
    with running(server):
        readers = streams_on_every_worker(server, f"/{slug}/events", per_worker=1)
        try:
            first = server.api(token, "POST", entries, {"body": "Before the restart."})
            act_and_wait(
                deployment,
                readers,
                lambda: server.api(token, "POST", entries, {"body": "Also before."}),
            )
        finally:
            for reader in readers:
                reader.close()
        seen = deployment.last_seq()
        assert all(reader.ids() == list(range(1, seen + 1)) for reader in readers)
        stopping = time.monotonic()
        server.stop()
        assert time.monotonic() - stopping < 10

    # While the server is down, the desk carries on from another machine.
    with deployment.session() as session:
        editor = store.get_user_by_email(session, "desk@news.example")
        themes = deployment.themes
        third = publishing.create_entry(session, themes, slug, {"body": "While down."}, editor)
        publishing.update_entry(
            session, themes, slug, third.id, {"headline": "Edited while down"}, editor, '"1"'
        )
        publishing.update_entry(session, themes, slug, third.id, {"pinned": True}, editor, '"2"')
        publishing.delete_entry(session, slug, first["id"], editor, '"1"')
    latest = deployment.last_seq()
    assert latest == seen + 4

    with running(server):
        readers = streams_on_every_worker(
            server, f"/{slug}/events", per_worker=1, last_event_id=seen
        )
        try:
            for reader in readers:
                assert reader.wait_for_seq(latest, 5), reader.ids()
            act_and_wait(
                deployment,
                readers,
                lambda: server.api(token, "POST", entries, {"body": "After the restart."}),
            )
            # One change more: a late duplicate of any change before it would have come first.
            act_and_wait(
                deployment,
                readers,
                lambda: server.api(token, "POST", entries, {"body": "Later still."}),
            )
            expected = [change for change in deployment.changes() if change[0] > seen]
            for reader in readers:
                got = [
                    (event.id, event.type, event.data.get("entry_id")) for event in reader.events
                ]
                assert got == expected
                pinned = reader.events[2].data
                assert pinned["pinned"] and "Edited while down" in pinned["html"]
        finally:
            for reader in readers:
                reader.close()
