"""Scheduled entries: published when due, once, by the use case and by the scheduler thread."""

import threading
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from liveblog import publishing
from liveblog import store
from liveblog.db import Database
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.models import Revision
from liveblog.models import utcnow
from liveblog.scheduler import Scheduler
from liveblog.themes import Themes
from tests.factories import make_blog
from tests.support import wait_until

NOW = datetime(2030, 1, 1, 6, 0, tzinfo=UTC)
DUE = NOW + timedelta(minutes=30)


@pytest.fixture(scope="module")
def themes():
    return Themes()


@pytest.fixture
def blog(session):
    return make_blog(session, slug="hama")


def schedule(session, themes, editor, when, slug="hama", now=NOW, **fields):
    data = {"body": "Rebels take Qomhana.", "status": "scheduled", "published_at": when.isoformat()}
    return publishing.create_entry(session, themes, slug, {**data, **fields}, editor, now=now)


def changes(session, slug="hama"):
    session.rollback()
    blog = store.get_blog(session, slug)
    return [(c.seq, c.kind, c.entry_id) for c in store.changes_since(session, blog, 0)]


def status(session, entry_id):
    session.rollback()
    return session.get(Entry, entry_id, populate_existing=True).status


def test_scheduled_entry_waits_for_its_time_then_is_published(session, themes, blog, editor):
    entry = schedule(session, themes, editor, DUE)
    assert (entry.status, entry.published_at) == ("scheduled", DUE)
    assert changes(session) == []

    assert publishing.publish_due_entries(session, now=NOW) == 0
    assert publishing.publish_due_entries(session, now=DUE - timedelta(seconds=1)) == 0
    assert status(session, entry.id) == "scheduled"
    assert changes(session) == []

    assert publishing.publish_due_entries(session, now=DUE) == 1
    published = session.get(Entry, entry.id)
    assert (published.status, published.published_at, published.updated_at) == (
        "published",
        DUE,
        DUE,
    )
    assert changes(session) == [(1, "entry.published", entry.id)]
    revisions = session.scalars(select(Revision).where(Revision.entry_id == entry.id)).all()
    assert sorted((r.version, r.data["status"], r.editor_id) for r in revisions) == [
        (1, "scheduled", editor.id),
        (2, "published", editor.id),
    ]


def test_publishing_twice_publishes_once(session, themes, blog, editor):
    entries = [schedule(session, themes, editor, DUE + timedelta(minutes=i)) for i in range(3)]
    later = DUE + timedelta(hours=1)
    assert publishing.publish_due_entries(session, now=later) == 3
    assert publishing.publish_due_entries(session, now=later) == 0
    assert changes(session) == [(i + 1, "entry.published", e.id) for i, e in enumerate(entries)]


def test_publishing_from_two_threads_at_once_publishes_once(
    database_url, session, themes, blog, editor
):
    other = make_blog(session, slug="kawkab")
    entries = [schedule(session, themes, editor, DUE + timedelta(seconds=i)) for i in range(5)]
    entries += [schedule(session, themes, editor, DUE, slug=other.slug) for _ in range(3)]
    database = Database(database_url)
    barrier = threading.Barrier(2)
    counts: list[int] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            with database.sessions() as own:
                barrier.wait()
                counts.append(publishing.publish_due_entries(own, now=DUE + timedelta(minutes=1)))
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    database.engine.dispose()

    assert failures == []
    assert sum(counts) == len(entries)
    assert changes(session) == [(i + 1, "entry.published", e.id) for i, e in enumerate(entries[:5])]
    assert changes(session, "kawkab") == [
        (i + 1, "entry.published", e.id) for i, e in enumerate(entries[5:])
    ]


def test_a_scheduled_pinned_entry_takes_the_pin_when_published(session, themes, blog, editor):
    pinned = publishing.create_entry(session, themes, "hama", {"body": "x", "pinned": True}, editor)
    scheduled = schedule(session, themes, editor, DUE, pinned=True)
    assert publishing.publish_due_entries(session, now=DUE) == 1
    assert changes(session) == [
        (1, "entry.published", pinned.id),
        (2, "entry.unpinned", pinned.id),
        (3, "entry.published", scheduled.id),
    ]
    assert store.pinned_entry(session, store.get_blog(session, "hama")).id == scheduled.id


def test_drafts_and_deleted_entries_are_never_published(session, themes, blog, editor):
    draft = publishing.create_entry(
        session, themes, "hama", {"body": "x", "status": "draft"}, editor, now=NOW
    )
    deleted = schedule(session, themes, editor, DUE)
    publishing.delete_entry(session, "hama", deleted.id, editor, '"1"')
    assert publishing.publish_due_entries(session, now=DUE + timedelta(days=1)) == 0
    assert (status(session, draft.id), status(session, deleted.id)) == ("draft", "deleted")


def test_the_scheduler_thread_publishes_on_its_own(database_url, session, themes, blog, editor):
    due = utcnow() + timedelta(seconds=0.3)
    entry = schedule(session, themes, editor, due, now=utcnow())
    database = Database(database_url)
    scheduler = Scheduler(database.sessions, interval=0.05)
    scheduler.ensure_running()
    try:
        wait_until(
            lambda: status(session, entry.id) == "published",
            message="the scheduler did not publish the entry",
            interval=0.05,
        )
    finally:
        scheduler.stop(timeout=5)
        database.engine.dispose()
    published = session.get(Entry, entry.id)
    assert published.published_at == due
    assert published.updated_at >= due  # not published before its time
    assert changes(session) == [(1, "entry.published", entry.id)]
    change = session.scalars(select(Change).where(Change.entry_id == entry.id)).one()
    assert change.created_at >= due


def test_scheduler_stops_and_interval_zero_turns_it_off(database_url):
    database = Database(database_url)
    off = Scheduler(database.sessions, interval=0)
    off.ensure_running()
    assert off._thread is None
    on = Scheduler(database.sessions, interval=0.01)
    on.ensure_running()
    thread = on._thread
    assert thread is not None and thread.is_alive()
    on.stop(timeout=5)
    assert not thread.is_alive()
    database.engine.dispose()
