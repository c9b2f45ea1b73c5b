"""Queries and commands on an explicit Session. Knows SQLAlchemy, not Flask."""

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import false
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import literal
from sqlalchemy import select
from sqlalchemy import true
from sqlalchemy import tuple_
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .errors import BlogGone
from .errors import Conflict
from .errors import LiveblogError
from .errors import NotFound
from .models import BLOG_DELETED
from .models import ApiToken
from .models import Blog
from .models import Change
from .models import Entry
from .models import EntryAuthor
from .models import Revision
from .models import User
from .models import UTCDateTime
from .models import utcnow
from .signals import changes_committed
from .signals import desk_moved

# What PostgreSQL listeners hear after a commit that appended changes: "<blog id>:<seq>".
PG_CHANNEL = "liveblog_changes"
# Messages on the channel about a blog's desk_seq rather than its last_seq start with this.
DESK_PREFIX = "desk:"
# Blogs readers see; a draft blog is the desk's alone.
READER_STATUSES = ("live", "ended")
# Ids are 32-bit integers in the database; a larger one in a URL or cursor names nothing.
MAX_ID = 2**31
# What an author page's address may be: a slug, or an id.
AUTHOR_REF = re.compile(r"[a-z0-9-]{1,80}")


# What a writer is told when a unique constraint stops it: someone saved the same thing
# a moment before (the use cases check first, so only a race gets here).
TAKEN = {
    ("users", "email"): "A user with this email address already exists.",
    ("blogs", "slug"): "A live blog with this slug already exists; choose another.",
    ("users", "slug"): "Another author already has this address; choose another.",
}
SAVED_MEANWHILE = "Someone else saved at the same moment; reload and try again."


def _unique_violation(error: IntegrityError) -> tuple[str, str] | None:
    """(table, column) of the unique constraint ``error`` broke, on SQLite or PostgreSQL."""
    original = error.orig
    message = str(original)
    if message.startswith("UNIQUE constraint failed: "):  # SQLite: "… users.email"
        table, _, column = message.removeprefix("UNIQUE constraint failed: ").partition(".")
        return table, column
    diag = getattr(original, "diag", None)
    if getattr(original, "sqlstate", None) == "23505" and diag is not None:  # PostgreSQL
        table = diag.table_name or ""
        return table, (diag.constraint_name or "").removeprefix(f"uq_{table}_")
    return None


@contextmanager
def transaction(session: Session) -> Iterator[None]:
    """A write transaction of its own: committed at the end, rolled back on error.

    Any read-only transaction the session has open is ended first, so that on SQLite the
    write lock is taken at BEGIN (see db.make_engine) rather than upgraded mid-way. A
    unique constraint that stops the write is a Conflict, on every backend.
    """
    if session.in_transaction():
        session.commit()
    session.connection(execution_options={"write": True})
    appended: list[Change] = session.info.setdefault("liveblog.appended", [])
    appended.clear()
    moved: list[tuple[int, int]] = session.info.setdefault("liveblog.desk", [])
    moved.clear()
    try:
        yield
        session.commit()
    except IntegrityError as error:
        session.rollback()
        broken = _unique_violation(error)
        if broken is None:
            raise
        raise Conflict(TAKEN.get(broken, SAVED_MEANWHILE)) from None
    except BaseException:
        session.rollback()
        raise
    finally:
        committed, appended[:] = list(appended), []
        desk_moves, moved[:] = list(moved), []
    if committed:
        changes_committed.send(session, changes=committed)
    if desk_moves:
        desk_moved.send(session, moves=desk_moves)


def get_blog(session: Session, slug: str, *, lock: bool = False) -> Blog:
    """The blog ``slug``; with ``lock``, held until commit so its writers queue up.

    A deleted blog is gone (410) for everyone, readers and desks alike.
    """
    query = select(Blog).where(Blog.slug == slug)
    if lock:
        query = query.with_for_update()
    blog = session.scalars(query).one_or_none()
    if blog is None:
        raise NotFound(f"There is no live blog {slug!r}.")
    if blog.status == BLOG_DELETED:
        raise BlogGone(blog)
    return blog


def reader_blog(session: Session, slug: str) -> Blog:
    """The blog ``slug`` if readers may see it: draft blogs do not exist for them."""
    blog = get_blog(session, slug)
    if blog.status not in READER_STATUSES:
        raise NotFound(f"There is no live blog {slug!r}.")
    return blog


def list_blogs(session: Session) -> list[Blog]:
    """Every blog but the deleted, live ones first, newest first within a status."""
    order = {"live": 0, "draft": 1, "ended": 2}
    query = select(Blog).where(Blog.status != BLOG_DELETED)
    blogs = session.scalars(query.order_by(Blog.created_at.desc(), Blog.id.desc())).all()
    return sorted(blogs, key=lambda blog: order.get(blog.status, 3))


