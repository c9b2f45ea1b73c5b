"""The domain's tables as SQLAlchemy 2 typed models. Knows nothing of Flask."""

from datetime import UTC
from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import DateTime
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import MetaData
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
from sqlalchemy import text
from sqlalchemy.ext.associationproxy import AssociationProxy
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship
from sqlalchemy.types import TypeDecorator

BLOG_STATUSES = ("draft", "live", "ended")
# A deleted blog keeps its rows (and its slug) but is gone for readers and writers alike.
BLOG_DELETED = "deleted"
ENTRY_STATUSES = ("draft", "scheduled", "published", "deleted")
ROLES = ("contributor", "editor", "admin")
# The roles a user may hold on one blog's desk (admins are on every desk).
DESK_ROLES = ("contributor", "editor")
REVIEW_STATES = ("pending", "returned")
# The orders readers may read a blog in; an ended blog opens in its own ``ended_order``.
READING_ORDERS = ("newest", "oldest")


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, naive UTC in the database.

    SQLite keeps no time zone, so every timestamp is normalised here, once.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; liveblog stores aware UTC times only")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The public profile that makes the byline and the author page (accounts.read_profile).
    title: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    bio: Mapped[str] = mapped_column(String(1000), default="", server_default=text("''"))
    photo: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    links: Mapped[list[str] | None] = mapped_column(JSON)
    slug: Mapped[str | None] = mapped_column(String(80), unique=True, index=True)
    profile_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def can(self, role: str) -> bool:
        """Whether this user holds ``role`` or a stronger one."""
        return self.active and includes(self.role, role)


def includes(held: str, role: str) -> bool:
    """Whether the role ``held`` is ``role`` or a stronger one."""
    return ROLES.index(held) >= ROLES.index(role)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, so a leaked table grants nothing."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class EditorSession(Base):
    """A browser logged in to the editor. The cookie holds the secret and this row its
    SHA-256, so the session ends the moment the row goes: at log-out, or when its user's
    password, role or standing changes."""

    __tablename__ = "editor_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class Blog(Base):
    __tablename__ = "blogs"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    standfirst: Mapped[str] = mapped_column(Text, default="")
    top_image: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    label_format: Mapped[str] = mapped_column(String(100), default="UPDATE %H%M %Z")
    language: Mapped[str] = mapped_column(String(35), default="en")
    theme: Mapped[str] = mapped_column(String(64), default="default")
    # Opt in to providers' own widget scripts over quoted posts (third-party JavaScript).
    embed_widgets: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The https origins that may frame the embed pages; None: any site (they are read-only).
    embed_origins: Mapped[list[str] | None] = mapped_column(JSON)
    # How the live page opens once the blog has ended: "newest" first, or "oldest" (a story).
    ended_order: Mapped[str] = mapped_column(String(8), default="newest", server_default="newest")
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Moves with every write editors see (drafts and who is editing too): wakes their stream.
    desk_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BlogMember(Base):
    """A user on a blog's desk, with the role they write with there: never more than
    their own role (``desks.role_on`` takes the lesser of the two)."""

    __tablename__ = "blog_members"
    __table_args__ = (UniqueConstraint("blog_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Entry(Base):
    """One UPDATE. ``version`` is bumped by every UPDATE statement (optimistic locking)."""

    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_blog_timeline", "blog_id", "status", "published_at", "id"),
        Index("ix_entries_due", "status", "published_at"),
        Index("ix_entries_key_events", "blog_id", "status", "key_event", "published_at", "id"),
        Index("ix_entries_pinned", "blog_id", "status", "pinned"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    headline: Mapped[str | None] = mapped_column(String(300))
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    key_event: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A contributor's draft waiting for an editor ("pending"), or sent back ("returned").
    review: Mapped[str | None] = mapped_column(String(16))
    review_note: Mapped[str | None] = mapped_column(String(1000))

    blog: Mapped[Blog] = relationship()
    author: Mapped[User] = relationship(lazy="joined")
    """Who posted the entry: a contributor may change their own drafts."""
    # Every reader surface shows them, so they come with the entry in one query per batch.
    corrections: Mapped[list["Correction"]] = relationship(
        lazy="selectin", order_by="(Correction.created_at, Correction.id)"
    )
    bylines: Mapped[list["EntryAuthor"]] = relationship(
        order_by="EntryAuthor.position", cascade="all, delete-orphan", lazy="selectin"
    )
    authors: AssociationProxy[list[User]] = association_proxy("bylines", "user")

    __mapper_args__ = {"version_id_col": version}

    def credited(self) -> list[User]:
        """The authors the byline names, in order; the poster when none are stored."""
        return list(self.authors) or [self.author]

    def set_authors(self, users: list[User]) -> None:
        """Credit ``users``, in this order, keeping the rows of those already credited."""
        kept = {byline.user_id: byline for byline in self.bylines}
        bylines = []
        for position, user in enumerate(users):
            byline = kept.get(user.id) or EntryAuthor(user=user)
            byline.position = position
            bylines.append(byline)
        self.bylines = bylines

    def visible_to(self, user: User, role: str) -> bool:
        """Whether ``user``, holding ``role`` on this entry's blog, may know this entry
        exists: editors see every entry, others the published ones and their own
        (store.editor_entries applies the same rule in SQL)."""
        return includes(role, "editor") or self.status == "published" or self.author_id == user.id


class EntryAuthor(Base):
    """One author credited on an entry's byline, at ``position`` among its authors."""

    __tablename__ = "entry_authors"

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    user: Mapped[User] = relationship(lazy="joined")


class Revision(Base):
    """The state of an entry at one version: who made it, when, and what it said."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    version: Mapped[int] = mapped_column(Integer)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    editor: Mapped[User] = relationship(lazy="joined")


class Correction(Base):
    """A public note that the edit making ``version`` of an entry corrected it; readers see
    every note, oldest first. Who made it is the revision's editor."""

    __tablename__ = "corrections"
    __table_args__ = (UniqueConstraint("entry_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    version: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Change(Base):
    """One reader-visible change. ``seq`` is gapless and strictly increasing per blog."""

    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("blog_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginAttempt(Base):
    """A failed log-in, kept for a while so limits hold across processes and restarts."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email", "email", "created_at"),
        Index("ix_login_attempts_address", "address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EmbedLookup(Base):
    """A bare post or video link in an entry, waiting to be looked up (``pending``) or whose
    look-up failed (``failed``, with ``reason``). A row in the database, so a restart loses
    none; a process takes one by moving its ``due_at`` past the time the look-up may take."""

    __tablename__ = "embed_lookups"
    __table_args__ = (
        UniqueConstraint("entry_id", "url"),
        Index("ix_embed_lookups_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    url: Mapped[str] = mapped_column(String(2000))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Editing(Base):
    """Someone with an entry open for editing, until ``expires_at`` unless renewed."""

    __tablename__ = "editing"
    __table_args__ = (Index("ix_editing_blog", "blog_id", "expires_at"),)

    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")


class EntryRequest(Base):
    """The entry a request with an ``Idempotency-Key`` created: the same request sent again
    (a retry after an answer that never came) gets that entry rather than a second one."""

    __tablename__ = "entry_requests"
    __table_args__ = (Index("ix_entry_requests_created", "created_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    blog_id: Mapped[int] = mapped_column(ForeignKey("blogs.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    """The request body's SHA-256: a key sent again with another body is refused."""
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    entry: Mapped[Entry] = relationship()
