"""The editors' stream and presence: every entry an editor may see (drafts too) and who is
editing which, woken by the blog's desk_seq on the readers' notifier, across processes."""

from datetime import timedelta

import pytest
from flask import Flask

from liveblog import db
from liveblog import presence
from liveblog import publishing
from liveblog import store
from liveblog.db import Database
from liveblog.errors import NotFound
from liveblog.live import PollingSource
from liveblog.live import desk
from liveblog.live import message_for
from liveblog.models import utcnow
from liveblog.themes import Themes
from tests import test_live
from tests.editor_helpers import EditorClient
from tests.factories import make_user
from tests.support import REDIS_URL
from tests.support import needs_redis

HEARTBEAT = test_live.HEARTBEAT
app = test_live.app
live_config = test_live.live_config


@pytest.fixture
def desk_streams(app: Flask):
    """Editors' streams of blog 'hama', each from a client logged in as ``user``."""
    opened = []

    def open_stream(user) -> test_live.Stream:
        editor_client = EditorClient(app.test_client())
        editor_client.log_in(user.email)
        stream = test_live.Stream(editor_client.client, "/editor/blogs/hama/events")
        opened.append(stream)
        return stream

    yield open_stream
    for stream in opened:
        stream.close()


def test_the_stream_starts_with_every_entry_an_editor_sees_then_sends_each_write(
    api, session, editor, contributor, desk_streams
):
    published = api.post_entry(body="On the record.")
    theirs = api.as_user(contributor).post_entry(body="My draft.", status="draft")
    stream = desk_streams(editor)
    first = stream.event()
    assert first["event"] == "entries"
    snapshot = first["data"]
    assert snapshot["snapshot"] is True and snapshot["gone"] == []
    assert [item["id"] for item in snapshot["items"]] == [theirs["id"], published["id"]]
    draft = snapshot["items"][0]
    assert draft["status"] == "draft" and draft["author"]["name"] == contributor.name
    assert 'class="entry' in draft["reader_html"] and "My draft." in draft["reader_html"]
    assert stream.event()["data"] == {"editing": []}
    assert stream.quiet() == []  # idle: nothing more until something changes

    edited = api.edit_entry(theirs, body="My draft, edited.").get_json()
    update = stream.events(2)
    assert [event["event"] for event in update] == ["entries", "presence"]
    assert [(i["id"], i["version"]) for i in update[0]["data"]["items"]] == [
        (theirs["id"], edited["version"])
    ]
    assert update[0]["data"]["snapshot"] is False


def test_contributors_get_the_published_entries_and_their_own(
    api, editor, contributor, desk_streams
):
    others = api.post_entry(body="Another's draft.", status="draft")
    published = api.post_entry(body="Published.")
    mine = api.as_user(contributor).post_entry(body="Mine.", status="draft")
    stream = desk_streams(contributor)
    items = stream.event()["data"]["items"]
    assert [item["id"] for item in items] == [mine["id"], published["id"]]
    stream.event()  # presence
    api.edit_entry(others, body="Still not theirs to see.")
    assert [event["event"] for event in stream.quiet()] == ["presence"]
    # An entry they saw that goes back to being another's draft is gone for them.
    api.edit_entry(published, status="draft")
    assert stream.event()["data"]["gone"] == [published["id"]]


def test_presence_marks_show_lapse_and_clear(api, session, editor, admin, desk_streams):
    entry = api.post_entry(body="Contested figures.")
    stream = desk_streams(admin)
    stream.events(2)
    now = utcnow()
    presence.start_editing(session, "hama", entry["id"], editor, now)
    editing = stream.event()["data"]["editing"]
    assert editing == [
        {
            "entry_id": entry["id"],
            "user": {"id": editor.id, "name": editor.name},
            "expires_in": pytest.approx(30, abs=2),
        }
    ]
    blog = store.get_blog(session, "hama")
    assert presence.editing_now(session, blog, now + timedelta(seconds=29))
    assert presence.editing_now(session, blog, now + timedelta(seconds=31)) == []
    # A heartbeat renews the mark; closing the form clears it.
    presence.start_editing(session, "hama", entry["id"], editor, now + timedelta(seconds=20))
    assert presence.editing_now(session, blog, now + timedelta(seconds=45))
    [renewed] = stream.event()["data"]["editing"]
    assert renewed["expires_in"] == pytest.approx(50, abs=2)
    presence.stop_editing(session, "hama", entry["id"], editor)
    assert stream.event()["data"]["editing"] == []


def test_marks_are_only_for_entries_one_may_see(api, session, contributor):
    draft = api.post_entry(body="Editors only.", status="draft")
    with pytest.raises(NotFound):
        presence.start_editing(session, "hama", draft["id"], contributor)


def test_the_heartbeat_route_marks_and_clears(api, client, session, editor):
    entry = api.post_entry(body="Casualties.")
    editor_client = EditorClient(client)
    editor_client.log_in(editor.email)
    path = f"/editor/blogs/hama/entries/{entry['id']}/editing"
    assert editor_client.post(path, {"state": "open"}).status_code == 204
    blog = store.get_blog(session, "hama")
    assert [mark.user_id for mark in presence.editing_now(session, blog)] == [editor.id]
    assert editor_client.post(path, {"state": "closed"}).status_code == 204
    session.rollback()  # a new read sees the route's commit
    assert presence.editing_now(session, blog) == []
    assert editor_client.post("/editor/blogs/hama/entries/999/editing").status_code == 404
    assert client.post(path, data={"state": "open"}).status_code == 403  # no CSRF token


def test_desk_messages_parse_back_and_strangers_are_ignored():
    assert PollingSource.parse_payload(message_for(desk(7), 12)) == (desk(7), 12)
    assert PollingSource.parse_payload(message_for(7, 12)) == (7, 12)
    assert PollingSource.parse_payload("desk:x:1") is None
    assert PollingSource.parse_payload("desk:") is None


def test_a_draft_saved_by_another_process_reaches_the_stream(
    api, database_url, editor, desk_streams
):
    """Another engine stands for another process: SQLite's poll or PostgreSQL's NOTIFY."""
    stream = desk_streams(editor)
    stream.events(2)
    other = Database(database_url)
    try:
        with other.sessions() as session:
            author = store.get_user_by_email(session, api.user.email)
            publishing.create_entry(
                session, Themes(), "hama", {"body": "Elsewhere.", "status": "draft"}, author
            )
        event = stream.event()  # within 2 s of the commit: a poll or a NOTIFY, not a heartbeat
        assert event is not None and event["data"]["items"][0]["status"] == "draft"
    finally:
        other.engine.dispose()


@needs_redis
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("live_config", [{"REDIS_URL": REDIS_URL}])
def test_redis_carries_presence_between_processes(api, make_app, editor, admin, desk_streams):
    entry = api.post_entry(body="Shelling.")
    stream = desk_streams(admin)
    stream.events(2)
    other = make_app(LIVE_HEARTBEAT=HEARTBEAT, REDIS_URL=REDIS_URL)
    with other.app_context():
        presence.start_editing(db.session(), "hama", entry["id"], make_user(db.session()))
    editing = stream.event()["data"]["editing"]
    assert [mark["entry_id"] for mark in editing] == [entry["id"]]
