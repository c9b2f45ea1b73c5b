"""The change log: gapless per-blog seq under concurrent writers, nothing on failure, signals."""

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select

from liveblog import db
from liveblog import publishing
from liveblog import store
from liveblog.db import Database
from liveblog.errors import PreconditionFailed
from liveblog.errors import ValidationError
from liveblog.models import Blog
from liveblog.models import Change
from liveblog.models import Entry
from liveblog.models import User
from liveblog.models import utcnow
from liveblog.publishing import entry_etag
from liveblog.signals import changes_committed
from liveblog.themes import Themes
from tests.factories import make_blog
from tests.factories import make_user

WRITERS = 8
ENTRIES_EACH = 10


@pytest.fixture(scope="module")
def themes():
    themes = Themes()
    themes.environment("default")  # built once, before threads share it
    return themes


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    yield database
    database.engine.dispose()


def seqs(database, blog_id):
    """Every seq of the blog in insertion order, and the blog's last_seq, read afresh."""
    with database.sessions() as session:
        rows = session.scalars(
            select(Change.seq).where(Change.blog_id == blog_id).order_by(Change.id)
        )
        return list(rows), session.get(Blog, blog_id).last_seq


def test_concurrent_writers_get_gapless_unique_seqs(database, themes):
    with database.sessions() as session:
        blog = make_blog(session)
        editor_ids = [make_user(session, "editor", password=None).id for _ in range(WRITERS)]
        other = make_blog(session)  # a second blog keeps its own sequence
    slug, blog_id = blog.slug, blog.id
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def write(editor_id: int, number: int) -> None:
        try:
            with database.sessions() as session:
                editor = session.get(User, editor_id)
                barrier.wait()
                for index in range(ENTRIES_EACH):
                    data = {"body": f"Writer {number}, update {index}."}
                    entry = publishing.create_entry(session, themes, slug, data, editor)
                    if index % 2:
                        publishing.update_entry(
                            session,
                            themes,
                            slug,
                            entry.id,
                            {"headline": "Corrected"},
                            editor,
                            entry_etag(entry),
                        )
                    if number == 0 and index == 0:
                        publishing.create_entry(session, themes, other.slug, data, editor)
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=write, args=(e, n)) for n, e in enumerate(editor_ids)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []

    total = WRITERS * ENTRIES_EACH * 3 // 2  # every entry published, every other one updated
    in_insert_order, last_seq = seqs(database, blog_id)
    assert in_insert_order == list(range(1, total + 1))
    assert last_seq == total
    assert seqs(database, other.id) == ([1], 1)

    with database.sessions() as session:
        changes = session.scalars(select(Change).where(Change.blog_id == blog_id)).all()
        kinds = Counter(change.kind for change in changes)
        assert kinds == {"entry.published": WRITERS * ENTRIES_EACH, "entry.updated": total // 3}
        published = {c.entry_id: c.seq for c in changes if c.kind == "entry.published"}
        for change in changes:
            if change.kind == "entry.updated":
                assert change.seq > published[change.entry_id]
        entries = session.scalar(select(func.count()).where(Entry.blog_id == blog_id))
        assert entries == WRITERS * ENTRIES_EACH


# A failed use case appends nothing


@pytest.fixture
def blog(session):
    return make_blog(session, slug="hama")


@pytest.fixture
def entry(session, themes, blog, editor):
    return publishing.create_entry(session, themes, "hama", {"body": "First."}, editor)


def state(session, blog_id):
    """(last_seq, number of changes, number of entries) as committed in the database."""
    session.rollback()
    count = select(func.count())
    return (
        session.get(Blog, blog_id).last_seq,
        session.scalar(count.select_from(Change).where(Change.blog_id == blog_id)),
        session.scalar(count.select_from(Entry).where(Entry.blog_id == blog_id)),
    )


def test_invalid_schedule_found_inside_the_transaction_appends_nothing(
    session, themes, blog, entry, editor
):
    before = state(session, blog.id)
    assert before == (1, 1, 1)
    past = (utcnow() - timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationError, match="must be a time in the future"):
        publishing.create_entry(
            session,
            themes,
            "hama",
            {"body": "x", "status": "scheduled", "published_at": past},
            editor,
        )
    with pytest.raises(ValidationError, match="must be a time in the future"):
        publishing.update_entry(
            session, themes, "hama", entry.id, {"status": "scheduled"}, editor, entry_etag(entry)
        )
    assert state(session, blog.id) == before


def test_stale_if_match_appends_nothing(session, themes, blog, entry, editor):
    publishing.update_entry(session, themes, "hama", entry.id, {"headline": "New"}, editor, '"1"')
    before = state(session, blog.id)
    assert before == (2, 2, 1)
    with pytest.raises(PreconditionFailed):
        publishing.update_entry(
            session, themes, "hama", entry.id, {"headline": "Lost"}, editor, '"1"'
        )
    with pytest.raises(PreconditionFailed):
        publishing.delete_entry(session, "hama", entry.id, editor, '"1"')
    assert state(session, blog.id) == before
    assert session.get(Entry, entry.id).headline == "New"


def test_an_error_after_appending_rolls_the_change_back(session, blog, entry):
    with pytest.raises(RuntimeError):
        with store.transaction(session):
            locked = store.get_blog(session, "hama", lock=True)
            change = store.append_change(session, locked, "blog.updated")
            assert (change.seq, locked.last_seq) == (2, 2)
            raise RuntimeError("the disk is full")
    assert state(session, blog.id) == (1, 1, 1)
    assert store.get_blog(session, "hama").last_seq == 1
    # The next change takes the seq the failed one would have had: no gap.
    with store.transaction(session):
        change = store.append_change(
            session, store.get_blog(session, "hama", lock=True), "blog.updated"
        )
    assert change.seq == 2


# changes_committed


class Received:
    """A changes_committed receiver that also checks, from another session, what is committed."""

    def __init__(self, database):
        self.database = database
        self.calls = []

    def __call__(self, sender, changes, **extra):
        with self.database.sessions() as other:
            visible = other.scalars(
                select(Change.seq).where(Change.id.in_([change.id for change in changes]))
            ).all()
        self.calls.append(([(c.seq, c.kind, c.entry_id) for c in changes], sorted(visible), sender))


@pytest.fixture
def received(app):
    receiver = Received(db.database(app))
    with changes_committed.connected_to(receiver):
        yield receiver


def test_signal_fires_after_commit_with_the_appended_changes(
    session, themes, blog, editor, received
):
    first = publishing.create_entry(session, themes, "hama", {"body": "1", "pinned": True}, editor)
    second = publishing.create_entry(session, themes, "hama", {"body": "2", "pinned": True}, editor)
    assert received.calls == [
        ([(1, "entry.published", first.id)], [1], session),
        ([(2, "entry.unpinned", first.id), (3, "entry.published", second.id)], [2, 3], session),
    ]


def test_signal_does_not_fire_on_rollback_or_when_nothing_changed(
    session, themes, blog, entry, editor, received
):
    with pytest.raises(PreconditionFailed):
        publishing.update_entry(session, themes, "hama", entry.id, {"headline": "x"}, editor, '"9"')
    with pytest.raises(RuntimeError):
        with store.transaction(session):
            store.append_change(session, store.get_blog(session, "hama", lock=True), "blog.updated")
            raise RuntimeError("boom")
    # An edit with nothing new, and a draft, append no changes.
    publishing.update_entry(session, themes, "hama", entry.id, {"body": "First."}, editor, '"1"')
    publishing.create_entry(session, themes, "hama", {"body": "x", "status": "draft"}, editor)
    assert received.calls == []
    publishing.update_entry(session, themes, "hama", entry.id, {"body": "Second."}, editor, '"1"')
    assert received.calls == [([(2, "entry.updated", entry.id)], [2], session)]