def get_entry(
    session: Session,
    blog: Blog,
    entry_id: int,
    *,
    visible_to: User | None = None,
    role: str = "contributor",
) -> Entry:
    """Entry ``entry_id`` of ``blog``; with ``visible_to``, one that user (holding ``role``
    on the blog's desk) may know of.

    An entry the user may not see is "not there", in the same words as a missing one.
    """
    entry = session.get(Entry, entry_id) if 0 < entry_id < MAX_ID else None
    hidden = entry is not None and visible_to is not None and not entry.visible_to(visible_to, role)
    if entry is None or entry.blog_id != blog.id or hidden:
        raise NotFound(f"Live blog {blog.slug!r} has no entry {entry_id}.")
    return entry


def find_pinned(session: Session, blog: Blog, *, besides: Entry) -> list[Entry]:
    """Published entries of ``blog`` that are pinned, other than ``besides``."""
    query = select(Entry).where(
        Entry.blog_id == blog.id,
        Entry.status == "published",
        Entry.pinned.is_(True),
        Entry.id != besides.id,
    )
    return list(session.scalars(query))


def encode_cursor(moment: datetime, entry_id: int) -> str:
    raw = f"{moment.isoformat()}|{entry_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """(time, id) from a cursor; raises LiveblogError for anything that is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, entry_id = raw.split("|")
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not entry_id.isascii() or not 0 < int(entry_id) < MAX_ID:
            raise ValueError
        return parsed, int(entry_id)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise LiveblogError("The cursor is not valid; use the 'next' link of a listing.") from None


def editor_entries(
    session: Session,
    blog: Blog,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
    visible_to: User | None = None,
) -> list[Entry]:
    """Entries in every status, newest first (drafts by creation time), keyset-paginated.

    With ``visible_to`` (a contributor), only published entries and that user's own.
    """
    moment = func.coalesce(Entry.published_at, Entry.created_at)
    query = select(Entry).where(Entry.blog_id == blog.id)
    if visible_to is not None:
        query = query.where((Entry.status == "published") | (Entry.author_id == visible_to.id))
    if before is not None:
        query = query.where(tuple_(moment, Entry.id) < tuple_(before[0], before[1]))
    return list(session.scalars(query.order_by(moment.desc(), Entry.id.desc()).limit(limit)))


def published_entries(
    session: Session,
    blog: Blog,
    *,
    limit: int,
    before: tuple[datetime, int] | None = None,
    after: tuple[datetime, int] | None = None,
    oldest_first: bool = False,
    key_events_only: bool = False,
    exclude: Entry | None = None,
) -> list[Entry]:
    """What readers see: published entries, newest first (or ``oldest_first``),
    keyset-paginated by (time, id) from either side.

    Served by the (blog_id, status, published_at, id) index in both directions, so page 500
    costs what page 1 does.
    """
    query = select(Entry).where(Entry.blog_id == blog.id, Entry.status == "published")
    if key_events_only:
        query = query.where(Entry.key_event == true())
    if exclude is not None:
        query = query.where(Entry.id != exclude.id)
    position = tuple_(Entry.published_at, Entry.id)
    if before is not None:
        query = query.where(position < tuple_(before[0], before[1]))
    if after is not None:
        query = query.where(position > tuple_(after[0], after[1]))
    if oldest_first:
        query = query.order_by(Entry.published_at, Entry.id)
    else:
        query = query.order_by(Entry.published_at.desc(), Entry.id.desc())
    return list(session.scalars(query.limit(limit)))


def count_newer(session: Session, blog: Blog, entry: Entry) -> int:
    """How many published entries of ``blog`` come after ``entry`` in reading order."""
    assert entry.published_at is not None
    query = select(func.count()).where(
        Entry.blog_id == blog.id,
        Entry.status == "published",
        tuple_(Entry.published_at, Entry.id) > tuple_(entry.published_at, entry.id),
    )
    return session.scalar(query) or 0


def neighbours(session: Session, blog: Blog, entry: Entry) -> tuple[Entry | None, Entry | None]:
    """The published entries just before and just after ``entry`` in reading order."""
    assert entry.published_at is not None
    position = tuple_(Entry.published_at, Entry.id)
    here = tuple_(entry.published_at, entry.id)
    published = select(Entry).where(Entry.blog_id == blog.id, Entry.status == "published")
    older = published.where(position < here).order_by(Entry.published_at.desc(), Entry.id.desc())
    newer = published.where(position > here).order_by(Entry.published_at, Entry.id)
    return session.scalars(older.limit(1)).first(), session.scalars(newer.limit(1)).first()


def first_published_at(session: Session, blog: Blog) -> datetime | None:
    """When the blog's earliest published entry is dated (editors may back-date entries)."""
    query = select(func.min(Entry.published_at)).where(
        Entry.blog_id == blog.id, Entry.status == "published"
    )
    moment: datetime | None = session.scalar(query)
    return moment


FIRST_MAP_WITHIN = 200
"""How many of a blog's earliest published entries are searched for its first map."""


def first_map(session: Session, blog: Blog) -> dict[str, Any] | None:
    """The first map block among the blog's earliest published entries, if any.

    Only the first ``FIRST_MAP_WITHIN`` are read (through the timeline index), so a live
    page of a long blog costs the same as a short one's.
    """
    query = (
        select(Entry.blocks)
        .where(Entry.blog_id == blog.id, Entry.status == "published")
        .order_by(Entry.published_at, Entry.id)
        .limit(FIRST_MAP_WITHIN)
    )
    for blocks in session.scalars(query):
        for block in blocks:
            if block["type"] == "map":
                return dict(block)
    return None


def pinned_entry(session: Session, blog: Blog) -> Entry | None:
    """The published entry pinned to the top of the blog, if any."""
    query = select(Entry).where(
        Entry.blog_id == blog.id, Entry.status == "published", Entry.pinned == true()
    )
    return session.scalars(query.limit(1)).first()


def entry_moment(entry: Entry) -> datetime:
    """The time an entry sorts by in editor listings."""
    return entry.published_at or entry.created_at


def revisions(session: Session, entry: Entry) -> list[Revision]:
    query = select(Revision).where(Revision.entry_id == entry.id).order_by(Revision.version.desc())
    return list(session.scalars(query))


def last_editor_id(session: Session, entry: Entry) -> int:
    query = select(Revision.editor_id).where(Revision.entry_id == entry.id)
    editor_id = session.scalar(query.order_by(Revision.version.desc()).limit(1))
    return editor_id if editor_id is not None else entry.author_id


def append_change(session: Session, blog: Blog, kind: str, entry: Entry | None = None) -> Change:
    """Log a reader-visible change in the current transaction, with the blog's next seq.

    The increment happens in the database, so concurrent writers queue on the blog row
    (PostgreSQL) or the write lock (SQLite) and seqs stay gapless and unique.
    """
    now = utcnow()
    seq = session.execute(
        update(Blog)
        .where(Blog.id == blog.id)
        .values(last_seq=Blog.last_seq + 1, changed_at=now)
        .returning(Blog.last_seq)
    ).scalar_one()
    set_committed_value(blog, "last_seq", seq)
    set_committed_value(blog, "changed_at", now)
    if session.get_bind().dialect.name == "postgresql":
        # Delivered to listeners at commit, never for a rolled-back change (see live.py).
        session.execute(select(func.pg_notify(PG_CHANNEL, f"{blog.id}:{seq}")))
    change = Change(
        blog_id=blog.id, seq=seq, kind=kind, entry_id=entry.id if entry else None, created_at=now
    )
    session.add(change)
    session.info.setdefault("liveblog.appended", []).append(change)
    return change


def move_desk(session: Session, blog: Blog) -> int:
    """Move the blog's desk_seq in the current transaction, for editors' streams to wake:
    any write they see (an entry in any status, who is editing) calls this."""
    seq = session.execute(
        update(Blog)
        .where(Blog.id == blog.id)
        .values(desk_seq=Blog.desk_seq + 1)
        .returning(Blog.desk_seq)
    ).scalar_one()
    set_committed_value(blog, "desk_seq", seq)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_notify(PG_CHANNEL, f"{DESK_PREFIX}{blog.id}:{seq}")))
    session.info.setdefault("liveblog.desk", []).append((blog.id, seq))
    return seq


def log_published_entries(session: Session, blog: Blog) -> int:
    """Give each published entry of ``blog``, a blog with no change log yet (one being
    imported), its ``entry.published`` change: seqs 1..N in reading order, in the current
    transaction and in one statement, however many entries there are. Returns N."""
    assert blog.last_seq == 0, "the blog already has a change log"
    now = utcnow()
    published = select(
        literal(blog.id),
        func.row_number().over(order_by=(Entry.published_at, Entry.id)),
        literal("entry.published"),
        Entry.id,
        literal(now, UTCDateTime()),
    ).where(Entry.blog_id == blog.id, Entry.status == "published")
    columns = ["blog_id", "seq", "kind", "entry_id", "created_at"]
    session.execute(insert(Change).from_select(columns, published))
    count = session.scalar(select(func.count()).where(Change.blog_id == blog.id)) or 0
    session.execute(update(Blog).where(Blog.id == blog.id).values(last_seq=count, changed_at=now))
    set_committed_value(blog, "last_seq", count)
    set_committed_value(blog, "changed_at", now)
    if count:
        last = session.scalars(select(Change).where(Change.blog_id == blog.id, Change.seq == count))
        session.info.setdefault("liveblog.appended", []).append(last.one())
        if session.get_bind().dialect.name == "postgresql":
            session.execute(select(func.pg_notify(PG_CHANNEL, f"{blog.id}:{count}")))
    return count


def changes_since(session: Session, blog: Blog, seq: int, limit: int = 500) -> list[Change]:
    query = select(Change).where(Change.blog_id == blog.id, Change.seq > seq)
    return list(session.scalars(query.order_by(Change.seq).limit(limit)))


def due_entries(session: Session, now: datetime) -> list[tuple[int, int]]:
    """(blog id, entry id) of scheduled entries whose time has come, oldest first (a
    deleted blog's wait for good)."""
    query = (
        select(Entry.blog_id, Entry.id)
        .join(Blog, Entry.blog_id == Blog.id)
        .where(Entry.status == "scheduled", Entry.published_at <= now, Blog.status != BLOG_DELETED)
    )
    return [
        (blog_id, entry_id)
        for blog_id, entry_id in session.execute(query.order_by(Entry.published_at))
    ]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_token(session: Session, token: str) -> User | None:
    """The active user holding the unrevoked API token ``token``."""
    api_token = session.scalars(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).one_or_none()
    if api_token is None or api_token.revoked_at is not None or not api_token.user.active:
        return None
    return api_token.user


def pending_reviews(session: Session) -> dict[int, int]:
    """Blog id -> how many drafts wait for an editor's review."""
    query = (
        select(Entry.blog_id, func.count())
        .where(Entry.status == "draft", Entry.review == "pending")
        .group_by(Entry.blog_id)
    )
    return {blog_id: count for blog_id, count in session.execute(query)}


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(select(User).where(User.email == email.strip().lower())).one_or_none()


def get_users(session: Session, user_ids: list[int]) -> dict[int, User]:
    """The users among ``user_ids`` that exist, by id."""
    wanted = [user_id for user_id in user_ids if 0 < user_id < MAX_ID]
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}


def active_users(session: Session) -> list[User]:
    """Every active user, by name: who a byline may name."""
    query = select(User).where(User.active == true()).order_by(User.name, User.id)
    return list(session.scalars(query))


def find_author(session: Session, ref: str) -> User | None:
    """The active user whose author page is ``ref``: their slug, or else their id."""
    if not AUTHOR_REF.fullmatch(ref):
        return None
    query = select(User).where(User.active == true())
    if ref.isdigit():
        number = int(ref) if len(ref) <= len(str(MAX_ID)) else MAX_ID
        query = query.where(User.id == number) if 0 < number < MAX_ID else query.where(false())
    else:
        query = query.where(User.slug == ref)
    return session.scalars(query).one_or_none()


def blogs_crediting(session: Session, user: User) -> list[Blog]:
    """The blogs with a published entry whose byline names ``user``, locked, by id."""
    credited = select(Entry.blog_id).join(EntryAuthor, EntryAuthor.entry_id == Entry.id)
    credited = credited.where(EntryAuthor.user_id == user.id, Entry.status == "published")
    query = select(Blog).where(Blog.id.in_(credited)).order_by(Blog.id).with_for_update()
    return list(session.scalars(query))


def authored_entries(
    session: Session, user: User, *, limit: int, before: tuple[datetime, int] | None = None
) -> list[Entry]:
    """The published entries crediting ``user`` on blogs readers see, newest first, keyset-
    paginated by (time, id) like a live page."""
    query = (
        select(Entry)
        .join(EntryAuthor, EntryAuthor.entry_id == Entry.id)
        .join(Blog, Blog.id == Entry.blog_id)
        .where(
            EntryAuthor.user_id == user.id,
            Entry.status == "published",
            Blog.status.in_(READER_STATUSES),
        )
    )
    if before is not None:
        query = query.where(tuple_(Entry.published_at, Entry.id) < tuple_(before[0], before[1]))
    query = query.order_by(Entry.published_at.desc(), Entry.id.desc()).limit(limit)
    return list(session.scalars(query))


def reader_blogs_state(session: Session) -> list[tuple[int, int, datetime, datetime]]:
    """(id, last_seq, changed_at, updated_at) of every blog readers see: what a page drawn
    from all of them (an author's) depends on."""
    query = select(Blog.id, Blog.last_seq, Blog.changed_at, Blog.updated_at)
    query = query.where(Blog.status.in_(READER_STATUSES)).order_by(Blog.id)
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]
